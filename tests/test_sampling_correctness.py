"""The SQL sampling (macros/quadmix via build_mixture) against the NumPy reference of SPEC §2,
the uniform against golden values, and the binned (approximate) mode against the exact one."""
import json

import duckdb
import numpy as np
import pytest

from quadmix_wh.sampling import build_mixture
from quadmix_wh.sampling.api import inputs_sql, mixture_sql
from quadmix_wh.sampling.render import render_macro
from quadmix_wh.sampling.uniform import doc_hash, uniform
from sampling_reference import (CRITERIA, _share_at_or_below, golden_uniform, load_corpus, load_params,
                                make_corpus, param_row, reference_mixture)

EXTREME_SETS = [
    param_row("base", "*", (0.5, 0.3, 0.2), 10.0, 0.4, 1.0, 0.05),
    param_row("lam0", "*", (1.0, 0.0, 0.0), 1e-12, 0.5, 1.0, 0.0),
    param_row("lam1000", "*", (0.2, 0.2, 0.6), 1000.0, 0.3, 2.0, 0.01),
    param_row("omega0", "*", (0.3, 0.3, 0.4), 50.0, 0.0, 1.5, 0.2),
    param_row("omega1", "*", (0.0, 1.0, 0.0), 5.0, 1.0, 3.0, 0.0),
    param_row("eta0", "*", (0.4, 0.4, 0.2), 5.0, 0.6, 0.0, 0.3),
    # per-domain rows override the default row
    param_row("perdomain", "*", (1 / 3, 1 / 3, 1 / 3), 20.0, 0.5, 1.0, 0.01),
    param_row("perdomain", "dom1", (0.9, 0.1, 0.0), 200.0, 0.1, 4.0, 0.5),
    param_row("perdomain", "nodocs", (0.9, 0.1, 0.0), 200.0, 0.1, 4.0, 0.5),  # a domain without docs
]


def _sql_result(con, seed, **kwargs) -> dict:
    build_mixture(con, params_table="params", seed=seed, out_table="scored", criteria=CRITERIA,
                  output="scored", **kwargs)
    rows = con.execute("SELECT param_set, doc_id, rbar, s, copies FROM scored").fetchall()
    return {(ps, d): (r, s, c) for ps, d, r, s, c in rows}


def _compare(sql: dict, ref: dict) -> None:
    assert set(sql) == set(ref)
    for key, (r_ref, s_ref, c_ref) in ref.items():
        r_sql, s_sql, c_sql = sql[key]
        assert abs(r_sql - r_ref) <= 1e-12, (key, r_sql, r_ref)
        assert abs(s_sql - s_ref) <= 1e-12 * max(1.0, abs(s_ref)), (key, s_sql, s_ref)
        assert c_sql == c_ref, (key, s_sql, c_sql, c_ref)


@pytest.mark.parametrize("normalization", ["percentile", "minmax", "zscore"])
@pytest.mark.parametrize("scores_format", ["long", "wide"])
def test_matches_numpy_reference(normalization, scores_format):
    rng = np.random.default_rng(7)
    corpus = make_corpus(3000, 6, rng)
    con = duckdb.connect()
    load_corpus(con, corpus, scores_format)
    load_params(con, EXTREME_SETS)
    sql = _sql_result(con, seed=11, normalization=normalization, scores_format=scores_format)
    _compare(sql, reference_mixture(corpus, EXTREME_SETS, seed=11, normalization=normalization))


def test_matches_reference_with_budget():
    rng = np.random.default_rng(3)
    corpus = make_corpus(2000, 4, rng)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, EXTREME_SETS[:3])
    sql = _sql_result(con, seed=5, budget_tokens=50_000)
    _compare(sql, reference_mixture(corpus, EXTREME_SETS[:3], seed=5, budget_tokens=50_000))
    expected = con.execute("SELECT param_set, sum(s * n_tokens) FROM scored GROUP BY 1").fetchall()
    for _ps, total in expected:
        assert abs(total - 50_000) < 1e-6


@pytest.mark.parametrize("n_docs", [1, 2, 3])
def test_tiny_corpora(n_docs):
    rng = np.random.default_rng(n_docs)
    corpus = make_corpus(n_docs, 1, rng)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, EXTREME_SETS)
    _compare(_sql_result(con, seed=1), reference_mixture(corpus, EXTREME_SETS, seed=1))


