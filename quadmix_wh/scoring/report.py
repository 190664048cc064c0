"""What `quadmix-wh scorers` shows, as data: declarations, versions, cache contents, evaluation."""
from __future__ import annotations

import contextlib
from pathlib import Path

from .. import warehouse
from ..lock import warehouse_lock
from .base import ScorerLoadError
from .cache import cache_table, cache_tables, quote
from .declarations import load_declarations, udf_dirs
from .evaluation import COLUMNS, EvaluationError, evaluation_path, metric_rows
from .fingerprint import scorer_fingerprint

EVALUATION_MODEL = "scorer_evaluation"
CORRELATION_MODEL = "criterion_correlations"


def scorers_report(project, drop_stale: bool = False, lock_timeout: float = 0.0) -> dict:
    specs = load_declarations(project)
    versions, problems = {}, {}
    for name, spec in specs.items():
        try:
            versions[name] = scorer_fingerprint(spec)
        except ScorerLoadError as exc:
            versions[name], problems[name] = None, str(exc)
    report = {"udf_paths": [_rel(project, p) for p in udf_dirs(project)], "warehouse": None,
              "scorers": [], "orphan_tables": [], "dropped": [], "evaluation": [],
              "evaluation_source": "", "evaluation_problem": None, "correlations": []}
    with contextlib.ExitStack() as stack:
        con = None
        if project.warehouse_path.exists():
            if drop_stale:  # writing: one writer at a time, like run/build
                stack.enter_context(warehouse_lock(project, lock_timeout))
            con = warehouse.connect(project, read_only=not drop_stale)
            stack.callback(warehouse.close, con)
            report["warehouse"] = _rel(project, project.warehouse_path)
        tables = cache_tables(con) if con is not None else {}
        current = {n: cache_table(n, v) for n, v in versions.items() if v}
        for name, spec in specs.items():
            report["scorers"].append(_scorer_row(con, project, spec, versions[name], problems.get(name),
                                                 current.get(name), tables.get(name, [])))
        report["orphan_tables"] = sorted(t for n, ts in tables.items() if n not in specs for t in ts)
        if drop_stale and con is not None:
            stale = report["orphan_tables"] + [t for s in report["scorers"] for t in s["stale_tables"]]
            for table in stale:
                con.execute(f"DROP TABLE IF EXISTS {quote(table)}")
            report["dropped"] = stale
        _evaluation(con, project, report)
        _correlations(con, report)
    return report


def _scorer_row(con, project, spec, version, problem, table, existing: list[str]) -> dict:
    row = {"name": spec.name, "loader": spec.loader, "description": spec.description,
           "checkpoint": _rel(project, spec.checkpoint), "version": version[:8] if version else None,
           "settings": dict(spec.settings), "cached": None, "null_reasons": {},
           "stale_tables": [t for t in existing if t != table], "problem": problem}
    if con is not None and table in existing:
        row["cached"] = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchall()[0][0]
        reasons = con.execute(f"SELECT null_reason, count(*) FROM {quote(table)} WHERE null_reason IS NOT NULL "
                              f"GROUP BY 1 ORDER BY 1").fetchall()
        row["null_reasons"] = dict(reasons)
    elif con is not None:
        row["cached"] = 0
    return row


def _evaluation(con, project, report: dict) -> None:
    if con is not None and _exists(con, EVALUATION_MODEL):
        rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {EVALUATION_MODEL}").fetchall()
        report["evaluation_source"] = f"warehouse table {EVALUATION_MODEL}"
    else:
        report["evaluation_source"] = _rel(project, evaluation_path(project))
        try:
            rows, _ = metric_rows(project)
        except EvaluationError as exc:
            report["evaluation_problem"] = str(exc)
            return
    report["evaluation"] = [dict(zip(COLUMNS, r)) for r in rows]


def _correlations(con, report: dict) -> None:
    if con is None or not _exists(con, CORRELATION_MODEL):
        return
    cur = con.execute(f"SELECT * FROM {CORRELATION_MODEL} ORDER BY ALL")
    names = [d[0] for d in cur.description]
    report["correlations"] = [dict(zip(names, r)) for r in cur.fetchall()]


def _exists(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                            "AND table_name = ?", [name]).fetchall()[0][0])


def _rel(project, path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(project.root).resolve()).as_posix()
    except ValueError:
        return str(path)
