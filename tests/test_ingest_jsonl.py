"""Ingesting JSON Lines sources: every bad-row kind is quarantined, every line is accounted for."""

import gzip
import json
import pathlib

import duckdb
import pytest

from quadmix_wh.ingest import SourceError, ingest_source


def _jsonl(*records) -> bytes:
    lines = [r if isinstance(r, bytes) else json.dumps(r).encode() for r in records]
    return b"\n".join(lines) + b"\n"


BAD_FILE = _jsonl(
    {"id": "a", "text": "first a", "lang": "en"},  # 1 ok
    b'{"id": "broken", "text": ',  # 2 invalid_json
    b"",  # 3 blank_line
    b'{"id": "u", "text": "caf\xe9 latin-1"}',  # 4 invalid_utf8
    {"id": "a", "text": "second a"},  # 5 duplicate_id
    {"text": "no id here"},  # 6 missing_id
    {"id": "n", "text": 42},  # 7 non_string_text
    {"id": "m"},  # 8 missing_text
    {"id": "w", "text": " \t\n\u00a0"},  # 9 empty_text
    b"[1, 2, 3]",  # 10 not_an_object
    {"id": 7, "text": "numeric id is fine"},  # 11 ok
    {"id": {"x": 1}, "text": "object id"},  # 12 invalid_id
    {"id": "t", "text": None},  # 13 missing_text
)

EXPECTED_REASONS = {
    2: "invalid_json", 3: "blank_line", 4: "invalid_utf8", 5: "duplicate_id", 6: "missing_id",
    7: "non_string_text", 8: "missing_text", 9: "empty_text", 10: "not_an_object",
    12: "invalid_id", 13: "missing_text",
}


def _spec(path, **extra):
    return {"source_name": "raw", "name": "docs", "path": path, "format": "jsonl", **extra}


def _quarantine(con, source="raw.docs"):
    return con.execute(
        "SELECT file, line, reason, raw FROM quarantine WHERE source = ? ORDER BY file, line", [source]
    ).fetchall()


@pytest.mark.parametrize("compressed", [False, True])
def test_every_bad_row_kind_is_quarantined_with_file_and_line(tmp_path, compressed):
    name = "bad.jsonl.gz" if compressed else "bad.jsonl"
    data = gzip.compress(BAD_FILE) if compressed else BAD_FILE
    (tmp_path / name).write_bytes(data)
    con = duckdb.connect()
    report = ingest_source(con, _spec(name), tmp_path, "docs")

    quarantined = _quarantine(con)
    assert {line: reason for _, line, reason, _ in quarantined} == EXPECTED_REASONS
    assert {file for file, *_ in quarantined} == {name}
    rows = con.execute("SELECT doc_id, text, source, meta, _file, _line FROM docs").fetchall()
    assert rows == [("a", "first a", "docs", '{"lang":"en"}', name, 1),
                    ("7", "numeric id is fine", "docs", "{}", name, 11)]
    # the accounting invariant
    assert len(rows) + len(quarantined) == 13 == report.input_lines
    assert report.rows_loaded == 2 and report.rows_quarantined == 11
    assert report.files[name].quarantined["missing_text"] == 2


def test_invalid_utf8_line_keeps_its_text_with_replacement_chars(tmp_path):
    (tmp_path / "u.jsonl").write_bytes(_jsonl({"id": "ok", "text": "fine"}, b'{"id": "u", "text": "a\xffb"}'))
    con = duckdb.connect()
    ingest_source(con, _spec("u.jsonl"), tmp_path, "docs")
    [(file, line, reason, raw)] = _quarantine(con)
    assert (line, reason, raw) == (2, "invalid_utf8", '{"id": "u", "text": "a\ufffdb"}')


def test_duplicates_across_files_first_file_wins(tmp_path):
    (tmp_path / "part-1.jsonl").write_bytes(_jsonl({"id": "x", "text": "from part 1"}))
    (tmp_path / "part-2.jsonl.gz").write_bytes(
        gzip.compress(_jsonl({"id": "y", "text": "y"}, {"id": "x", "text": "from part 2"}))
    )
    con = duckdb.connect()
    report = ingest_source(con, _spec("part-*"), tmp_path, "docs")
    assert con.execute("SELECT doc_id, text FROM docs ORDER BY doc_id").fetchall() == [
        ("x", "from part 1"), ("y", "y")]
    assert _quarantine(con) == [("part-2.jsonl.gz", 2, "duplicate_id", '{"id": "x", "text": "from part 2"}')]
    assert report.by_reason == {"duplicate_id": 1}


def test_a_quarantined_row_does_not_claim_its_id(tmp_path):
    (tmp_path / "d.jsonl").write_bytes(_jsonl({"id": "x", "text": "   "}, {"id": "x", "text": "real"}))
    con = duckdb.connect()
    ingest_source(con, _spec("d.jsonl"), tmp_path, "docs")
    assert con.execute("SELECT doc_id, text, _line FROM docs").fetchall() == [("x", "real", 2)]


