"""The simulation loop: for every unfinished parameter set, train a proxy on its mixture, log the loss.

Resumable: a run whose row is in `sim_results` with the same configuration fingerprint and the
same run fingerprint (its parameters and its mixture) is skipped, so a killed simulation continues
with the next unfinished run; each row is inserted in its own transaction, so the table never
holds a partial row. Rows made with another configuration are a conflict (--fresh replaces them).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from quadmix_wh.simulation import results
from quadmix_wh.simulation.batched import train_group
from quadmix_wh.simulation.config import SimulationConfig, SimulationConfigError
from quadmix_wh.simulation.packing import eval_sequences, expand_copies, training_sequences
from quadmix_wh.simulation.parallel import available_cores, train_parallel
from quadmix_wh.simulation.proxy import config_json, llama_config
from quadmix_wh.simulation.token_store import TokenStore
from quadmix_wh.simulation.trainer import TrainSettings, resolve_device, torch_threads, train_single


@dataclass
class SimulationReport:
    finished: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    tokens_trained: int = 0
    batching: str = ""
    group_size: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_trained / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Trainer:
    """How runs are trained: the device, the batching scheme and how many proxies at once."""
    device: torch.device
    batching: str        # per_core | stacked | none
    group_size: int

    @classmethod
    def from_config(cls, cfg: SimulationConfig) -> "Trainer":
        device = resolve_device(cfg["device"])
        batching = cfg["batching"]
        if batching == "auto":
            batching = "stacked" if device.type == "cuda" else "per_core"
        if batching == "per_core" and device.type != "cpu":
            raise SimulationConfigError("vars.simulation.batching: per_core trains on CPU cores; "
                                        f"use stacked (or auto) on device {device}")
        size = cfg["group_size"]
        if size == "auto":
            size = {"per_core": available_cores(), "stacked": 8, "none": 1}[batching]
        return cls(device, batching, int(size))

    def train(self, model_config, sequences, eval_sets, seeds, settings) -> list[dict[str, float]]:
        if self.batching == "per_core":
            return train_parallel(model_config, sequences, eval_sets, seeds, settings, self.group_size)
        if self.batching == "stacked" and len(seeds) > 1:
            return train_group(model_config, sequences, eval_sets, seeds, settings, self.device)
        with torch_threads(available_cores() if self.device.type == "cpu" else None):
            return [train_single(model_config, s, eval_sets, seed, settings, self.device)
                    for s, seed in zip(sequences, seeds)]


def data_seed(seed: int, param_set: str) -> int:
    """Seed of a run's document order: stable across processes (no Python hash())."""
    return int(hashlib.sha256(f"{seed}:{param_set}".encode()).hexdigest()[:8], 16)


def check_targets(con, targets: list[str]) -> None:
    """Every target set must be a table with (doc_id, text) and at least one non-empty text."""
    for target in targets:
        if not results.table_exists(con, target):
            raise SimulationConfigError(f"vars.simulation.targets: table {target!r} does not exist")
        columns = {r[0] for r in con.execute(f'DESCRIBE "{target}"').fetchall()}
        missing = {"doc_id", "text"} - columns
        if missing:
            raise SimulationConfigError(f"vars.simulation.targets: table {target!r} has no column(s) "
                                        f"{', '.join(sorted(missing))} (a target set needs doc_id, text)")
        count = con.execute(f'SELECT count(*) FROM "{target}" WHERE text IS NOT NULL '
                            "AND length(text) > 0").fetchall()[0][0]
        if count == 0:
            raise SimulationConfigError(f"vars.simulation.targets: target set {target!r} is empty")


def check_inputs(con, cfg: SimulationConfig, param_table: str, mixture_table: str) -> list[str]:
    """Fail before any training: missing/empty target sets, no parameter sets, no mixture."""
    check_targets(con, cfg["targets"])
    for table in (param_table, mixture_table):
        if not results.table_exists(con, table):
            raise SimulationConfigError(f"simulation: table {table!r} does not exist")
    names = [r[0] for r in con.execute(f'SELECT DISTINCT param_set FROM "{param_table}" '
                                       "ORDER BY param_set").fetchall()]
    if not names:
        raise SimulationConfigError(f"simulation: no parameter sets in {param_table!r} (n_param_sets = 0?)")
    return names


