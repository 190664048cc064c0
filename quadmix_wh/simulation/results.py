"""The `sim_results` table: one row per finished proxy run, each inserted in its own transaction."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch
import transformers

from quadmix_wh.simulation.errors import ResultsConflictError

RESULTS_TABLE = "sim_results"
# param_set, status, then one loss_<target> column per target, then the rest.
FIXED_COLUMNS = [("param_set", "VARCHAR"), ("status", "VARCHAR"), ("tokens", "BIGINT"),
                 ("mixture_tokens", "BIGINT"), ("seconds", "DOUBLE"), ("seed", "BIGINT"),
                 ("data_seed", "BIGINT"), ("model_config", "VARCHAR"), ("code_fingerprint", "VARCHAR"),
                 ("config_fingerprint", "VARCHAR"), ("run_fingerprint", "VARCHAR"), ("device", "VARCHAR"),
                 ("batching", "VARCHAR"), ("group_size", "INTEGER"), ("finished_at", "TIMESTAMP")]

__all__ = ["RESULTS_TABLE", "ResultsConflictError", "ensure_results_table", "finished_runs", "insert_result",
           "loss_column"]


def loss_column(target: str) -> str:
    return "loss_" + re.sub(r"[^0-9a-zA-Z_]+", "_", target).lower()


def code_fingerprint() -> str:
    """Hash of the simulation code and the library versions that shape a run's numbers."""
    digest = hashlib.sha256(f"torch={torch.__version__};transformers={transformers.__version__}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def table_exists(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchall()[0][0])


def ensure_results_table(con, targets: list[str], fresh: bool = False) -> None:
    loss_columns = [(loss_column(t), "DOUBLE") for t in targets]
    if fresh:
        con.execute(f"DROP TABLE IF EXISTS {RESULTS_TABLE}")
    if table_exists(con, RESULTS_TABLE):
        have = {r[0] for r in con.execute(f"DESCRIBE {RESULTS_TABLE}").fetchall()}
        missing = [c for c, _ in loss_columns + FIXED_COLUMNS if c not in have]
        if missing:
            raise ResultsConflictError(f"{RESULTS_TABLE} has no column(s) {', '.join(missing)}: it was "
                                       "made for other targets or by another version; rerun with --fresh "
                                       "to start over")
        return
    columns = FIXED_COLUMNS[:2] + loss_columns + FIXED_COLUMNS[2:]
    con.execute(f"CREATE TABLE {RESULTS_TABLE} ({', '.join(f'{c} {t}' for c, t in columns)})")


def finished_runs(con, config_fingerprint: str, run_fingerprints: dict[str, str]) -> set[str]:
    """Parameter sets already done with this configuration and this parameter set + mixture.

    A row made with another configuration, or for a parameter set whose parameters or mixture
    have changed since, is a conflict: mixing them would feed the regression inconsistent runs.
    """
    rows = con.execute(f"SELECT param_set, config_fingerprint, run_fingerprint FROM {RESULTS_TABLE}").fetchall()
    other = [r for r in rows if r[1] != config_fingerprint]
    if other:
        raise ResultsConflictError(f"{RESULTS_TABLE} holds {len(other)} run(s) made with another simulation "
                                   "configuration (training settings, targets or tokenizer); rerun with "
                                   "--fresh to replace them (or restore the previous settings to resume)")
    stale = [r[0] for r in rows if r[0] in run_fingerprints and r[2] != run_fingerprints[r[0]]]
    if stale:
        raise ResultsConflictError(f"{RESULTS_TABLE}: {len(stale)} run(s) (first: {stale[0]}) were made on "
                                   "other parameters or another mixture (changed scores, domains, documents "
                                   "or sampling ranges); rerun with --fresh to start over")
    return {r[0] for r in rows}


def insert_result(con, row: dict) -> None:
    """One row, one transaction: a crash leaves either the whole row or none of it."""
    columns = list(row)
    placeholders = ", ".join("?" for _ in columns)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"INSERT INTO {RESULTS_TABLE} ({', '.join(columns)}) VALUES ({placeholders})",
                    [row[c] for c in columns])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
