"""Artifacts under target/: compiled SQL per node, manifest.json, run_results.json."""
from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

from . import __version__
from .nodes import TEST


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def compiled_path(plan, node) -> Path:
    return plan.project.target_path / "compiled" / node.path.with_suffix(".sql")


def write_compiled(plan) -> None:
    for node in plan.nodes.values():
        if node.sentinel_sql and node.path and node.kind != TEST:
            _write_atomic(compiled_path(plan, node), plan.final_sql(node) + "\n")
        elif node.sentinel_sql and node.path:
            _write_atomic(plan.project.target_path / "compiled" / "tests" / f"{node.name}.sql",
                          plan.final_sql(node) + "\n")


def _metadata(plan) -> dict:
    return {"quadmix_wh_version": __version__, "project_name": plan.project.name,
            "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat()}


def write_manifest(plan) -> None:
    nodes = {uid: plan.nodes[uid].manifest_entry() for uid in plan.graph.order}
    for uid, entry in nodes.items():
        entry["children"] = sorted(set(plan.graph.children[uid]))
    manifest = {"metadata": _metadata(plan), "nodes": nodes, "order": plan.graph.order,
                "docs": plan.renderer.docs, "macros": plan.renderer.macro_files}
    _write_atomic(plan.project.target_path / "manifest.json", json.dumps(manifest, indent=2, default=str))


def write_run_results(plan, run_results) -> None:
    results = []
    for r in run_results.results:
        entry = {"unique_id": r.unique_id, "name": r.name, "resource_type": r.kind, "status": r.status,
                 "message": r.message, "rows": r.rows, "execution_time": round(r.seconds, 6)}
        if r.outcome is not None and r.outcome.failures:
            entry["failures"] = r.outcome.failures
        results.append(entry)
    payload = {"metadata": _metadata(plan), "command": run_results.command,
               "elapsed_time": round(run_results.elapsed, 6), "success": run_results.success,
               "results": results}
    _write_atomic(plan.project.target_path / "run_results.json", json.dumps(payload, indent=2, default=str))
