"""Training several proxies at once on CPU: one proxy per core, each on a single thread.

A tiny proxy spread over all cores spends much of each step in thread hand-offs and in
memory-bound kernels that do not scale with threads; one proxy per core keeps every core busy
on whole matrices with no synchronization. Python threads suffice: torch releases the GIL inside
each kernel, and the per-step Python work is small next to a step's arithmetic.

Every proxy is computed with exactly one intra-op thread, so its losses are bit-identical
whatever the number of workers, the order of the runs or which runs share a batch - which is what
makes a resumed simulation reproduce an uninterrupted one.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from quadmix_wh.simulation.proxy import build_proxy
from quadmix_wh.simulation.trainer import TrainSettings, torch_threads, train_model


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def train_parallel(config, sequences: list[np.ndarray], eval_sets: dict[str, np.ndarray],
                   seeds: list[int], settings: TrainSettings, workers: int) -> list[dict[str, float]]:
    """Train len(seeds) proxies, `workers` at a time, each single-threaded; losses in input order."""
    if len(sequences) != len(seeds) or not seeds:
        raise ValueError("train_parallel needs one sequence array per seed (and at least one)")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    # The intra-op thread count is process-wide in torch: set it once for all workers.
    with torch_threads(1):
        if workers == 1 or len(seeds) == 1:
            return [train_model(build_proxy(config, seed), s, eval_sets, settings, "cpu")
                    for s, seed in zip(sequences, seeds)]
        # Initialization draws from torch's global generator: build the models here, in order,
        # and let the threads only train them (training draws no random numbers).
        models = [build_proxy(config, seed) for seed in seeds]
        with ThreadPoolExecutor(max_workers=min(workers, len(seeds))) as pool:
            futures = [pool.submit(train_model, m, s, eval_sets, settings, "cpu")
                       for m, s in zip(models, sequences)]
            return [f.result() for f in futures]
