"""Scorer evaluation: held-out metrics written by `scripts/train_scorers.py` next to the
artifacts (`evaluation.json`), loaded as the `scorer_evaluation` table, and criterion-by-criterion
rank correlations computed on the warehouse's own `quality_scores`."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

EVALUATION_FILE = "data/scorers/evaluation.json"
COLUMNS = {"scorer": pa.string(), "metric": pa.string(), "value": pa.float64(),
           "baseline": pa.float64(), "n_heldout": pa.int64(), "detail": pa.string()}


class EvaluationError(Exception):
    """The evaluation file is missing or malformed; names the file and the problem."""


def evaluation_path(project) -> Path:
    raw = (getattr(project, "vars", None) or {}).get("scorer_evaluation_file", EVALUATION_FILE)
    return Path(project.root) / raw


def load_evaluation(path: Path) -> pa.Table:
    if not path.is_file():
        raise EvaluationError(f"{path}: no scorer evaluation; run `python scripts/train_scorers.py`")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["metrics"]
    except (ValueError, KeyError, TypeError) as exc:
        raise EvaluationError(f"{path}: expected a JSON object with a 'metrics' list: {exc}") from exc
    for index, row in enumerate(rows):
        missing = [c for c in ("scorer", "metric", "value") if c not in row]
        if missing:
            raise EvaluationError(f"{path}: metrics[{index}] lacks {missing}")
    return pa.table({name: pa.array([row.get(name) for row in rows], type=kind)
                     for name, kind in COLUMNS.items()})


def criterion_correlations(con, table: str = "quality_scores"):
    """Spearman correlation between every pair of criteria over the documents having both."""
    return con.execute(f"""
        WITH ranked AS (
            SELECT doc_id, criterion, rank() OVER (PARTITION BY criterion ORDER BY value) AS r
            FROM {table} WHERE value IS NOT NULL)
        SELECT a.criterion AS criterion_a, b.criterion AS criterion_b,
               corr(a.r, b.r) AS spearman, count(*) AS n_docs
        FROM ranked a JOIN ranked b ON a.doc_id = b.doc_id AND a.criterion < b.criterion
        GROUP BY ALL ORDER BY ALL""").fetchall()
