"""An independent NumPy implementation of QuaDMix sampling (SPEC §2) and test-data builders,
shared by the test_sampling_* modules. Written from the spec text, not from the SQL.
(Not a test module: it holds no tests.)"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pyarrow as pa

CRITERIA = [{"name": "edu", "direction": "higher"}, {"name": "ppl", "direction": "lower"},
            {"name": "dclm", "direction": "higher"}]


def golden_uniform(doc_id: str, seed: int) -> float:
    """The draw's uniform, written from its definition in docs/SAMPLING.md."""
    mask = 2 ** 64 - 1
    z = int.from_bytes(hashlib.md5(doc_id.encode()).digest()[8:16], "little") ^ ((seed * 0x9E3779B97F4A7C15) & mask)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return ((z ^ (z >> 31)) >> 12) / 2 ** 52


def make_corpus(n_docs: int, n_domains: int, rng: np.random.Generator, *, ties: bool = True,
                zero_token_share: float = 0.05) -> dict:
    """Random docs with tied scores (values on a coarse grid), some zero-token documents, one
    single-document domain and one domain whose documents all have 0 tokens."""
    doc_ids = [f"doc-{i:06d}" for i in range(n_docs)]
    domains = rng.integers(0, n_domains, n_docs).astype(str)
    domains = np.array([f"dom{d}" for d in domains], dtype=object)
    tokens = rng.lognormal(5, 1, n_docs).astype(np.int64)
    tokens[rng.random(n_docs) < zero_token_share] = 0
    if n_docs >= 3:
        domains[0] = "single"
        domains[1] = domains[2] = "zero"
        tokens[1] = tokens[2] = 0
    scores = {}
    for c in CRITERIA:
        raw = rng.normal(size=n_docs)
        scores[c["name"]] = np.round(raw, 1) if ties else raw
    return {"doc_id": doc_ids, "domain": domains, "n_tokens": tokens, "scores": scores}


def load_corpus(con, corpus: dict, scores_format: str = "long") -> None:
    n = len(corpus["doc_id"])
    con.register("qm_docs_in", pa.table({"doc_id": corpus["doc_id"], "n_tokens": corpus["n_tokens"],
                                        "text": ["x"] * n}))
    con.execute("CREATE OR REPLACE TABLE documents AS SELECT * FROM qm_docs_in")
    con.register("qm_dom_in", pa.table({"doc_id": corpus["doc_id"], "domain": list(corpus["domain"]),
                                       "confidence": [1.0] * n}))
    con.execute("CREATE OR REPLACE TABLE doc_domains AS SELECT * FROM qm_dom_in")
    if scores_format == "wide":
        con.register("qm_sc_in", pa.table({"doc_id": corpus["doc_id"], **corpus["scores"]}))
    else:
        names = list(corpus["scores"])
        con.register("qm_sc_in", pa.table({
            "doc_id": [d for _ in names for d in corpus["doc_id"]],
            "criterion": [c for c in names for _ in corpus["doc_id"]],
            "value": np.concatenate([corpus["scores"][c] for c in names])}))
    con.execute("CREATE OR REPLACE TABLE quality_scores AS SELECT * FROM qm_sc_in")
    for name in ("qm_docs_in", "qm_dom_in", "qm_sc_in"):
        con.unregister(name)


def load_params(con, rows: list[dict], table: str = "params") -> None:
    columns = ["param_set", "domain"] + [f"alpha_{c['name']}" for c in CRITERIA] + \
              ["lambda", "omega", "eta", "epsilon"]
    con.register("qm_params_in", pa.table({c: [r[c] for r in rows] for c in columns}))
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM qm_params_in")
    con.unregister("qm_params_in")


def param_row(param_set, domain, alphas, lam, omega, eta, eps) -> dict:
    row = {"param_set": param_set, "domain": domain, "lambda": lam, "omega": omega, "eta": eta, "epsilon": eps}
    row.update({f"alpha_{c['name']}": a for c, a in zip(CRITERIA, alphas)})
    return row


# ---- the reference --------------------------------------------------------------------------

def _share_at_or_below(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """For each x: Σ weights of entries with value <= value(x), divided by Σ weights (0 if none)."""
    total = weights.sum()
    if total == 0:
        return np.zeros(len(values))
    order = np.argsort(values, kind="stable")
    sorted_vals, cum = values[order], np.cumsum(weights[order].astype(np.float64))
    last = np.searchsorted(sorted_vals, values, side="right") - 1
    return cum[last] / float(total)


def _sigma(oriented: np.ndarray, tokens: np.ndarray, normalization: str) -> np.ndarray:
    if normalization == "percentile":
        return _share_at_or_below(oriented, tokens)
    if normalization == "minmax":
        lo, hi = oriented.min(), oriented.max()
        return (oriented - lo) / (hi - lo) if hi > lo else np.zeros(len(oriented))
    if normalization == "zscore":
        w = tokens.astype(np.float64)
        if w.sum() == 0:
            return np.zeros(len(oriented))
        mean = (w * oriented).sum() / w.sum()
        std = math.sqrt((w * (oriented - mean) ** 2).sum() / w.sum())
        return 1.0 / (1.0 + np.exp(-((oriented - mean) / std))) if std > 0 else np.zeros(len(oriented))
    raise ValueError(normalization)


def _s_function(r: float, lam: float, omega: float, eta: float, eps: float) -> float:
    if r <= omega:
        return (2.0 / (1.0 + math.exp(-lam * (omega - r)))) ** eta + eps
    return eps


def reference_mixture(corpus: dict, params: list[dict], seed: int, normalization: str = "percentile",
                      budget_tokens: float | None = None) -> dict:
    """{(param_set, doc_id): (rbar, s, copies)} following SPEC §2 step by step."""
    domains, tokens = corpus["domain"], corpus["n_tokens"]
    u = np.array([golden_uniform(d, seed) for d in corpus["doc_id"]])
    out = {}
    for param_set in sorted({p["param_set"] for p in params}):
        rows = {p["domain"]: p for p in params if p["param_set"] == param_set}
        s_all, r_all = np.zeros(len(tokens)), np.zeros(len(tokens))
        for dom in sorted(set(domains)):
            idx = np.flatnonzero(domains == dom)
            p = rows.get(dom, rows.get("*"))
            qbar = np.zeros(len(idx))
            for c in CRITERIA:
                raw = corpus["scores"][c["name"]][idx].astype(np.float64)
                oriented = -raw if c["direction"] == "higher" else raw
                qbar = qbar + p[f"alpha_{c['name']}"] * _sigma(oriented, tokens[idx], normalization)
            r_all[idx] = _share_at_or_below(qbar, tokens[idx])
            s_all[idx] = [_s_function(r, p["lambda"], p["omega"], p["eta"], p["epsilon"]) for r in r_all[idx]]
        if budget_tokens is not None:
            expected = float(np.sum(s_all * tokens))
            if expected > 0:
                s_all = s_all * (budget_tokens / expected)
        whole = np.floor(s_all)
        copies = whole.astype(np.int64) + (u < s_all - whole).astype(np.int64)
        for i, doc in enumerate(corpus["doc_id"]):
            out[(param_set, doc)] = (r_all[i], s_all[i], int(copies[i]))
    return out

