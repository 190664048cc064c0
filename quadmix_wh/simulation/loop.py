"""The simulation loop: for every unfinished parameter set, train a proxy on its mixture, log the loss.

Resumable: runs already in `sim_results` (same configuration fingerprint) are skipped, so a
killed simulation continues with the next unfinished run.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from quadmix_wh.simulation import results
from quadmix_wh.simulation.batched import train_group
from quadmix_wh.simulation.config import SimulationConfig, SimulationConfigError
from quadmix_wh.simulation.packing import eval_sequences, expand_copies, training_sequences
from quadmix_wh.simulation.proxy import config_json, llama_config
from quadmix_wh.simulation.token_store import TokenStore
from quadmix_wh.simulation.trainer import TrainSettings, resolve_device, torch_threads, train_single


@dataclass
class SimulationReport:
    finished: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    tokens_trained: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_trained / self.seconds if self.seconds else 0.0


def data_seed(seed: int, param_set: str) -> int:
    """Seed of a run's document order: stable across processes (no Python hash())."""
    return int(hashlib.sha256(f"{seed}:{param_set}".encode()).hexdigest()[:8], 16)


def check_inputs(con, cfg: SimulationConfig, param_table: str, mixture_table: str) -> list[str]:
    """Fail before any training: missing/empty target sets, no parameter sets, no mixture."""
    for target in cfg["targets"]:
        if not results.table_exists(con, target):
            raise SimulationConfigError(f"vars.simulation.targets: table {target!r} does not exist")
        count = con.execute(f'SELECT count(*) FROM "{target}" WHERE text IS NOT NULL '
                            "AND length(text) > 0").fetchone()[0]
        if count == 0:
            raise SimulationConfigError(f"vars.simulation.targets: target set {target!r} is empty")
    for table in (param_table, mixture_table):
        if not results.table_exists(con, table):
            raise SimulationConfigError(f"simulation: table {table!r} does not exist")
    names = [r[0] for r in con.execute(f'SELECT DISTINCT param_set FROM "{param_table}" '
                                       "ORDER BY param_set").fetchall()]
    if not names:
        raise SimulationConfigError(f"simulation: no parameter sets in {param_table!r} (n_param_sets = 0?)")
    return names


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


def target_sets(store: TokenStore, cfg: SimulationConfig) -> dict[str, np.ndarray]:
    tokens = store.tokens()
    sets = {}
    for target in cfg["targets"]:
        spans = store.spans(target)
        ordered = np.array([spans[k] for k in sorted(spans)], dtype=np.int64).reshape(-1, 2)
        sets[target] = eval_sequences(tokens, ordered, cfg["eval_tokens"], cfg["seq_len"], store.eos, target)
    return sets


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]simulate"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[last]}"), TimeRemainingColumn(), disable=not enabled)


def run_simulation(con, cfg: SimulationConfig, store: TokenStore, *, param_table: str = "sim_param_sets",
                   mixture_table: str = "sim_mixture", documents_table: str = "documents",
                   fresh: bool = False, on_run_finished: Callable[[dict], None] | None = None,
                   show_progress: bool = True) -> SimulationReport:
    """Train one proxy per unfinished parameter set; `on_run_finished(row)` is called after each commit."""
    names = check_inputs(con, cfg, param_table, mixture_table)
    store.ensure(documents_table)
    for target in cfg["targets"]:
        store.ensure(target)
    evals = target_sets(store, cfg)
    results.ensure_results_table(con, cfg["targets"], fresh=fresh)
    fingerprint = cfg.training_fingerprint()
    done = results.finished_param_sets(con, fingerprint)
    report = SimulationReport(skipped=[n for n in names if n in done])
    device = resolve_device(cfg["device"])
    model_config = llama_config(cfg["proxy"], store.vocab_size, cfg["seq_len"])
    static = {"seed": cfg["seed"], "model_config": config_json(model_config),
              "code_fingerprint": results.code_fingerprint(), "config_fingerprint": fingerprint,
              "device": str(device)}
    settings = TrainSettings.from_config(cfg)
    tokens = store.tokens()
    started = time.perf_counter()
    with _progress(show_progress) as progress, torch_threads(cfg["torch_threads"]):
        task = progress.add_task("runs", total=len(names), completed=len(done), last="")
        # Groups are fixed slices of ALL parameter sets, so a resumed group holds the same proxies
        # as in the killed run and gives bit-identical losses (runs already logged are not re-logged).
        for start in range(0, len(names), cfg["group_size"]):
            group = names[start:start + cfg["group_size"]]
            if all(n in done for n in group):
                continue
            rows = _run_group(con, cfg, store, tokens, group, evals, model_config, settings, device,
                              mixture_table, documents_table)
            for row in (r for r in rows if r["param_set"] not in done):
                results.insert_result(con, {**row, **static})
                report.finished.append(row["param_set"])
                report.tokens_trained += int(row["tokens"] or 0)
                progress.update(task, advance=1, last=_describe(row, cfg["targets"]))
                if on_run_finished is not None:
                    on_run_finished(row)
    report.seconds = time.perf_counter() - started
    return report


def _describe(row: dict, targets: list[str]) -> str:
    losses = [row.get(results.loss_column(t)) for t in targets]
    shown = ", ".join(f"{v:.3f}" for v in losses if v is not None)
    return f"{row['param_set']} loss {shown or row['status']}"


def _run_group(con, cfg, store, tokens, group, evals, model_config, settings, device,
               mixture_table, documents_table) -> list[dict]:
    rows, trainable, sequences = [], [], []
    for name in group:
        spans = mixture_spans(con, store, mixture_table, documents_table, name)
        seed = data_seed(cfg["seed"], name)
        base = {"param_set": name, "data_seed": seed, "group_size": len(group)}
        if len(spans) == 0 or int(spans[:, 1].sum()) == 0:
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
    seeds = [cfg["seed"]] * len(trainable)
    if len(trainable) == 1:
        losses = [train_single(model_config, sequences[0], evals, seeds[0], settings, device)]
    else:
        losses = train_group(model_config, sequences, evals, seeds, settings, device)
    seconds = (time.perf_counter() - started) / len(trainable)
    finished_at = _now(con)
    for base, loss in zip(trainable, losses):
        row = {**base, "status": "ok", "tokens": cfg["tokens_per_run"], "seconds": seconds,
               "finished_at": finished_at}
        row.update({results.loss_column(t): loss[t] for t in cfg["targets"]})
        rows.append(row)
    return rows


def _now(con):
    return con.execute("SELECT current_localtimestamp()").fetchone()[0]
