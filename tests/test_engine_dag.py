"""DAG checks: unknown refs, cycles, raw table names bypassing ref(), views calling Python UDFs."""
from __future__ import annotations

import duckdb
from test_engine_support import cli, write_project

from quadmix_wh import warehouse
from quadmix_wh.dag import DagError
from quadmix_wh.project import load_project
from quadmix_wh.runner import compile_project


def test_unknown_ref_names_model_and_ref(tmp_path):
    root = write_project(tmp_path / "p", {"models/a.sql": "select * from {{ ref('nope') }}"})
    result = cli(root, "compile", expect=2)
    assert "models/a.sql" in result.output and "ref('nope')" in result.output


def test_cycle_is_reported_with_its_path(tmp_path):
    root = write_project(tmp_path / "p", {
        "models/a.sql": "select * from {{ ref('c') }}",
        "models/b.sql": "select * from {{ ref('a') }}",
        "models/c.sql": "select * from {{ ref('b') }}",
    })
    result = cli(root, "run", expect=2)
    assert "dependency cycle" in result.output
    assert all(name in result.output for name in ("a", "b", "c"))


def test_raw_table_name_bypassing_ref_is_an_error(tmp_path):
    root = write_project(tmp_path / "p", {
        "models/a.sql": "select 1 as x",
        "models/b.sql": "with a2 as (select * from {{ ref('a') }}) select * from a2 join a using (x)",
    })
    result = cli(root, "compile", expect=2)
    assert "models/b.sql" in result.output and "reads table 'a' directly" in result.output


def test_cte_named_like_a_model_is_not_a_bypass(tmp_path):
    root = write_project(tmp_path / "p", {
        "models/a.sql": "select 1 as x",
        "models/b.sql": "with a as (select * from {{ ref('a') }}) select * from a",
    })
    cli(root, "run")


def test_sources_must_go_through_source(tmp_path):
    root = write_project(tmp_path / "p", {
        "models/sources.yml": "sources:\n  - name: raw\n    tables:\n      - name: events\n",
        "models/a.sql": "select * from raw.events",
    })
    result = cli(root, "compile", expect=2)
    assert "source('raw', 'events')" in result.output


def test_view_calling_python_udf_is_rejected(tmp_path, monkeypatch):
    def register(con, project):
        con.create_function("py_double", lambda x: x * 2, ["BIGINT"], "BIGINT")
    monkeypatch.setattr(warehouse, "UDF_PROVIDERS", ["test_engine_dag:_provider"])
    monkeypatch.setitem(globals(), "_provider", register)
    root = write_project(tmp_path / "p", {
        "models/t.sql": "select py_double(2) as y",
        "models/v.sql": "{{ config(materialized='view') }} select py_double(y) as z from {{ ref('t') }}",
    })
    try:
        compile_project(load_project(root))
        raise AssertionError("a view calling a Python UDF must be rejected")
    except DagError as exc:
        assert "models/v.sql" in str(exc) and "py_double" in str(exc)
    (root / "models/v.sql").write_text("{{ config(materialized='table') }} select py_double(y) as z from {{ ref('t') }}")
    cli(root, "run")
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    assert con.execute("select z from v").fetchall() == [(8,)]
    con.close()
