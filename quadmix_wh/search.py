"""`quadmix-wh search`: draw candidates with Algorithm 1, predict their loss, average the best.

The averaged parameter set goes to `search_best_params` (sampling_params shape, param_set
'searched'), which the mixture models read when `vars.quadmix.params_source` is `search`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from quadmix_wh.regression import FitError, load_fit
from quadmix_wh.simulation.algorithm1 import (SHAPE_PARAMS, draw_parameters, flatten, param_columns,
                                              to_table)

BEST_TABLE, SUMMARY_TABLE = "search_best_params", "search_summary"
CHUNK = 25_000  # candidates predicted per call: bounds memory at 100k+ candidates


@dataclass
class SearchReport:
    fit_id: str
    target: str
    n_candidates: int
    top_k: int
    best_predicted: float
    top_k_mean_predicted: float
    averaged_predicted: float
    seconds: float
    params: np.ndarray            # [n_domains, n_criteria + 4]
    domains: list[str]
    criteria: list[str]


def grid_of(features: list[str]) -> tuple[list[str], list[str]]:
    """(domains, criteria) of a fit on `<domain>__<param>` features, checking the layout is complete."""
    domains: list[str] = []
    params: list[str] = []
    for name in features:
        if "__" not in name:
            raise FitError(f"fit features are not QuaDMix parameters ({name!r} is not '<domain>__<param>'); "
                           "search needs a fit on the simulation's parameter vectors")
        domain, param = name.rsplit("__", 1)
        if domain not in domains:
            domains.append(domain)
        if param not in params:
            params.append(param)
    criteria = [p[len("alpha_"):] for p in params if p.startswith("alpha_")]
    expected = [f"{d}__{p}" for d in domains for p in param_columns(criteria)]
    if expected != features:
        raise FitError("fit features do not form a full <domain> x (alpha_*, lambda, omega, eta, epsilon) "
                       "grid in Algorithm 1's order; refit on the simulation's parameter vectors")
    return domains, criteria


def _predict(booster, X: np.ndarray, threads: int) -> np.ndarray:
    return np.concatenate([booster.predict(X[i:i + CHUNK], num_threads=threads)
                           for i in range(0, len(X), CHUNK)])


def average_top(params: np.ndarray, predicted: np.ndarray, top_k: int, n_criteria: int) -> np.ndarray:
    """Mean of the `top_k` lowest-loss candidates; alphas renormalized so they sum to 1 exactly."""
    best = np.argsort(predicted, kind="stable")[:top_k]
    mean = params[best].mean(axis=0)
    mean[:, :n_criteria] /= mean[:, :n_criteria].sum(axis=1, keepdims=True)
    return mean


def search(con, *, ranges: dict, fit_id: str = "default", n_candidates: int = 100_000, top_k: int = 10,
           seed: int = 1, threads: int = 2) -> SearchReport:
    if isinstance(n_candidates, bool) or not isinstance(n_candidates, int) or n_candidates <= 0:
        raise FitError(f"--candidates: must be a positive integer, got {n_candidates!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 0 < top_k <= n_candidates:
        raise FitError(f"--top-k: must be in 1..{n_candidates}, got {top_k!r}")
    started = time.perf_counter()
    fitted = load_fit(con, fit_id)
    domains, criteria = grid_of(fitted["features"])
    candidates = draw_parameters(n_candidates, len(domains), len(criteria), ranges, seed)
    predicted = _predict(fitted["booster"], flatten(candidates), threads)
    best = average_top(candidates, predicted, top_k, len(criteria))
    averaged = float(fitted["booster"].predict(flatten(best[None]), num_threads=threads)[0])
    top = np.sort(predicted)[:top_k]
    report = SearchReport(fit_id, fitted["target"], n_candidates, top_k, float(top[0]), float(top.mean()),
                          averaged, time.perf_counter() - started, best, domains, criteria)
    store(con, report, seed)
    return report


def store(con, report: SearchReport, seed: int) -> None:
    best = to_table(report.params[None], ["searched"], report.domains, report.criteria)
    summary = pa.table({"fit_id": [report.fit_id], "target": [report.target],
                        "n_candidates": [report.n_candidates], "top_k": [report.top_k], "seed": [seed],
                        "best_predicted": [report.best_predicted],
                        "top_k_mean_predicted": [report.top_k_mean_predicted],
                        "averaged_predicted": [report.averaged_predicted], "seconds": [report.seconds]})
    con.register("_search_best", best)
    con.register("_search_summary", summary)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {BEST_TABLE} AS SELECT * FROM _search_best ORDER BY domain")
        con.execute(f"CREATE OR REPLACE TABLE {SUMMARY_TABLE} AS SELECT *, current_localtimestamp() AS created_at "
                    "FROM _search_summary")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_search_best")
        con.unregister("_search_summary")


__all__ = ["search", "SearchReport", "SHAPE_PARAMS"]
