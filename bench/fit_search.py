"""LightGBM fit + 100,000-candidate search on 3,000 synthetic results x 182 features.

The issue's target: fit and search together in under 10 s on these machines. Both steps run
through the commands' own Python API (`quadmix_wh.regression.fit`, `quadmix_wh.search.search`)
on an in-memory warehouse, so the timings include what `quadmix-wh fit` / `search` really do:

  fit      read the table, split 80/20, LightGBM on the training split + held-out metrics, the
           ridge baseline, then the stored LightGBM refit on all rows (two LightGBM fits in all)
  search   draw 100,000 candidates with Algorithm 1, predict them, average the top 10, store

Synthetic results: 3,000 parameter sets drawn with Algorithm 1 (26 domains x 3 criteria ->
(3 + 4) x 26 = 182 features, the paper's setting) with the default ranges, and a loss that
depends non-linearly on a few of them (domain weight through omega and eta, a preferred
criterion weight, saturation in log lambda) plus noise - enough structure that the held-out
Spearman of the fit means something, printed next to the linear baseline's.

Baseline in the same run: the closed-form ridge (NumPy) fit on the same rows and its prediction
of the same 100,000 candidates - what a linear regression would cost for the same job.

Usage: python -m bench.fit_search [--results 3000] [--candidates 100000] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import time

import duckdb
import numpy as np
import pyarrow as pa

from quadmix_wh.regression import FIT_DEFAULTS, fit, predict_ridge, train_ridge, train_lgb
from quadmix_wh.search import search
from quadmix_wh.simulation.algorithm1 import draw_parameters, feature_names, flatten
from quadmix_wh.simulation.config import DEFAULTS

N_DOMAINS, CRITERIA = 26, ["edu", "dclm", "ppl"]
RANGES = {k: DEFAULTS[k] for k in ("lambda_scale", "lambda_max", "omega_range", "eta_range", "epsilon_range")}


def synthetic_loss(params: np.ndarray, seed: int) -> np.ndarray:
    """A smooth, non-linear loss of the parameters (lower is better) plus noise."""
    omega, eta, lam = params[..., 3 + 1], params[..., 3 + 2], params[..., 3]
    share = omega * (1 + eta)                                  # rough kept mass per domain
    share = share / share.sum(axis=1, keepdims=True)
    useful = np.linspace(1.0, 0.2, N_DOMAINS)                  # earlier domains help the target more
    mismatch = np.abs(share - useful / useful.sum()).sum(axis=1)
    criterion = (params[..., 0] * useful).sum(axis=1) / useful.sum()   # weight on criterion 0
    steep = np.tanh(np.log10(lam) - 1.5).mean(axis=1)
    noise = np.random.default_rng(seed).normal(0.0, 0.01, len(params))
    return 4.0 + 1.5 * mismatch - 0.4 * criterion - 0.1 * steep + noise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=3000)
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    domains = [f"d{i:02d}" for i in range(N_DOMAINS)]
    names = feature_names(domains, CRITERIA)
    params = draw_parameters(args.results, N_DOMAINS, len(CRITERIA), RANGES, seed=7)
    X = flatten(params)
    y = synthetic_loss(params, seed=7)
    print(f"fit + search on {args.results:,} synthetic results x {X.shape[1]} features, "
          f"{args.candidates:,} candidates, top {args.top_k}, {args.threads} thread(s); "
          f"load average at start {os.getloadavg()[0]:.2f}")

    con = duckdb.connect()
    table = pa.table({"param_set": [f"sim_{i:05d}" for i in range(len(X))],
                      **{n: X[:, j] for j, n in enumerate(names)}, "loss_target": y})
    con.register("_bench", table)
    con.execute("CREATE TABLE bench_results AS SELECT * FROM _bench")
    con.unregister("_bench")
    settings = {**FIT_DEFAULTS, "num_threads": args.threads}

    started, cpu = time.perf_counter(), time.process_time()
    report = fit(con, table="bench_results", features=names, target="loss_target", settings=settings)
    fit_seconds, fit_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    found = search(con, ranges=RANGES, n_candidates=args.candidates, top_k=args.top_k, seed=1,
                   threads=args.threads)
    search_seconds, search_cpu = time.perf_counter() - started, time.process_time() - cpu

    # Pieces, for the record: one LightGBM fit on all rows alone, and prediction alone.
    started = time.perf_counter()
    booster = train_lgb(X, y, names, settings)
    one_fit = time.perf_counter() - started
    candidates = flatten(draw_parameters(args.candidates, N_DOMAINS, len(CRITERIA), RANGES, seed=1))
    started = time.perf_counter()
    booster.predict(candidates, num_threads=args.threads)
    predict_seconds = time.perf_counter() - started

    # Baseline, same rows and candidates: closed-form ridge fit + predict.
    started = time.perf_counter()
    ridge = train_ridge(X, y, settings["ridge_alpha"])
    ridge_fit = time.perf_counter() - started
    started = time.perf_counter()
    predict_ridge(ridge, candidates)
    ridge_predict = time.perf_counter() - started

    total = fit_seconds + search_seconds
    lgb_m, lin_m = report.metrics["lightgbm"], report.metrics["linear"]
    print(f"  fit     {fit_seconds:7.2f} s  (quadmix_wh.regression.fit: split fit + metrics + ridge + refit; "
          f"one LightGBM fit on all rows {one_fit:.2f} s, {settings['num_boost_round']} rounds)")
    print(f"  search  {search_seconds:7.2f} s  (quadmix_wh.search.search: draw + predict + average + store; "
          f"prediction alone {predict_seconds:.2f} s)")
    print(f"  total   {total:7.2f} s  (target < 10 s: {'met' if total < 10 else 'NOT met'}); CPU time "
          f"fit {fit_cpu:.2f} s + search {search_cpu:.2f} s = {fit_cpu + search_cpu:.2f} s (with --threads 1 "
          "this is the wall time the steps would take on an idle core)")
    print(f"  held-out ({report.n_test} rows): LightGBM Spearman {lgb_m['spearman']:.4f} MAE {lgb_m['mae']:.4f}; "
          f"linear Spearman {lin_m['spearman']:.4f} MAE {lin_m['mae']:.4f}")
    print(f"  search: best predicted {found.best_predicted:.4f}, top-{args.top_k} mean "
          f"{found.top_k_mean_predicted:.4f}, averaged set predicted {found.averaged_predicted:.4f}; "
          f"training-set minimum {y.min():.4f}")
    baseline = ridge_fit + ridge_predict
    print(f"  baseline ridge (NumPy) fit {ridge_fit:.3f} s + predict {ridge_predict:.3f} s = {baseline:.3f} s")
    print(f"  => LightGBM fit + search / ridge fit + predict: x{total / baseline:.1f} the time")


if __name__ == "__main__":
    main()