def test_last_line_without_newline_and_crlf(tmp_path):
    (tmp_path / "c.jsonl").write_bytes(b'{"id":"a","text":"A"}\r\n{"id":"b","text":"B"}')
    con = duckdb.connect()
    report = ingest_source(con, _spec("c.jsonl"), tmp_path, "docs")
    assert con.execute("SELECT doc_id, _line FROM docs").fetchall() == [("a", 1), ("b", 2)]
    assert report.rows_quarantined == 0


def test_custom_fields_and_per_row_source_label(tmp_path):
    records = [{"uid": "1", "body": "hello", "origin": "wiki", "k": [1]}, {"uid": "2", "body": "bye"}]
    (tmp_path / "f.jsonl").write_bytes(_jsonl(*records))
    con = duckdb.connect()
    ingest_source(con, _spec("f.jsonl", id_field="uid", text_field="body", source_field="origin"),
                  tmp_path, "docs")
    assert con.execute("SELECT doc_id, text, source, meta FROM docs").fetchall() == [
        ("1", "hello", "wiki", '{"k":[1]}'), ("2", "bye", "docs", "{}")]


def test_reingest_replaces_only_this_sources_quarantine(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(_jsonl(b"not json"))
    (tmp_path / "b.jsonl").write_bytes(_jsonl(b"not json either", {"id": "1", "text": "t"}))
    con = duckdb.connect()
    ingest_source(con, {**_spec("a.jsonl"), "name": "a"}, tmp_path, "a")
    ingest_source(con, {**_spec("b.jsonl"), "name": "b"}, tmp_path, "b")
    (tmp_path / "a.jsonl").write_bytes(_jsonl({"id": "1", "text": "fixed"}))
    ingest_source(con, {**_spec("a.jsonl"), "name": "a"}, tmp_path, "a")
    assert con.execute("SELECT source, line FROM quarantine").fetchall() == [("raw.b", 1)]
    assert con.execute("SELECT count(*) FROM a").fetchone() == (1,)


def test_missing_file_and_empty_glob_raise_naming_the_path(tmp_path):
    con = duckdb.connect()
    with pytest.raises(SourceError, match="nothere.jsonl"):
        ingest_source(con, _spec("nothere.jsonl"), tmp_path, "docs")
    with pytest.raises(SourceError, match=r"no file matches .*shards/\*\.jsonl"):
        ingest_source(con, _spec("shards/*.jsonl"), tmp_path, "docs")
    with pytest.raises(SourceError, match="missing.jsonl"):
        (tmp_path / "present.jsonl").write_bytes(_jsonl({"id": "1", "text": "t"}))
        ingest_source(con, _spec(["present.jsonl", "missing.jsonl"]), tmp_path, "docs")


def test_failure_leaves_previous_table_and_quarantine(tmp_path):
    (tmp_path / "ok.jsonl").write_bytes(_jsonl({"id": "1", "text": "t"}, b"bad"))
    con = duckdb.connect()
    ingest_source(con, _spec("ok.jsonl"), tmp_path, "docs")
    (tmp_path / "ok.jsonl").write_bytes(gzip.compress(_jsonl({"id": "2", "text": "u"}))[:-12])  # truncated gz
    with pytest.raises(SourceError, match="ok.jsonl"):
        ingest_source(con, _spec("ok.jsonl"), tmp_path, "docs")
    assert con.execute("SELECT doc_id FROM docs").fetchall() == [("1",)]
    assert con.execute("SELECT line FROM quarantine").fetchall() == [(2,)]


def test_output_is_identical_across_thread_counts(tmp_path, monkeypatch):
    import quadmix_wh.ingest as ingest

    monkeypatch.setattr(ingest, "CHUNK_BYTES", 4096)  # many chunks, one with bad UTF-8
    records = [{"id": f"d{i % 700}", "text": f"text {i} " * (i % 5)} for i in range(2000)]
    body = _jsonl(*records[:1000], b'{"id":"z","text":"\xff"}', *records[1000:])
    (tmp_path / "big.jsonl").write_bytes(body)
    results = []
    for threads in (1, 4):
        con = duckdb.connect(config={"threads": threads})
        report = ingest_source(con, _spec("big.jsonl"), tmp_path, "docs")
        results.append((con.execute("SELECT * FROM docs").fetchall(),
                        con.execute("SELECT * FROM quarantine").fetchall(), report.by_reason))
    assert results[0] == results[1]
    docs, quarantine, by_reason = results[0]
    assert len(docs) + len(quarantine) == 2001
    assert by_reason["invalid_utf8"] == 1 and quarantine[0][1] == "big.jsonl"


def test_runs_inside_a_callers_transaction(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(_jsonl({"id": "1", "text": "t"}))
    con = duckdb.connect()
    con.begin()
    ingest_source(con, _spec("a.jsonl"), tmp_path, "docs", own_transaction=False)
    con.rollback()  # the caller's rollback undoes the ingestion too
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'docs'").fetchone() == (0,)