def run_fingerprints(con, param_table: str, mixture_table: str, documents_table: str) -> dict[str, str]:
    """Per parameter set, a hash of its parameter rows and of its mixture (doc, copies, text)."""
    cols = [r[0] for r in con.execute(f'DESCRIBE "{param_table}"').fetchall() if r[0] != "param_set"]
    row_text = "concat_ws(',', " + ", ".join(f'"{c}"' for c in cols) + ")"
    rows = con.execute(f"""
        WITH p AS (SELECT param_set, md5(string_agg({row_text}, ';' ORDER BY domain)) AS h
                   FROM "{param_table}" GROUP BY param_set),
             m AS (SELECT m.param_set, md5(string_agg(m.doc_id || ':' || m.copies || ':' || md5(d.text), ';'
                                                      ORDER BY m.doc_id)) AS h
                   FROM "{mixture_table}" m JOIN "{documents_table}" d USING (doc_id)
                   WHERE m.copies > 0 GROUP BY m.param_set)
        SELECT p.param_set, md5(p.h || '|' || coalesce(m.h, '')) FROM p LEFT JOIN m USING (param_set)
        """).fetchall()
    return dict(rows)


def mixture_spans(con, store: TokenStore, mixture_table: str, documents_table: str,
                  param_set: str) -> np.ndarray:
    rows = con.execute(
        f"""SELECT i."offset", i.length, m.copies, i.doc_id IS NULL AS missing
            FROM "{mixture_table}" m LEFT JOIN token_index i
              ON i.doc_id = m.doc_id AND i.tokenizer = ? AND i.source_table = ?
            WHERE m.param_set = ? AND m.copies > 0 ORDER BY m.doc_id""",
        [store.key, documents_table, param_set]).fetchall()
    if any(r[3] for r in rows):
        raise ValueError(f"{mixture_table}: param_set {param_set!r} holds documents that are not in "
                         f"{documents_table!r} (stale mixture?)")
    if not rows:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.array([r[:3] for r in rows], dtype=np.int64)
    return expand_copies(arr[:, :2], arr[:, 2])


def target_sets(con, store: TokenStore, targets: list[str], eval_tokens: int,
                seq_len: int) -> dict[str, np.ndarray]:
    """Evaluation sequences per target: documents in md5(doc_id) order, each its fair share."""
    tokens = store.tokens()
    sets = {}
    for target in targets:
        spans = store.spans(target)
        order = [r[0] for r in con.execute(f'SELECT doc_id FROM "{target}" WHERE text IS NOT NULL '
                                           "ORDER BY md5(doc_id), doc_id").fetchall()]
        ordered = np.array([spans[k] for k in order if k in spans], dtype=np.int64).reshape(-1, 2)
        sets[target] = eval_sequences(tokens, ordered, eval_tokens, seq_len, store.eos, target)
    return sets


def tokenize_inputs(store: TokenStore, documents_table: str, targets: list[str]) -> int:
    added = store.ensure(documents_table)
    for target in targets:
        added += store.ensure(target)
    return added


