"""Property: ingestion agrees with a plain-Python reference on every line, for random files."""

import json

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quadmix_wh.ingest import ingest_source

CON = duckdb.connect()

IDS = st.one_of(st.sampled_from(["a", "b", "c", " ", ""]), st.integers(0, 3), st.none(),
                st.just({"k": 1}), st.just(True))
TEXTS = st.one_of(st.text(alphabet='ab "\\\n\té😀', max_size=12), st.none(), st.integers(), st.just(["x"]))
RECORD = st.fixed_dictionaries({}, optional={"id": IDS, "text": TEXTS, "extra": st.integers()})
LINE = st.one_of(
    RECORD.map(lambda r: json.dumps(r, ensure_ascii=False).encode()),
    st.sampled_from([b"", b"  ", b"{broken", b"[1]", b'"str"', b'{"id": "z", "text": "\xff"}']),
)


def reference(lines: list[bytes]) -> list[str | None]:
    """The reason of each line (None: loaded), written independently of the SQL."""
    reasons, seen = [], set()
    for raw in lines:
        reason, doc_id = _reason(raw)
        if reason is None and doc_id in seen:
            reason = "duplicate_id"
        if reason is None:
            seen.add(doc_id)
        reasons.append(reason)
    return reasons


def _reason(raw: bytes):
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8", None
    if not line.strip():
        return "blank_line", None
    try:
        value = json.loads(line)
    except ValueError:
        return "invalid_json", None
    if not isinstance(value, dict):
        return "not_an_object", None
    doc_id, text = value.get("id"), value.get("text")
    if doc_id is None:
        return "missing_id", None
    if isinstance(doc_id, (dict, list, bool)):
        return "invalid_id", None
    doc_id = str(doc_id)
    if not doc_id.strip(" "):
        return "missing_id", None
    if text is None:
        return "missing_text", None
    if not isinstance(text, str):
        return "non_string_text", None
    if not text.strip():
        return "empty_text", None
    return None, doc_id


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, max_size=25))
def test_ingestion_matches_reference(tmp_path, lines):
    (tmp_path / "r.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    con = CON  # one connection for all examples: each ingestion replaces the table and quarantine
    report = ingest_source(con, {"source_name": "p", "name": "r", "path": "r.jsonl"}, tmp_path, "r")
    got = dict(con.execute("SELECT line, reason FROM quarantine").fetchall())
    got.update({line: None for (line,) in con.execute("SELECT _line FROM r").fetchall()})
    assert [got[i + 1] for i in range(len(lines))] == reference(lines)
    assert report.input_lines == len(lines)
