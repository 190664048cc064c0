"""Helpers for the engine tests: write small projects into tmp_path and run the CLI on them."""
from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
from click.testing import CliRunner

from quadmix_wh.cli import main

BASE_PROJECT = """\
name: demo
warehouse:
  path: wh.duckdb
  threads: 2
vars:
  min_x: 2
models:
  demo:
    +materialized: table
"""


def write_project(root: Path, files: dict[str, str], project_yml: str | None = BASE_PROJECT) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if project_yml is not None:
        (root / "project.yml").write_text(project_yml)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def cli(root: Path, *args: str, expect: int | None = 0):
    result = CliRunner().invoke(main, [*args, "--project-dir", str(root)] if args[0] not in ("init",) else list(args))
    if expect is not None:
        assert result.exit_code == expect, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    return result


def query(root: Path, sql: str, db: str = "wh.duckdb"):
    con = duckdb.connect(str(root / db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def statuses(root: Path) -> dict[str, str]:
    import json
    data = json.loads((root / "target" / "run_results.json").read_text())
    return {r["name"]: r["status"] for r in data["results"]}


def test_support_writes_a_loadable_project(tmp_path):
    from quadmix_wh.project import load_project
    root = write_project(tmp_path / "p", {"models/a.sql": "select 1 as x"})
    project = load_project(root)
    assert project.name == "demo" and project.warehouse_path == root / "wh.duckdb"
