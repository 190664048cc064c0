"""Parquet and CSV sources get the same validations as JSON Lines, with row numbers as lines."""

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quadmix_wh.ingest import SourceError, ingest_source


def _spec(path, fmt, **extra):
    return {"source_name": "raw", "name": "docs", "path": path, "format": fmt, **extra}


def _reasons(con):
    return dict(con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall())


def test_parquet_rows_validated_and_counted(tmp_path):
    table = pa.table({
        "id": ["a", "b", None, "a", "e", "f"],
        "text": ["alpha", "  ", "no id", "dup", None, "fine"],
        "year": [2001, 2002, 2003, 2004, 2005, 2006],
    })
    pq.write_table(table, tmp_path / "docs.parquet", row_group_size=2)
    con = duckdb.connect()
    report = ingest_source(con, _spec("docs.parquet", "parquet"), tmp_path, "docs")
    assert con.execute("SELECT doc_id, text, meta, _file, _line FROM docs").fetchall() == [
        ("a", "alpha", '{"year":2001}', "docs.parquet", 1), ("f", "fine", '{"year":2006}', "docs.parquet", 6)]
    assert _reasons(con) == {2: "empty_text", 3: "missing_id", 4: "duplicate_id", 5: "missing_text"}
    assert report.rows_loaded + report.rows_quarantined == 6


def test_parquet_non_string_text_column(tmp_path):
    pq.write_table(pa.table({"id": ["x"], "text": [3.5]}), tmp_path / "n.parquet")
    con = duckdb.connect()
    ingest_source(con, _spec("n.parquet", "parquet"), tmp_path, "docs")
    assert _reasons(con) == {1: "non_string_text"}


def test_csv_rows_with_embedded_newlines_use_row_numbers(tmp_path):
    (tmp_path / "d.csv").write_text(
        'id,text,lang\n1,"two\nlines",en\n2,,fr\n1,dup,en\n3,"quoted, comma",de\n', encoding="utf-8")
    con = duckdb.connect()
    report = ingest_source(con, _spec("d.csv", "csv"), tmp_path, "docs")
    assert con.execute("SELECT doc_id, text, meta, _line FROM docs").fetchall() == [
        ("1", "two\nlines", '{"lang":"en"}', 1), ("3", "quoted, comma", '{"lang":"de"}', 4)]
    assert _reasons(con) == {2: "empty_text", 3: "duplicate_id"}
    assert report.input_lines == 4


def test_csv_ids_stay_text(tmp_path):
    (tmp_path / "z.csv").write_text("id,text\n007,bond\n", encoding="utf-8")
    con = duckdb.connect()
    ingest_source(con, _spec("z.csv", "csv"), tmp_path, "docs")
    assert con.execute("SELECT doc_id FROM docs").fetchall() == [("007",)]


def test_glob_over_nested_folders_and_list_of_patterns(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for i, rel in enumerate(["a/1.jsonl", "a/b/2.jsonl", "3.jsonl"]):
        (tmp_path / rel).write_text(f'{{"id": "{i}", "text": "t{i}"}}\n', encoding="utf-8")
    con = duckdb.connect()
    report = ingest_source(con, _spec(["a/**/*.jsonl", "3.jsonl"], "jsonl"), tmp_path, "docs")
    assert sorted(report.files) == ["3.jsonl", "a/1.jsonl", "a/b/2.jsonl"]
    assert con.execute("SELECT count(*) FROM docs").fetchone() == (3,)


def test_format_inferred_from_suffix(tmp_path):
    pq.write_table(pa.table({"id": ["p"], "text": ["parquet text"]}), tmp_path / "x.parquet")
    con = duckdb.connect()
    ingest_source(con, {"source_name": "s", "name": "x", "path": "x.parquet"}, tmp_path, "x")
    assert con.execute("SELECT text FROM x").fetchall() == [("parquet text",)]


def test_unreadable_parquet_names_the_file(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(SourceError, match="bad.parquet"):
        ingest_source(duckdb.connect(), _spec("bad.parquet", "parquet"), tmp_path, "docs")


def test_unknown_format_is_rejected(tmp_path):
    (tmp_path / "a.txt").write_text("x\n")
    with pytest.raises(SourceError, match="unknown format 'xml'"):
        ingest_source(duckdb.connect(), _spec("a.txt", "xml"), tmp_path, "docs")


def test_csv_invalid_utf8_cell_quarantines_its_row_only(tmp_path):
    (tmp_path / "u.csv").write_bytes(b"id,text\n1,good\n2,caf\xe9\n3,also good\n")
    con = duckdb.connect()
    report = ingest_source(con, _spec("u.csv", "csv"), tmp_path, "docs")
    assert con.execute("SELECT doc_id FROM docs").fetchall() == [("1",), ("3",)]
    assert con.execute("SELECT line, reason, raw FROM quarantine").fetchall() == [
        (2, "invalid_utf8", '{"id":"2","text":"caf\ufffd"}')]
    assert report.input_lines == 3
