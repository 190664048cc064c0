"""`quadmix-wh experiment`: the shape of the paper's main comparison, at the scale of one machine.

Arms (vars.simulation.experiment.methods):
  random     every document kept with probability keep_fraction (the QuaDMix draw with omega = 0
             and epsilon = keep_fraction: same md5 uniform as every other mixture)
  top_k      one arm per criterion, top_<criterion>: the best documents by that criterion alone,
             across all domains, until keep_fraction of the corpus tokens
  union      the documents in any of the top_<criterion> selections
  quadmix    the mixture of the searched parameters (search_best_params, from `quadmix-wh search`)
Each arm trains the experiment proxy (larger than the simulation proxies) from scratch on the
same number of tokens (experiment.tokens, cycling a small mixture in a seeded order), once per
seed in experiment.seeds, and is evaluated on the simulation's target sets. Results go to the
table experiment_results (one row per arm and seed, replaced as a whole when the command ends)
and to a PNG plot.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from quadmix_wh.sampling import build_mixture
from quadmix_wh.sampling.api import inputs_sql
from quadmix_wh.sampling.params import SEARCH_TABLE
from quadmix_wh.simulation import results
from quadmix_wh.simulation.config import SimulationConfig, SimulationConfigError
from quadmix_wh.simulation.inputs import ProjectInputs
from quadmix_wh.simulation.loop import (Trainer, check_targets, data_seed, mixture_spans, target_sets,
                                        tokenize_inputs)
from quadmix_wh.simulation.packing import training_sequences
from quadmix_wh.simulation.proxy import build_proxy, config_json, llama_config
from quadmix_wh.simulation.token_store import TokenStore
from quadmix_wh.simulation.trainer import TrainSettings

RESULTS_TABLE = "experiment_results"
MIXTURES_TABLE = "experiment_mixtures"
PARAMS_TABLE = "experiment_params"


@dataclass
class ExperimentReport:
    rows: list[dict] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    seconds: float = 0.0
    proxy_parameters: int = 0

    def mean_losses(self, target: str) -> dict[str, float]:
        column = results.loss_column(target)
        methods = list(dict.fromkeys(r["method"] for r in self.rows))
        return {m: float(np.mean([r[column] for r in self.rows if r["method"] == m])) for m in methods}

    def summary_lines(self) -> list[str]:
        lines = [f"experiment: {len({r['method'] for r in self.rows})} arms x "
                 f"{len({r['seed'] for r in self.rows})} seed(s), proxy of {self.proxy_parameters:,} "
                 f"parameters, {self.seconds:.0f}s"]
        for target in self.targets:
            means = self.mean_losses(target)
            base = means.get("random")
            lines.append(f"target {target} (mean loss over seeds, lower is better):")
            for method, loss in sorted(means.items(), key=lambda kv: kv[1]):
                delta = f"  ({loss - base:+.4f} vs random)" if base is not None and method != "random" else ""
                lines.append(f"  {method:<20} {loss:.4f}{delta}")
        return lines


def arm_names(methods: list[str], criteria: list[str]) -> list[str]:
    names = []
    for method in methods:
        names += [f"top_{c}" for c in criteria] if method == "top_k" else [method]
    return names


def _sampled_arms_params(con, methods: list[str], criteria: list[dict], keep: float) -> bool:
    """experiment_params: 'random' as a QuaDMix parameter set, plus the searched one as 'quadmix'."""
    alphas = {f"alpha_{c['name']}": 1.0 / len(criteria) for c in criteria}
    rows = []
    if "random" in methods:
        # omega = 0: no document is in the boosted range (rbar > 0), so S = epsilon everywhere.
        rows.append({"param_set": "random", "domain": "*", **alphas, "lambda": 1.0, "omega": 0.0,
                     "eta": 1.0, "epsilon": float(keep)})
    if "quadmix" in methods:
        cur = con.execute(f"SELECT * FROM {SEARCH_TABLE}")
        names = [d[0] for d in cur.description]
        for values in cur.fetchall():
            row = dict(zip(names, values))
            rows.append({"param_set": "quadmix", "domain": row["domain"],
                         **{k: float(row[k]) for k in alphas}, "lambda": float(row["lambda"]),
                         "omega": float(row["omega"]), "eta": float(row["eta"]),
                         "epsilon": float(row["epsilon"])})
    if not rows:
        return False
    table = pa.Table.from_pylist(rows)
    con.register("_experiment_params", table)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {PARAMS_TABLE} AS SELECT * FROM _experiment_params")
    finally:
        con.unregister("_experiment_params")
    return True


def _selection_sql(inputs: ProjectInputs, methods: list[str], keep: float) -> str:
    """Global top-k per criterion and their union, as (method, doc_id, copies, tokens) rows.

    A document is in top_<c> when the tokens of the documents strictly before it (best first by
    c, ties by doc_id) are below keep_fraction of all tokens: the selection stops at the first
    document that reaches the fraction.
    """
    source = inputs_sql(criteria=inputs.criteria, scores_table=inputs.scores, domains_table=inputs.domains,
                        documents_table=inputs.documents, scores_format=inputs.options["scores_format"])
    ranks = []
    for c in inputs.criteria:
        order = "DESC" if c["direction"] == "higher" else "ASC"
        ranks.append(f'(sum(n_tokens) OVER (ORDER BY "{c["name"]}" {order}, doc_id ROWS BETWEEN UNBOUNDED '
                     f'PRECEDING AND CURRENT ROW) - n_tokens) / sum(n_tokens) OVER () < {float(keep)!r} '
                     f'AS in_{c["name"]}')
    parts = []
    if "top_k" in methods:
        parts += [f"SELECT 'top_{c['name']}' AS method, doc_id, 1::BIGINT AS copies, n_tokens AS tokens "
                  f"FROM ranked WHERE in_{c['name']}" for c in inputs.criteria]
    if "union" in methods:
        any_top = " OR ".join(f"in_{c['name']}" for c in inputs.criteria)
        parts.append(f"SELECT 'union' AS method, doc_id, 1::BIGINT, n_tokens FROM ranked WHERE {any_top}")
    return (f"WITH inputs AS ({source}), ranked AS (SELECT doc_id, n_tokens, {', '.join(ranks)} "
            f"FROM inputs) " + " UNION ALL ".join(parts))


def build_arm_mixtures(con, cfg: SimulationConfig, inputs: ProjectInputs) -> list[str]:
    """experiment_mixtures(method, doc_id, copies, tokens) for every arm; returns the arm names."""
    exp = cfg["experiment"]
    methods, keep = exp["methods"], exp["keep_fraction"]
    if "quadmix" in methods and not results.table_exists(con, SEARCH_TABLE):
        raise SimulationConfigError(f"experiment: method 'quadmix' needs the table {SEARCH_TABLE}; run "
                                    "`quadmix-wh simulate`, `fit` and `search` first (or leave 'quadmix' "
                                    "out of vars.simulation.experiment.methods)")
    parts = []
    if _sampled_arms_params(con, methods, inputs.criteria, keep):
        build_mixture(con, params_table=PARAMS_TABLE, seed=cfg["seed"], out_table="_experiment_sampled",
                      criteria=inputs.criteria, scores_table=inputs.scores, domains_table=inputs.domains,
                      documents_table=inputs.documents, **inputs.options)
        parts.append("SELECT param_set AS method, doc_id, copies, tokens FROM _experiment_sampled")
    if "top_k" in methods or "union" in methods:
        parts.append(_selection_sql(inputs, methods, keep))
    con.execute(f"CREATE OR REPLACE TABLE {MIXTURES_TABLE} AS " + " UNION ALL ".join(f"({p})" for p in parts))
    con.execute("DROP TABLE IF EXISTS _experiment_sampled")
    return arm_names(methods, inputs.criterion_names)


def run_experiment(con, cfg: SimulationConfig, inputs: ProjectInputs, store: TokenStore,
                   on_arm_finished: Callable[[dict], None] | None = None) -> ExperimentReport:
    exp = cfg["experiment"]
    check_targets(con, cfg["targets"])
    inputs.check(con)
    arms = build_arm_mixtures(con, cfg, inputs)
    tokenize_inputs(store, inputs.documents, cfg["targets"])
    evals = target_sets(con, store, cfg["targets"], cfg["eval_tokens"], cfg["seq_len"])
    model_config = llama_config(exp["proxy"], store.vocab_size, cfg["seq_len"])
    settings = TrainSettings.from_config(cfg)
    trainer = Trainer.from_config(cfg)
    tokens = store.tokens()
    report = ExperimentReport(targets=list(cfg["targets"]),
                              proxy_parameters=sum(p.numel() for p in build_proxy(model_config, 0).parameters()))
    jobs = []
    for arm in arms:
        spans = _arm_spans(con, store, inputs, arm)
        available = int(spans[:, 1].sum()) if len(spans) else 0
        if available == 0:
            raise SimulationConfigError(f"experiment: arm {arm!r} selects no document (keep_fraction "
                                        f"{exp['keep_fraction']} too small, or an empty searched mixture)")
        documents = con.execute(f"SELECT count(*) FROM {MIXTURES_TABLE} WHERE method = ? AND copies > 0",
                                [arm]).fetchall()[0][0]
        for seed in exp["seeds"]:
            sequences = training_sequences(tokens, spans, exp["tokens"], cfg["seq_len"], store.eos,
                                           data_seed(seed, arm))
            jobs.append(({"method": arm, "seed": seed, "documents": documents, "mixture_tokens": available,
                          "tokens": exp["tokens"]}, sequences))
    started = time.perf_counter()
    for start in range(0, len(jobs), trainer.group_size):
        batch = jobs[start:start + trainer.group_size]
        t0 = time.perf_counter()
        losses = trainer.train(model_config, [j[1] for j in batch], evals, [j[0]["seed"] for j in batch],
                               settings)
        seconds = (time.perf_counter() - t0) / len(batch)
        for (row, _), loss in zip(batch, losses):
            row = {**row, **{results.loss_column(t): loss[t] for t in cfg["targets"]}, "seconds": seconds}
            report.rows.append(row)
            if on_arm_finished is not None:
                on_arm_finished(row)
    report.seconds = time.perf_counter() - started
    store_results(con, report, config_json(model_config))
    return report


def _arm_spans(con, store: TokenStore, inputs: ProjectInputs, arm: str) -> np.ndarray:
    con.execute(f"CREATE OR REPLACE TEMP VIEW _experiment_arm AS SELECT method AS param_set, doc_id, copies "
                f"FROM {MIXTURES_TABLE}")
    return mixture_spans(con, store, "_experiment_arm", inputs.documents, arm)


def store_results(con, report: ExperimentReport, model_config: str) -> None:
    loss_columns = [results.loss_column(t) for t in report.targets]
    table = pa.table({
        "method": [r["method"] for r in report.rows], "seed": [r["seed"] for r in report.rows],
        **{c: [float(r[c]) for r in report.rows] for c in loss_columns},
        "documents": [int(r["documents"]) for r in report.rows],
        "mixture_tokens": [int(r["mixture_tokens"]) for r in report.rows],
        "tokens": [int(r["tokens"]) for r in report.rows], "seconds": [float(r["seconds"]) for r in report.rows],
        "proxy_parameters": [report.proxy_parameters] * len(report.rows),
        "model_config": [model_config] * len(report.rows)})
    con.register("_experiment_rows", table)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE OR REPLACE TABLE {RESULTS_TABLE} AS SELECT *, current_localtimestamp() AS created_at "
                    "FROM _experiment_rows")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_experiment_rows")


def plot(report: ExperimentReport, path: Path) -> Path:
    """Bar chart per target: mean loss per arm, whiskers spanning the seeds' min..max."""
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    methods = list(dict.fromkeys(r["method"] for r in report.rows))
    fig, axes = plt.subplots(1, len(report.targets), figsize=(max(6.0, 1.3 * len(methods)) * len(report.targets), 4.5),
                             squeeze=False)
    for ax, target in zip(axes[0], report.targets):
        column = results.loss_column(target)
        values = [[r[column] for r in report.rows if r["method"] == m] for m in methods]
        means = np.array([np.mean(v) for v in values])
        low = means - np.array([np.min(v) for v in values])
        high = np.array([np.max(v) for v in values]) - means
        colors = ["tab:green" if m == "quadmix" else "tab:gray" if m == "random" else "tab:blue" for m in methods]
        ax.bar(methods, means, yerr=[low, high], color=colors, capsize=4)
        span = max(means.max() - means.min(), 1e-3)
        ax.set_ylim(means.min() - 1.5 * span, means.max() + 1.0 * span)
        ax.set_ylabel(f"loss on {target} (lower is better)")
        size = (f"{report.proxy_parameters / 1e6:.1f}M" if report.proxy_parameters >= 100_000
                else f"{report.proxy_parameters:,}")
        ax.set_title(f"same token budget, proxy of {size} parameters")
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