def test_single_document_rank_is_one():
    corpus = make_corpus(1, 1, np.random.default_rng(0), zero_token_share=0.0)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, EXTREME_SETS[:1])
    _sql_result(con, seed=0)
    assert con.execute("SELECT rbar FROM scored").fetchall() == [(1.0,)]


def test_reference_share_convention():
    # ties share the highest cumulative value; weights are tokens
    shares = _share_at_or_below(np.array([3.0, 1.0, 1.0, 2.0]), np.array([1, 2, 3, 4]))
    assert shares.tolist() == [1.0, 0.5, 0.5, 0.9]
    assert _share_at_or_below(np.array([1.0, 2.0]), np.array([0, 0])).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("rank_method", ["exact", "binned"])
def test_rank_ties_share_highest_cumulative_value(rank_method):
    corpus = {"doc_id": ["a", "b", "c", "d"], "domain": np.array(["x"] * 4, dtype=object),
              "n_tokens": np.array([1, 2, 3, 4]),
              "scores": {c["name"]: np.array([3.0, 1.0, 1.0, 2.0]) * (1 if c["direction"] == "lower" else -1)
                         for c in CRITERIA}}
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, EXTREME_SETS[:1])
    _sql_result(con, seed=0, rank_method=rank_method)
    got = dict(con.execute("SELECT doc_id, rbar FROM scored").fetchall())
    # b and c tie for best (3 + 2 tokens of 10 at or below them); d next; a worst. Exact in the
    # binned mode too: every distinct value sits alone in its bin.
    assert got == {"a": 1.0, "b": 0.5, "c": 0.5, "d": 0.9}


def test_uniform_golden_values():
    # md5('abc') = 900150983cd24fb0 d6963f7d28e17f72 (RFC 1321); bytes 8..15 read little-endian
    assert doc_hash("abc") == 0x727FE1287D3F96D6
    golden = {("abc", 1): 0.5956876745571418, ("abc", -3): 0.5235873059678608,
              ("doc-000001", 0): 0.47335004111119994, ("doc-000001", 1): 0.8141878804386502,
              ("ünïcode", 42): 0.8462961043784432, ("", 7): 0.5396923618970855}
    con = duckdb.connect()
    for (doc_id, seed), value in golden.items():
        assert uniform(doc_id, seed) == value == golden_uniform(doc_id, seed)
        sql = render_macro("quadmix_uniform", id_sql="d", seed=seed)
        assert con.execute(f"SELECT {sql} FROM (SELECT ? AS d)", [doc_id]).fetchone()[0] == value
    # and on many ids and seeds, SQL == Python bit for bit (u is an exact multiple of 2^-52)
    ids = [f"id-{i}" for i in range(2000)] + ["x" * 300, "42"]
    for seed in (0, 123456789, 2 ** 62 + 5):
        sql = render_macro("quadmix_uniform", id_sql="d", seed=seed)
        got = con.execute(f"SELECT d, {sql} FROM unnest(?) t(d)", [ids]).fetchall()
        assert all(u == uniform(d, seed) and 0.0 <= u < 1.0 for d, u in got)


def test_prepared_inputs_give_the_same_mixture():
    corpus = make_corpus(1500, 5, np.random.default_rng(9))
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, EXTREME_SETS[:3])
    con.execute(f"CREATE TABLE prepared AS {inputs_sql(criteria=CRITERIA)}")
    for method in ("exact", "binned"):
        raw = _sql_result(con, seed=4, rank_method=method)
        prepared = _sql_result(con, seed=4, rank_method=method, inputs_table="prepared")
        assert raw == prepared


def test_binned_mode_is_close_to_exact():
    rng = np.random.default_rng(1)
    corpus = make_corpus(20000, 3, rng, ties=False)
    corpus["scores"]["ppl"] = np.exp(corpus["scores"]["ppl"] * 2)     # a heavy tail, like perplexity
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, EXTREME_SETS[:1])
    exact = _sql_result(con, seed=2)
    binned = _sql_result(con, seed=2, rank_method="binned", bins=1024)
    errors = np.array([abs(exact[k][0] - binned[k][0]) for k in exact])
    assert errors.max() < 0.01 and errors.mean() < 5e-4
    differ = sum(exact[k][2] != binned[k][2] for k in exact)
    assert differ < 0.01 * len(exact)


