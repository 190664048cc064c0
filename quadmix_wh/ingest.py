"""File sources (JSON Lines, optionally gzipped; Parquet; CSV) into a documents table + quarantine.

Every input line (or Parquet/CSV row) ends up either in the source's table or in the shared
``quarantine`` table with a reason, so ``rows(table) + rows(quarantine for source) == input lines``.

How it works, and why:
- Python only moves bytes: files are read in large newline-aligned chunks and split into lines
  with Arrow compute (C++). A chunk is UTF-8 validated as a whole by an Arrow cast; only a chunk
  that fails falls back to decoding its lines one by one (bad lines keep their text with U+FFFD
  replacement characters, in quarantine).
- All set work (JSON validity, field extraction, reasons, first-wins de-duplication across files)
  is one SQL statement in DuckDB over a staging table, which parallelizes and can spill to disk.
- The table swap and the quarantine replacement happen in one transaction, so a failure leaves
  the previous table and quarantine untouched.
- Output order is (file order, line), so results are bit-identical whatever the thread count.
"""

from __future__ import annotations

import dataclasses
import glob
import gzip
import hashlib
import json
import pathlib
import uuid
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

# Bytes handed to Arrow per chunk: large enough to amortize per-chunk overhead, small enough
# that a 10 GB file never sits in memory at once.
CHUNK_BYTES = 64 * 1024 * 1024

FORMATS = ("jsonl", "parquet", "csv")

# Reasons a row is quarantined, in the order they are checked (first match wins).
REASONS = (
    "invalid_utf8",
    "blank_line",
    "invalid_json",
    "not_an_object",
    "missing_id",
    "invalid_id",
    "missing_text",
    "non_string_text",
    "empty_text",
    "duplicate_id",
)

QUARANTINE_DDL = (
    "CREATE TABLE IF NOT EXISTS quarantine "
    "(source VARCHAR, file VARCHAR, line BIGINT, reason VARCHAR, raw VARCHAR)"
)


class SourceError(Exception):
    """A source cannot be read at all (missing file, glob matching nothing, unreadable file)."""