def targets_fingerprint(con, targets: list[str]) -> str:
    parts = [con.execute(f"SELECT md5(string_agg(doc_id || ':' || md5(text), ';' ORDER BY doc_id)) "
                         f'FROM "{t}" WHERE text IS NOT NULL').fetchall()[0][0] or "" for t in targets]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def run_simulation(con, cfg: SimulationConfig, store: TokenStore, *, param_table: str = "sim_param_sets",
                   mixture_table: str = "sim_mixture", documents_table: str = "documents",
                   fresh: bool = False, max_runs: int | None = None,
                   on_run_finished: Callable[[dict, int, int], None] | None = None) -> SimulationReport:
    """Train one proxy per unfinished parameter set.

    `on_run_finished(row, done, total)` is called after each row is committed (progress display).
    `max_runs` stops after that many new runs (the rest is left for a later call).
    """
    names = check_inputs(con, cfg, param_table, mixture_table)
    trainer = Trainer.from_config(cfg)
    tokenize_inputs(store, documents_table, cfg["targets"])
    evals = target_sets(con, store, cfg["targets"], cfg["eval_tokens"], cfg["seq_len"])
    fingerprint = hashlib.sha256(f"{cfg.training_fingerprint()}|{store.key}|"
                                 f"{targets_fingerprint(con, cfg['targets'])}".encode()).hexdigest()[:16]
    run_fps = run_fingerprints(con, param_table, mixture_table, documents_table)
    results.ensure_results_table(con, cfg["targets"], fresh=fresh)
    done = results.finished_runs(con, fingerprint, run_fps)
    report = SimulationReport(skipped=[n for n in names if n in done], batching=trainer.batching,
                              group_size=trainer.group_size)
    model_config = llama_config(cfg["proxy"], store.vocab_size, cfg["seq_len"])
    static = {"seed": cfg["seed"], "model_config": config_json(model_config),
              "code_fingerprint": results.code_fingerprint(), "config_fingerprint": fingerprint,
              "device": str(trainer.device), "batching": trainer.batching}
    settings = TrainSettings.from_config(cfg)
    tokens = store.tokens()
    started = time.perf_counter()
    for group in _groups(names, done, trainer, max_runs):
        rows = _run_group(con, cfg, store, tokens, group, evals, model_config, settings, trainer,
                          mixture_table, documents_table)
        for row in (r for r in rows if r["param_set"] not in done):
            results.insert_result(con, {**row, **static, "run_fingerprint": run_fps[row["param_set"]]})
            report.finished.append(row["param_set"])
            report.tokens_trained += int(row["tokens"] or 0)
            if on_run_finished is not None:
                on_run_finished(row, len(done) + len(report.finished), len(names))
    report.seconds = time.perf_counter() - started
    return report


def _groups(names: list[str], done: set[str], trainer: Trainer, max_runs: int | None):
    """Groups of runs to train together, up to `max_runs` unfinished runs in all.

    Stacked groups are fixed slices of ALL parameter sets: the numbers of a stacked proxy can
    depend (at float rounding) on its group, so a resumed group must hold the same proxies as
    in the killed run. Per-core and one-at-a-time proxies do not depend on each other, so their
    groups are simply the next unfinished runs.
    """
    budget = max_runs if max_runs is not None else len(names)
    if trainer.batching == "stacked":
        candidates = [names[i:i + trainer.group_size] for i in range(0, len(names), trainer.group_size)]
    else:
        pending = [n for n in names if n not in done]
        candidates = [pending[i:i + trainer.group_size] for i in range(0, len(pending), trainer.group_size)]
    for group in candidates:
        todo = [n for n in group if n not in done]
        if not todo:
            continue
        if budget <= 0:
            return
        if len(todo) > budget and trainer.batching != "stacked":
            group = todo[:budget]
        budget -= len(todo)
        yield group


def _run_group(con, cfg, store, tokens, group, evals, model_config, settings, trainer,
               mixture_table, documents_table) -> list[dict]:
    rows, trainable, sequences = [], [], []
    for name in group:
        spans = mixture_spans(con, store, mixture_table, documents_table, name)
        seed = data_seed(cfg["seed"], name)
        available = int(spans[:, 1].sum()) if len(spans) else 0
        base = {"param_set": name, "data_seed": seed, "group_size": len(group), "mixture_tokens": available}
        if available == 0:
            rows.append({**base, "status": "empty_mixture", "tokens": 0, "seconds": 0.0,
                         "finished_at": _now(con)})
            continue
        trainable.append(base)
        sequences.append(training_sequences(tokens, spans, cfg["tokens_per_run"], cfg["seq_len"],
                                            store.eos, seed))
    if not trainable:
        return rows
    started = time.perf_counter()
    # Every proxy starts from the same initialization (seed): differences between runs then come
    # from the data, which is what the regression has to explain.
    losses = trainer.train(model_config, sequences, evals, [cfg["seed"]] * len(trainable), settings)
    seconds = (time.perf_counter() - started) / len(trainable)
    finished_at = _now(con)
    for base, loss in zip(trainable, losses):
        row = {**base, "status": "ok", "tokens": cfg["tokens_per_run"], "seconds": seconds,
               "finished_at": finished_at}
        row.update({results.loss_column(t): loss[t] for t in cfg["targets"]})
        rows.append(row)
    return rows


def _now(con):
    return con.execute("SELECT current_localtimestamp()").fetchall()[0][0]