def test_binned_mode_is_exact_on_discrete_scores():
    """Integer scores: every value alone in its bin, so σ is exact; with one criterion qbar = σ."""
    rng = np.random.default_rng(5)
    corpus = make_corpus(5000, 3, rng)
    for name in corpus["scores"]:
        corpus["scores"][name] = np.round(corpus["scores"][name] * 2)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, [param_row("one", "*", (1.0, 0.0, 0.0), 10.0, 0.4, 1.0, 0.05)])
    for method in ("exact", "binned"):
        build_mixture(con, params_table="params", seed=0, out_table=f"s_{method}", criteria=CRITERIA,
                      output="scored", rank_method=method)
    assert con.execute("SELECT count(*) FROM s_exact e JOIN s_binned b USING (doc_id) "
                       "WHERE e.qbar <> b.qbar").fetchone()[0] == 0


def test_binned_plan_has_no_join_blowup():
    """Regression: the binned mode once joined the per-criterion cdf tables to each other on the
    domain (bins^2 rows per domain; 244 s and a full disk at 5,000 documents). Every operator
    must now stay within a small multiple of the documents."""
    corpus = make_corpus(5000, 3, np.random.default_rng(1), ties=False)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, EXTREME_SETS[:2])
    query = mixture_sql(params_table="params", seed=2, criteria=CRITERIA, output="scored", rank_method="binned",
                        bins=16384)
    con.execute("PRAGMA enable_profiling = 'json'")
    profile = json.loads(con.execute(f"EXPLAIN ANALYZE {query}").fetchall()[0][1])
    con.execute("PRAGMA disable_profiling")
    seen = []

    def walk(node):
        seen.append((node["type"], node["intermediate_rows"]))
        for child in node.get("children", []):
            walk(child)
    for node in profile["operator"]:
        walk(node)
    assert sum(kind == "HASH_JOIN" for kind, _ in seen) >= 4                # the profile was read
    # the biggest relations: the long scores (3 rows a document), 2 parameter sets x 5,000 documents;
    # the old plan produced over 10^8 rows at 1,000 documents
    assert max(rows for _, rows in seen) <= 3 * 5000


def test_bad_input_rows_are_named():
    corpus = make_corpus(50, 2, np.random.default_rng(2))
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, EXTREME_SETS[:1])
    con.execute("DELETE FROM quality_scores WHERE doc_id = 'doc-000007' AND criterion = 'ppl'")
    with pytest.raises(duckdb.Error, match="doc-000007 has no score for criterion ppl"):
        _sql_result(con, seed=0)
    load_corpus(con, corpus)
    con.execute("UPDATE documents SET n_tokens = -3 WHERE doc_id = 'doc-000009'")
    with pytest.raises(duckdb.Error, match="doc-000009: n_tokens is negative"):
        _sql_result(con, seed=0)
    # a prepared table is checked too (unless it was built by inputs_sql, which checks)
    load_corpus(con, corpus)
    con.execute(f"CREATE TABLE prepared AS {inputs_sql(criteria=CRITERIA)}")
    con.execute("UPDATE prepared SET dclm = 'nan'::DOUBLE WHERE doc_id = 'doc-000011'")
    with pytest.raises(duckdb.Error, match="doc-000011: score for criterion dclm is nan"):
        _sql_result(con, seed=0, inputs_table="prepared")


def test_domain_without_parameters_gets_the_documented_default():
    """No row for the domain and no '*' row: one copy of each document (S = 1)."""
    corpus = make_corpus(300, 3, np.random.default_rng(4), zero_token_share=0.0)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, [param_row("p", "dom0", (1.0, 0.0, 0.0), 50.0, 0.2, 2.0, 0.0)])
    _sql_result(con, seed=3)
    rows = con.execute("SELECT domain, min(s), max(s), min(copies), max(copies) FROM scored "
                       "GROUP BY domain ORDER BY domain").fetchall()
    others = [r for r in rows if r[0] != "dom0"]
    assert others and all(r[1:] == (1.0, 1.0, 1, 1) for r in others)
    dom0 = next(r for r in rows if r[0] == "dom0")
    assert dom0[1] == 0.0 and dom0[2] > 1.0                       # its own row applies