@dataclasses.dataclass
class FileCounts:
    lines: int = 0
    loaded: int = 0
    quarantined: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class IngestReport:
    source: str  # "<source_name>.<name>", the key of this source's quarantine rows
    table: str
    files: dict[str, FileCounts]

    @property
    def rows_loaded(self) -> int:
        return sum(f.loaded for f in self.files.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(sum(f.quarantined.values()) for f in self.files.values())

    @property
    def input_lines(self) -> int:
        return sum(f.lines for f in self.files.values())

    @property
    def by_reason(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for counts in self.files.values():
            for reason, n in counts.quarantined.items():
                totals[reason] = totals.get(reason, 0) + n
        return dict(sorted(totals.items()))


# ---------------------------------------------------------------------------------------------
# Resolving a spec to files


def source_key(spec: dict) -> str:
    return f"{spec.get('source_name', '')}.{spec['name']}"


def source_format(spec: dict, files: list[pathlib.Path]) -> str:
    fmt = spec.get("format")
    if fmt is None:
        fmt = _format_from_suffix(files[0])
    if fmt not in FORMATS:
        raise SourceError(f"source {source_key(spec)}: unknown format {fmt!r} (expected one of {FORMATS})")
    return fmt


def _format_from_suffix(path: pathlib.Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    for suffix, fmt in ((".parquet", "parquet"), (".csv", "csv")):
        if name.endswith(suffix):
            return fmt
    return "jsonl"


def resolve_files(spec: dict, project_root: pathlib.Path) -> list[pathlib.Path]:
    """The source's files, sorted (their order decides which duplicate id wins)."""
    patterns = spec.get("path")
    if not patterns:
        raise SourceError(f"source {source_key(spec)}: no 'path' given")
    if isinstance(patterns, str):
        patterns = [patterns]
    files: set[pathlib.Path] = set()
    for pattern in patterns:
        files.update(_expand(pattern, pathlib.Path(project_root), spec))
    return sorted(files)


def _expand(pattern: str, root: pathlib.Path, spec: dict) -> list[pathlib.Path]:
    full = root / pattern
    if not glob.has_magic(pattern):
        if not full.is_file():
            raise SourceError(f"source {source_key(spec)}: file not found: {full}")
        return [full]
    matches = [pathlib.Path(p) for p in glob.glob(str(full), recursive=True)]
    matches = [p for p in matches if p.is_file()]
    if not matches:
        raise SourceError(f"source {source_key(spec)}: no file matches {full}")
    return matches


def _display_path(path: pathlib.Path, root: pathlib.Path) -> str:
    """Path as stored in _file / quarantine.file: relative to the project when inside it."""
    try:
        return path.resolve().relative_to(pathlib.Path(root).resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# ---------------------------------------------------------------------------------------------
# Fingerprint


def source_fingerprint(spec: dict, project_root: pathlib.Path) -> str:
    """Hash of the options that shape the output and of every file's name, size and content."""
    files = resolve_files(spec, project_root)
    digest = hashlib.sha256()
    options = {k: spec.get(k) for k in ("format", "id_field", "text_field", "source_field")}
    digest.update(json.dumps(options, sort_keys=True).encode())
    for path in files:
        digest.update(_display_path(path, project_root).encode() + b"\0")
        digest.update(str(path.stat().st_size).encode() + b"\0")
        digest.update(_file_sha256(path).encode())
    return digest.hexdigest()


def _file_sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Reading files into staging batches: Arrow tables (file_idx, line, raw, utf8_ok)
#
# A JSON Lines `raw` value keeps its terminating newline: that lets a whole chunk become an Arrow
# string array without copying (offsets computed with numpy over the chunk's bytes). JSON
# parsing ignores the trailing whitespace, and quarantine strips it.

STAGE_SCHEMA = pa.schema([("file_idx", pa.int32()), ("line", pa.int64()),
                          ("raw", pa.large_string()), ("utf8_ok", pa.bool_())])


def _open_bytes(path: pathlib.Path):
    with open(path, "rb") as probe:
        is_gzip = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def _line_chunks(path: pathlib.Path) -> Iterator[bytes]:
    """Newline-aligned byte chunks, each ending with a newline (one is added to a last line)."""
    carry = b""
    try:
        with _open_bytes(path) as handle:
            while block := handle.read(CHUNK_BYTES):
                data = carry + block
                cut = data.rfind(b"\n") + 1
                if cut:
                    yield data[:cut]
                carry = data[cut:]
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    if carry:
        yield carry + b"\n"


def _chunk_to_arrow(chunk: bytes, file_idx: int, first_line: int) -> pa.Table:
    newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
    offsets = np.concatenate(([0], newlines + 1)).astype(np.int64)
    n = len(newlines)
    lines = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chunk))
    try:
        lines.validate(full=True)  # UTF-8 check of the whole chunk, in C++
        utf8_ok = pa.array(np.ones(n, dtype=bool))
    except pa.ArrowInvalid:
        lines, utf8_ok = _decode_lines_one_by_one(chunk)
    line_numbers = pa.array(np.arange(first_line, first_line + n, dtype=np.int64))
    file_column = pa.array(np.full(n, file_idx, dtype=np.int32))
    return pa.Table.from_arrays([file_column, line_numbers, lines, utf8_ok], schema=STAGE_SCHEMA)


def _decode_lines_one_by_one(chunk: bytes) -> tuple[pa.Array, pa.Array]:
    """Slow path for a chunk holding invalid UTF-8: keep bad lines with replacement chars."""
    texts, ok = [], []
    for raw_line in chunk.split(b"\n")[:-1]:
        try:
            texts.append(raw_line.decode("utf-8") + "\n")
            ok.append(True)
        except UnicodeDecodeError:
            texts.append(raw_line.decode("utf-8", errors="replace") + "\n")
            ok.append(False)
    return pa.array(texts, pa.large_string()), pa.array(ok, pa.bool_())


def _stage_jsonl(con, path: pathlib.Path, file_idx: int) -> list[pa.Table]:
    batches, next_line = [], 1
    for chunk in _line_chunks(path):
        batch = _chunk_to_arrow(chunk, file_idx, next_line)
        next_line += batch.num_rows
        batches.append(batch)
    return batches


def _stage_parquet(con, path: pathlib.Path, file_idx: int) -> list[pa.Table]:
    # Each row becomes a JSON object so the same validation SQL applies to every format.
    try:
        table = con.sql(
            """SELECT ?::INTEGER AS file_idx, file_row_number + 1 AS line,
                      json_merge_patch(to_json(r), '{"file_row_number": null}')::VARCHAR AS raw,
                      true AS utf8_ok
            FROM read_parquet(?, file_row_number = true) AS r ORDER BY line""",
            params=[file_idx, str(path)],
        ).to_arrow_table()
    except duckdb.Error as exc:
        raise SourceError(f"cannot read Parquet file {path}: {exc}") from exc
    return [table.cast(STAGE_SCHEMA)]


def _stage_csv(con, path: pathlib.Path, file_idx: int) -> list[pa.Table]:
    # pyarrow keeps the file's row order, so row numbers are exact; every column stays text.
    try:
        with pacsv.open_csv(path) as reader:
            header = reader.schema.names
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(column_types={c: pa.large_binary() for c in header}),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(f"cannot read CSV file {path}: {exc}") from exc
    columns, utf8_ok = _csv_text_columns(table)
    rows = pa.table({**dict(zip(table.column_names, columns)),
                     "__qm_row": pa.array(range(1, table.num_rows + 1), pa.int64()), "__qm_ok": utf8_ok})
    view = f"_qm_csv_{uuid.uuid4().hex}"
    con.register(view, rows)
    try:
        staged = con.sql(
            f"""SELECT ?::INTEGER AS file_idx, __qm_row AS line,
                       json_merge_patch(to_json(r), '{{"__qm_row": null, "__qm_ok": null}}')::VARCHAR AS raw,
                       __qm_ok AS utf8_ok
            FROM {view} AS r ORDER BY line""",
            params=[file_idx],
        ).to_arrow_table()
    finally:
        con.unregister(view)
    return [staged.cast(STAGE_SCHEMA)]


def _csv_text_columns(table: pa.Table) -> tuple[list[pa.Array], pa.Array]:
    """Columns as text; cells with invalid UTF-8 get replacement chars and flag their row."""
    ok = np.ones(table.num_rows, dtype=bool)
    columns = []
    for column in table.columns:
        try:
            columns.append(column.cast(pa.large_string()))
        except pa.ArrowInvalid:  # slow path, only for a column holding bad bytes
            cells = column.to_pylist()
            for row, cell in enumerate(cells):
                if cell is not None and not _is_utf8(cell):
                    ok[row] = False
            columns.append(pa.array([None if c is None else c.decode("utf-8", errors="replace") for c in cells],
                                    pa.large_string()))
    return columns, pa.array(ok)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


STAGERS = {"jsonl": _stage_jsonl, "parquet": _stage_parquet, "csv": _stage_csv}


# ---------------------------------------------------------------------------------------------
# Classification SQL


def _json_path(field: str) -> str:
    return '$."' + field.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _classify_sql(stage: str, spec: dict) -> str:
    """One row per input line: its reason (NULL when it becomes a document) and its fields.

    Each document is parsed a few times (validity, types, values, meta), all inside DuckDB's
    vectorized JSON reader; CASE branches only run on the rows that reach them.
    """
    id_field = spec.get("id_field", "id")
    text_field = spec.get("text_field", "text")
    source_field = spec.get("source_field")
    paths = "[" + ", ".join(_sql_literal(_json_path(f)) for f in (id_field, text_field, source_field or text_field)) + "]"
    removed = {id_field: None, text_field: None}
    if source_field:
        removed[source_field] = None
    default_source = _sql_literal(spec["name"])
    row_source = f"coalesce(vals[3], {default_source})" if source_field else default_source
    return f"""
    WITH checked AS (
        SELECT file_idx, line, raw,
            CASE WHEN NOT utf8_ok THEN 'invalid_utf8'
                 WHEN regexp_full_match(raw, '[\\s\\p{{Z}}]*') THEN 'blank_line'
            END AS early_reason
        FROM {stage}
    ), typed AS (
        -- try(): one parse both validates the JSON and types the fields (NULL when invalid)
        SELECT *, CASE WHEN early_reason IS NULL THEN try(json_type(raw, {paths})) END AS types
        FROM checked
    ), fields AS (
        SELECT file_idx, line, raw, types,
            coalesce(early_reason,
                CASE WHEN types IS NULL THEN 'invalid_json'
                     WHEN NOT starts_with(ltrim(raw, E' \\t\\r\\n'), '{{') THEN 'not_an_object'
                END) AS parse_reason,
            CASE WHEN early_reason IS NULL AND types IS NOT NULL
                 THEN json_extract_string(raw, {paths}) END AS vals
        FROM typed
    ), reasoned AS (
        SELECT file_idx, line, raw, vals[1] AS doc_id, vals[2] AS text, {row_source} AS source,
            coalesce(parse_reason,
                CASE WHEN types[1] IS NULL OR types[1] = 'NULL' THEN 'missing_id'
                     WHEN types[1] IN ('OBJECT', 'ARRAY', 'BOOLEAN') THEN 'invalid_id'
                     WHEN trim(vals[1]) = '' THEN 'missing_id'
                     WHEN types[2] IS NULL OR types[2] = 'NULL' THEN 'missing_text'
                     WHEN types[2] <> 'VARCHAR' THEN 'non_string_text'
                     WHEN regexp_full_match(vals[2], '[\\s\\p{{Z}}]*') THEN 'empty_text'
                END) AS reason0
        FROM fields
    )
    SELECT file_idx, line, reason0 AS reason,
        CASE WHEN reason0 IS NULL THEN doc_id END AS doc_id,
        CASE WHEN reason0 IS NULL THEN text END AS text,
        CASE WHEN reason0 IS NULL THEN source END AS source,
        CASE WHEN reason0 IS NULL THEN json_merge_patch(raw, {_sql_literal(json.dumps(removed))}) END AS meta,
        CASE WHEN reason0 IS NOT NULL THEN rtrim(raw, E'\\n') END AS raw
    FROM reasoned
    """


def _duplicates_sql(classified: str) -> str:
    """Positions of later occurrences of an id among the good rows (first occurrence wins).

    Computed on a narrow projection: a window over the wide rows would sort all the text."""
    return f"""
    SELECT file_idx, line FROM (
        SELECT file_idx, line, row_number() OVER (PARTITION BY doc_id ORDER BY file_idx, line) AS seen
        FROM {classified} WHERE reason IS NULL AND doc_id IN (
            SELECT doc_id FROM {classified} WHERE reason IS NULL GROUP BY doc_id HAVING count(*) > 1)
    ) WHERE seen > 1
    """


def _mark_duplicates(con, classified: str, stage: str) -> None:
    dups = f"{classified}_dups"
    con.execute(f"CREATE TEMP TABLE {dups} AS {_duplicates_sql(classified)}")
    try:
        if con.execute(f"SELECT count(*) FROM {dups}").fetchall()[0][0]:
            con.execute(
                f"""UPDATE {classified} AS c
                SET reason = 'duplicate_id', doc_id = NULL, text = NULL, source = NULL, meta = NULL,
                    raw = rtrim(s.raw, E'\\n')
                FROM {dups} AS d JOIN {stage} AS s USING (file_idx, line)
                WHERE c.file_idx = d.file_idx AND c.line = d.line"""
            )
    finally:
        con.execute(f"DROP TABLE {dups}")


# ---------------------------------------------------------------------------------------------
# Public entry point


def quote_table(table: str) -> str:
    """Quote each dotted part of a table name, unless the caller already quoted it."""
    if '"' in table:
        return table
    return ".".join('"' + part + '"' for part in table.split("."))


def ingest_source(con, spec: dict, project_root: pathlib.Path, table: str, *,
                  own_transaction: bool = True) -> IngestReport:
    """(Re)build ``table`` from the source's files and replace its quarantine rows, atomically.

    With ``own_transaction=False`` the caller has already begun a transaction and commits or
    rolls back itself (DuckDB has no nested transactions or savepoints, and a failed BEGIN
    inside a transaction aborts it, so this cannot be detected safely).
    """
    project_root = pathlib.Path(project_root)
    files = resolve_files(spec, project_root)
    fmt = source_format(spec, files)
    if own_transaction:
        con.begin()
    try:
        report = _ingest_in_transaction(con, spec, project_root, table, files, fmt)
        if own_transaction:
            con.commit()
        return report
    except BaseException:
        if own_transaction:
            con.rollback()
        raise


def _ingest_in_transaction(con, spec, project_root, table, files, fmt) -> IngestReport:
    suffix = uuid.uuid4().hex
    stage, classified, names = f"_qm_stage_{suffix}", f"_qm_classified_{suffix}", f"_qm_files_{suffix}"
    display = [_display_path(p, project_root) for p in files]
    batches = [b for file_idx, path in enumerate(files) for b in STAGERS[fmt](con, path, file_idx)]
    # DuckDB scans the Arrow batches in place: the file bytes are never copied into a table.
    con.register(stage, pa.concat_tables(batches) if batches else STAGE_SCHEMA.empty_table())
    try:
        con.execute(f"CREATE TEMP TABLE {names} (file_idx INTEGER, file VARCHAR)")
        con.executemany(f"INSERT INTO {names} VALUES (?, ?)", list(enumerate(display)))
        con.execute(f"CREATE TEMP TABLE {classified} AS {_classify_sql(stage, spec)}")
        _mark_duplicates(con, classified, stage)
        con.unregister(stage)
        del batches
        _write_outputs(con, classified, names, table, source_key(spec))
        return _report(con, classified, names, display, spec, table)
    finally:
        _drop_temps(con, (classified, names))
        try:
            con.unregister(stage)
        except duckdb.Error:
            pass


def _drop_temps(con, names) -> None:
    for name in names:
        try:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        except duckdb.Error:
            pass  # the transaction already failed; its rollback removes the temp tables


def _write_outputs(con, classified: str, names: str, table: str, key: str) -> None:
    con.execute(
        f"""CREATE OR REPLACE TABLE {quote_table(table)} AS
        SELECT c.doc_id, c.text, c.source, c.meta::JSON AS meta, n.file AS _file, c.line AS _line
        FROM {classified} c JOIN {names} n USING (file_idx)
        WHERE c.reason IS NULL ORDER BY c.file_idx, c.line"""
    )
    con.execute(QUARANTINE_DDL)
    con.execute("DELETE FROM quarantine WHERE source = ?", [key])
    con.execute(
        f"""INSERT INTO quarantine
        SELECT ?, n.file, c.line, c.reason, c.raw
        FROM {classified} c JOIN {names} n USING (file_idx)
        WHERE c.reason IS NOT NULL ORDER BY c.file_idx, c.line""",
        [key],
    )


def _report(con, classified, names, display, spec, table) -> IngestReport:
    counts = {name: FileCounts() for name in display}
    rows = con.execute(
        f"""SELECT n.file, c.reason, count(*) FROM {classified} c JOIN {names} n USING (file_idx)
        GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    for file, reason, n in rows:
        entry = counts[file]
        entry.lines += n
        if reason is None:
            entry.loaded += n
        else:
            entry.quarantined[reason] = n
    return IngestReport(source=source_key(spec), table=table, files=counts)
