"""CLI commands (init, ls, show, compile), project loading, selection syntax, clear errors."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from test_engine_support import cli, query, statuses, write_project

from quadmix_wh.cli import main
from quadmix_wh.project import load_project

FILES = {
    "models/a.sql": "{{ config(tags=['core']) }} select 1 as x",
    "models/b.sql": "select x + 1 as x from {{ ref('a') }}",
    "models/c.sql": "select x + 1 as x from {{ ref('b') }}",
    "models/other/d.sql": "select 7 as y",
}


def test_init_creates_a_project_that_builds(tmp_path):
    result = CliRunner().invoke(main, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    root = tmp_path / "new"
    cli(root, "build")
    assert query(root, "select customer, n_orders from customer_totals order by 1", db="new.duckdb") == [
        ("ada", 2), ("bob", 1), ("cy", 1)]
    again = CliRunner().invoke(main, ["init", str(root)])
    assert again.exit_code == 2 and "already holds a project" in again.output


def test_selection_syntax(tmp_path):
    root = write_project(tmp_path / "p", FILES)

    def ls(*args):
        return cli(root, "ls", "--resource-type", "model", *args).output.split()
    assert ls("-s", "b") == ["model.b"]
    assert ls("-s", "b+") == ["model.b", "model.c"]
    assert ls("-s", "+b") == ["model.a", "model.b"]
    assert ls("-s", "tag:core") == ["model.a"]
    assert ls("-s", "path:models/other") == ["model.d"]
    assert ls("-s", "a d") == ["model.a", "model.d"]
    assert ls("-s", "a+", "--exclude", "c") == ["model.a", "model.b"]
    bad = cli(root, "ls", "-s", "nothing_here", expect=2)
    assert "selector 'nothing_here' matches no node" in bad.output
    cli(root, "run", "-s", "+b")
    assert set(statuses(root)) == {"a", "b"}


def test_ls_json_and_compile_and_show(tmp_path):
    root = write_project(tmp_path / "p", FILES)
    out = cli(root, "ls", "--output", "json", "-s", "c").output.splitlines()
    assert json.loads(out[0])["depends_on"] == ["model.b"]
    cli(root, "compile")
    assert (root / "target/compiled/models/c.sql").read_text().strip() == 'select x + 1 as x from "main"."b"'
    assert not (root / "wh.duckdb").exists()  # compile never creates or writes the warehouse
    cli(root, "run")
    shown = cli(root, "show", "c", "--limit", "5").output
    assert "x" in shown and "3" in shown


def test_project_api_and_folder_configs(tmp_path):
    yml = """\
name: demo
tokenizer: data/tok.json
warehouse: {path: sub/wh.duckdb, threads: 3, memory_limit: 1GB}
vars: {quadmix: {seed: 1}, simulation: {}}
models:
  demo:
    materialized: table
    other:
      +materialized: view
      tags: [o]
"""
    root = write_project(tmp_path / "p", FILES, project_yml=yml)
    project = load_project(root, {"quadmix": {"extra": 2}})
    assert project.root == root.resolve() and project.name == "demo"
    assert project.warehouse_path == root.resolve() / "sub/wh.duckdb"
    assert project.tokenizer_path == root.resolve() / "data/tok.json"
    assert project.vars["quadmix"] == {"seed": 1, "extra": 2}  # --vars deep-merges
    assert project.config["warehouse"]["threads"] == 3
    assert project.folder_config("models", ("other",)) == {"materialized": "view", "tags": ["o"]}
    missing_tokenizer = cli(root, "run", expect=2)  # UDF providers fail with a clear message
    assert "tok.json" in missing_tokenizer.output and "Error:" in missing_tokenizer.output
    (root / "project.yml").write_text(yml.replace("tokenizer: data/tok.json\n", ""))
    cli(root, "run")
    kinds = dict(query(root, "select table_name, table_type from information_schema.tables", db="sub/wh.duckdb"))
    assert kinds["d"] == "VIEW" and kinds["a"] == "BASE TABLE"


def test_bad_yaml_names_file_and_line(tmp_path):
    root = write_project(tmp_path / "p", {"models/a.sql": "select 1", "models/props.yml": "models:\n  - name: a\n   bad: [\n"})
    result = cli(root, "compile", expect=2)
    assert "models/props.yml:" in result.output and "invalid YAML" in result.output


def test_template_error_names_file_and_line(tmp_path):
    root = write_project(tmp_path / "p", {"models/a.sql": "select 1\n{{ undefined_thing }}\n"})
    result = cli(root, "compile", expect=2)
    assert "models/a.sql:2" in result.output and "undefined_thing" in result.output


def test_missing_project_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["run", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2 and "no project.yml" in result.output


def test_default_repository_project_loads():
    root = Path(__file__).resolve().parents[1]
    project = load_project(root)
    assert project.name == "quadmix" and "quadmix" in project.vars and "simulation" in project.vars
    assert project.warehouse_path.name == "quadmix.duckdb"
    assert [p.name for p in project.test_paths] == ["data_tests"]
