"""The `sim_results` table: one row per finished proxy run, each inserted in its own transaction."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch
import transformers

RESULTS_TABLE = "sim_results"
FIXED_COLUMNS = [("param_set", "VARCHAR"), ("status", "VARCHAR"), ("tokens", "BIGINT"),
                 ("seconds", "DOUBLE"), ("seed", "BIGINT"), ("data_seed", "BIGINT"),
                 ("model_config", "VARCHAR"), ("code_fingerprint", "VARCHAR"),
                 ("config_fingerprint", "VARCHAR"), ("device", "VARCHAR"), ("group_size", "INTEGER"),
                 ("finished_at", "TIMESTAMP")]


class ResultsConflictError(RuntimeError):
    """sim_results holds runs made with another configuration; the message says how to proceed."""


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
                            [name]).fetchone()[0])


def ensure_results_table(con, targets: list[str], fresh: bool = False) -> None:
    loss_columns = [(loss_column(t), "DOUBLE") for t in targets]
    if fresh:
        con.execute(f"DROP TABLE IF EXISTS {RESULTS_TABLE}")
    if table_exists(con, RESULTS_TABLE):
        have = {r[0] for r in con.execute(f"DESCRIBE {RESULTS_TABLE}").fetchall()}
        missing = [c for c, _ in loss_columns if c not in have]
        if missing:
            raise ResultsConflictError(f"{RESULTS_TABLE} has no column(s) {', '.join(missing)}: it was "
                                       "made for other targets; rerun with --fresh to start over")
        return
    columns = FIXED_COLUMNS[:2] + loss_columns + FIXED_COLUMNS[2:]
    con.execute(f"CREATE TABLE {RESULTS_TABLE} ({', '.join(f'{c} {t}' for c, t in columns)})")


def finished_param_sets(con, config_fingerprint: str) -> set[str]:
    """Parameter sets already done with this configuration; other configurations are a conflict."""
    other = con.execute(f"SELECT count(*) FROM {RESULTS_TABLE} WHERE config_fingerprint <> ?",
                        [config_fingerprint]).fetchone()[0]
    if other:
        raise ResultsConflictError(f"{RESULTS_TABLE} holds {other} run(s) made with another simulation "
                                   "configuration; rerun with --fresh to replace them (or restore the "
                                   "previous vars.simulation to resume)")
    rows = con.execute(f"SELECT param_set FROM {RESULTS_TABLE}").fetchall()
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
