"""`quadmix-wh scorers`: the declared scorers, their versions, what the warehouse has cached for
each, and their evaluation (held-out metrics, correlations between criteria)."""
from __future__ import annotations

import json
import sys

import click

from .base import ScorerLoadError
from .declarations import ScorerDeclarationError
from .evaluation import EvaluationError
from .report import scorers_report

SCORING_ERRORS = (ScorerDeclarationError, ScorerLoadError, EvaluationError)


def register(main) -> None:
    """Attach this part's commands to the `quadmix-wh` group."""
    from ..cli import open_project, project_options, reports_errors

    @main.command("scorers")
    @project_options
    @click.option("--drop-stale", is_flag=True,
                  help="Drop score-cache tables of scorer versions no longer declared.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @click.option("--lock-timeout", default=0.0, type=float, show_default=True,
                  help="Seconds to wait for another command using the warehouse (with --drop-stale).")
    @reports_errors
    def scorers(project_dir, vars_text, drop_stale, as_json, lock_timeout):
        """List declared scorers (udfs/), versions, cached counts and evaluation metrics."""
        project = open_project(project_dir, vars_text)
        try:
            report = scorers_report(project, drop_stale=drop_stale, lock_timeout=lock_timeout)
        except SCORING_ERRORS as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        if as_json:
            click.echo(json.dumps(report, indent=2, default=str))
        else:
            click.echo(format_report(report))


def format_report(report: dict) -> str:
    lines = [f"Scorers declared in {', '.join(report['udf_paths'])}:"]
    rows = [("name", "loader", "version", "checkpoint", "cached", "null", "stale versions")]
    for s in report["scorers"]:
        nulls = ", ".join(f"{k} {v}" for k, v in s["null_reasons"].items()) or "0"
        rows.append((s["name"], s["loader"], s["version"] or "-", s["checkpoint"],
                     "-" if s["cached"] is None else str(s["cached"]), nulls, str(len(s["stale_tables"]))))
    lines += _table(rows) if report["scorers"] else ["  (none)"]
    for s in report["scorers"]:
        if s["problem"]:
            lines.append(f"  ! {s['name']}: {s['problem']}")
    if report["orphan_tables"]:
        lines.append(f"  cache tables of undeclared scorers: {', '.join(report['orphan_tables'])}")
    if report["dropped"]:
        lines.append(f"  dropped: {', '.join(report['dropped'])}")
    if report["warehouse"] is None:
        lines.append("  (no warehouse yet: cached counts appear after `quadmix-wh run`)")
    lines.append("")
    lines.append(f"Evaluation (from {report['evaluation_source']}):")
    if report["evaluation"]:
        rows = [("scorer", "metric", "value", "baseline", "n", "current")]
        for m in report["evaluation"]:
            rows.append((m["scorer"], m["metric"], _num(m["value"]), _num(m["baseline"]),
                         "" if m["n_heldout"] is None else str(m["n_heldout"]),
                         {True: "yes", False: "STALE", None: ""}[m["current"]]))
        lines += _table(rows)
    else:
        lines.append(f"  {report['evaluation_problem'] or '(none)'}")
    lines.append("")
    lines.append("Correlation between criteria on quality_scores (Spearman):")
    if report["correlations"]:
        rows = [("criterion a", "criterion b", "spearman", "docs")]
        rows += [(c["criterion_a"], c["criterion_b"], _num(c["spearman"]), str(c["n_docs"]))
                 for c in report["correlations"]]
        lines += _table(rows)
    else:
        lines.append("  (quality_scores not built yet)")
    return "\n".join(lines)


def _num(value) -> str:
    return "" if value is None else f"{value:.4g}"


def _table(rows: list[tuple]) -> list[str]:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
