"""Scorer evaluation: held-out metrics that `scripts/train_scorers.py` writes next to the
artifacts (`data/scorers/evaluation.json`), rendered into the `scorer_evaluation` model by the
`scorer_evaluation()` context function, and criterion-by-criterion rank correlations computed on
the warehouse's own `quality_scores` (model `criterion_correlations`).

Each metric row says whether the weights it was measured on are the ones the scorer's declaration
points to now (`current`), so an evaluation left over from an older checkpoint is visible."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..sql_values import sql_literal
from .declarations import load_declarations
from .fingerprint import checkpoint_hash

EVALUATION_FILE = "data/scorers/evaluation.json"
COLUMNS = {"scorer": "VARCHAR", "metric": "VARCHAR", "value": "DOUBLE", "baseline": "DOUBLE",
           "n_heldout": "BIGINT", "detail": "VARCHAR", "current": "BOOLEAN"}


class EvaluationError(Exception):
    """The evaluation file is missing or malformed; names the file and the problem."""


def evaluation_path(project) -> Path:
    raw = (getattr(project, "vars", None) or {}).get("scorer_evaluation_file", EVALUATION_FILE)
    return Path(project.root) / str(raw)


def load_evaluation(path: Path) -> dict:
    if not path.is_file():
        raise EvaluationError(f"{path}: no scorer evaluation; run `python scripts/train_scorers.py`")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        rows = report["metrics"]
    except (ValueError, KeyError, TypeError) as exc:
        raise EvaluationError(f"{path}: expected a JSON object with a 'metrics' list: {exc}") from exc
    for index, row in enumerate(rows):
        missing = [c for c in ("scorer", "metric", "value") if c not in row]
        if missing:
            raise EvaluationError(f"{path}: metrics[{index}] lacks {missing}")
    return report


def currency(project, report: dict) -> dict[str, bool]:
    """scorer name -> whether its declared checkpoint has the weights the evaluation measured."""
    artifacts = report.get("artifacts") or {}
    specs = load_declarations(project)
    current = {}
    for name, artifact in artifacts.items():
        spec = specs.get(name)
        current[name] = bool(spec is not None and spec.checkpoint.exists()
                             and checkpoint_hash(spec.checkpoint) == artifact.get("weights_sha256"))
    if current:
        current["criteria"] = all(current.values())
    return current


def metric_rows(project) -> tuple[list[tuple], str]:
    """(scorer, metric, value, baseline, n_heldout, detail, current) rows and a digest of
    everything they depend on (the file and the declared checkpoints' weights)."""
    path = evaluation_path(project)
    report = load_evaluation(path)
    current = currency(project, report)
    rows = [(r["scorer"], r["metric"], r["value"], r.get("baseline"), r.get("n_heldout"), r.get("detail"),
             current.get(r["scorer"])) for r in report["metrics"]]
    digest = hashlib.sha256(path.read_bytes() + json.dumps(sorted(current.items())).encode()).hexdigest()
    return rows, digest


def evaluation_rows_sql(project) -> tuple[str, str]:
    rows, digest = metric_rows(project)
    names = ", ".join(COLUMNS)
    casts = ", ".join(f"CAST({n} AS {t}) AS {n}" for n, t in COLUMNS.items())
    if not rows:
        nulls = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in COLUMNS.items())
        return f"(SELECT {nulls} WHERE FALSE)", digest
    values = ",\n  ".join("(" + ", ".join(sql_literal(v) for v in row) + ")" for row in rows)
    return f"(SELECT {casts} FROM (VALUES\n  {values}) AS t({names}))", digest
