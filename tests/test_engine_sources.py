"""Sources: existing tables (dbt semantics) and file sources ingested as DAG nodes."""
from __future__ import annotations

import gzip
import json

import duckdb
from test_engine_support import cli, query, statuses, write_project

TABLE_SOURCE = {
    "models/sources.yml": """\
        sources:
          - name: raw
            tables:
              - name: events
                columns:
                  - name: id
                    tests: [not_null]
    """,
    "models/counts.sql": "select count(*) as n, sum(id) as s from {{ source('raw', 'events') }}",
}


def test_table_source_and_data_change_detection(tmp_path):
    root = write_project(tmp_path / "p", TABLE_SOURCE)
    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute("create schema raw; create table raw.events as select * from range(5) t(id)")
    con.close()
    cli(root, "build")
    assert query(root, "select n, s from counts") == [(5, 10)]
    cli(root, "run")
    assert statuses(root)["counts"] == "skipped:unchanged"
    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute("insert into raw.events values (100)")
    con.close()
    cli(root, "run")
    assert statuses(root)["counts"] == "success"
    assert query(root, "select n, s from counts") == [(6, 110)]


def test_undeclared_source_is_an_error(tmp_path):
    root = write_project(tmp_path / "p", {"models/m.sql": "select * from {{ source('raw', 'nope') }}"})
    result = cli(root, "compile", expect=2)
    assert "source('raw', 'nope') is not declared" in result.output


def _write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")


FILE_SOURCE_YML = """\
name: demo
warehouse: {path: wh.duckdb}
sources:
  - name: corpus
    format: jsonl
    tables:
      - {name: docs, path: "data/docs/*.jsonl.gz", id_field: id, text_field: text}
models:
  demo:
    +materialized: table
"""


def test_jsonl_file_source_reingests_only_when_files_change(tmp_path):
    root = write_project(tmp_path / "p", {
        "models/lengths.sql": "select doc_id, length(text) as n from {{ source('corpus', 'docs') }} order by doc_id",
    }, project_yml=FILE_SOURCE_YML)
    _write_jsonl(root / "data/docs/a.jsonl.gz", [{"id": "a1", "text": "hello"}, "not json", {"id": "a2", "text": "hi"}])
    cli(root, "run")
    assert query(root, "select * from lengths") == [("a1", 5), ("a2", 2)]
    assert query(root, "select count(*) from quarantine") == [(1,)]
    cli(root, "run")
    assert statuses(root) == {"corpus.docs": "skipped:unchanged", "lengths": "skipped:unchanged"}
    _write_jsonl(root / "data/docs/b.jsonl.gz", [{"id": "b1", "text": "abc"}])
    cli(root, "run")
    assert statuses(root) == {"corpus.docs": "success", "lengths": "success"}
    assert query(root, "select count(*) from lengths") == [(3,)]


def test_missing_file_source_is_a_clear_error(tmp_path):
    root = write_project(tmp_path / "p", {"models/lengths.sql": "select * from {{ source('corpus', 'docs') }}"},
                         project_yml=FILE_SOURCE_YML)
    result = cli(root, "run", expect=None)
    assert result.exit_code != 0
    assert "data/docs" in result.output
