"""Export one parameter set's mixture as Parquet files a training job can stream.

    <out_dir>/
      manifest.json
      domain=<domain>/part-00000.parquet ...     (partition_by='domain', the default)
      part-00000.parquet ...                     (partition_by=None)

Rows (layout='copies', the default): one row per kept document,
    doc_id, domain, n_tokens, copies, tokens (= copies * n_tokens), <extra document columns>
layout='rows': one row per copy (a document drawn 3 times appears 3 times),
    doc_id, domain, copy (0 .. copies - 1), n_tokens, <extra document columns>
Within a partition the rows are in a seeded shuffled order (order='shuffled', the default: by
md5 of seed:doc_id:copy, so a streaming trainer reads copies of a document spread out) or by
(doc_id, copy) (order='doc_id'), then cut into files of at most rows_per_file rows. The same
mixture, options and DuckDB version give byte-identical files (the manifest's sha256 values),
whatever the thread count.

manifest.json: format, version, param_set, seed, layout, order, partition_by, columns (name and
type), the totals (rows, documents, copies, tokens), the parameter rows of the set when the
warehouse has them, and per file: path (relative, '/' separated), partition value, rows,
documents, copies, tokens, bytes and sha256 (hashlib).

Atomic: everything is written into a sibling temporary folder which is renamed to out_dir at the
end. An existing out_dir is replaced (renamed aside, then removed) when it is an earlier export
(its manifest.json has format quadmix-mixture-export) or with overwrite=True; any other existing
folder is refused. A failure leaves out_dir as it was.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import quote

from ..sql_values import sql_literal
from .api import relation_name
from .params import ParamsError

LAYOUTS = ("copies", "rows")
ORDERS = ("shuffled", "doc_id")
PARTITIONS = ("domain", None)
FORMAT = "quadmix-mixture-export"
FORMAT_VERSION = 1
DEFAULT_ROWS_PER_FILE = 1_000_000
MANIFEST = "manifest.json"


class ExportError(ValueError):
    """The export could not be made (missing tables or param_set, bad options, out_dir exists)."""


def _tables(con) -> dict[str, str]:
    rows = con.execute("SELECT lower(table_name), table_name FROM information_schema.tables").fetchall()
    return dict(rows)


def _columns(con, relation: str) -> list[tuple[str, str]]:
    cursor = con.execute(f"SELECT * FROM {relation} LIMIT 0")
    return [(d[0], str(d[1])) for d in cursor.description]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_options(layout, order, partition_by, rows_per_file, seed) -> None:
    if layout not in LAYOUTS:
        raise ExportError(f"export: layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if order not in ORDERS:
        raise ExportError(f"export: order must be one of {', '.join(ORDERS)}, got {order!r}")
    if partition_by not in PARTITIONS:
        raise ExportError(f"export: partition_by must be 'domain' or None, got {partition_by!r}")
    if isinstance(rows_per_file, bool) or not isinstance(rows_per_file, int) or rows_per_file < 1:
        raise ExportError(f"export: rows_per_file must be an integer >= 1, got {rows_per_file!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ExportError(f"export: seed must be an integer, got {seed!r}")


def export_mixture(con, out_dir, *, param_set: str | None = None, seed: int = 0,
                   mixture_table: str = "mixture", domains_table: str = "doc_domains",
                   documents_table: str = "documents", columns: list[str] | None = None,
                   layout: str = "copies", order: str = "shuffled", partition_by: str | None = "domain",
                   rows_per_file: int = DEFAULT_ROWS_PER_FILE, overwrite: bool = False,
                   params_table: str | None = "sampling_params") -> dict:
    """Write the mixture of `param_set` (the only one when None) to Parquet files under out_dir.

    con            a DuckDB connection (read-only is enough) holding the tables below
    mixture_table  (param_set, doc_id, copies, tokens), e.g. the `mixture` model
    domains_table  (doc_id, domain) for the domain column and partitions
    documents_table (doc_id, n_tokens, <columns>...)
    columns        extra document columns to carry (default: 'text' when documents has it)
    seed           recorded in the manifest; also seeds the shuffled order
    Returns the manifest (also written to out_dir/manifest.json).
    """
    _check_options(layout, order, partition_by, rows_per_file, seed)
    out_dir = Path(out_dir)
    overwrite = overwrite or is_previous_export(out_dir)
    if out_dir.exists() and not overwrite:
        raise ExportError(f"export: {out_dir} already exists and is not an earlier export "
                          f"(pass overwrite=True / --overwrite to replace it)")
    tables = _tables(con)
    for name, what in ((mixture_table, "mixture"), (domains_table, "domains"), (documents_table, "documents")):
        if name.lower().split(".")[-1] not in tables:
            raise ExportError(f"export: {what} table {name!r} does not exist; run `quadmix-wh run` first")
    mixture, domains, documents = (relation_name(t) for t in (mixture_table, domains_table, documents_table))
    doc_columns = [c for c, _ in _columns(con, documents)]
    if columns is None:
        columns = ["text"] if "text" in doc_columns else []
    reserved = {"doc_id", "domain", "n_tokens", "copies", "tokens", "copy", "param_set"}
    for column in columns:
        if column not in doc_columns:
            raise ExportError(f"export: documents table {documents_table!r} has no column {column!r} "
                              f"(it has {', '.join(doc_columns)})")
        if column in reserved:
            raise ExportError(f"export: column {column!r} is exported anyway; do not list it in columns")

    sets = [r[0] for r in con.execute(f"SELECT DISTINCT param_set FROM {mixture} ORDER BY 1").fetchall()]
    if param_set is None:
        if len(sets) != 1:
            raise ExportError(f"export: mixture table {mixture_table!r} holds {len(sets)} parameter sets "
                              f"({', '.join(map(str, sets[:10]))}); choose one with param_set / --param-set")
        param_set = sets[0]
    elif str(param_set) not in [str(s) for s in sets]:
        raise ExportError(f"export: param_set {param_set!r} is not in mixture table {mixture_table!r} "
                          f"(it has {', '.join(map(str, sets[:10])) or 'no rows'})")
    param_set = str(param_set)

    extra = "".join(f", doc.{relation_name(c)}" for c in columns)
    seed_text = sql_literal(f"{seed}:")
    copy_sql = "c.copy" if layout == "rows" else "0"
    partition = "dd.domain" if partition_by == "domain" else "''"
    if layout == "rows":
        body = (f"m.doc_id, CAST(dd.domain AS VARCHAR) AS domain, CAST(c.copy AS BIGINT) AS copy, "
                f"CAST(doc.n_tokens AS BIGINT) AS n_tokens{extra}")
        source = f"{mixture} AS m CROSS JOIN LATERAL (SELECT range AS copy FROM range(m.copies)) AS c"
    else:
        body = (f"m.doc_id, CAST(dd.domain AS VARCHAR) AS domain, CAST(doc.n_tokens AS BIGINT) AS n_tokens, "
                f"CAST(m.copies AS BIGINT) AS copies, CAST(m.tokens AS BIGINT) AS tokens{extra}")
        source = f"{mixture} AS m"
    staged = f"qm_export_{uuid.uuid4().hex[:12]}"
    con.execute(_staging_sql(staged, body, partition, order, seed_text, copy_sql, source, domains, documents,
                             param_set, rows_per_file))
    try:
        return _write(con, staged, out_dir, overwrite=overwrite, param_set=param_set, seed=seed, layout=layout,
                      order=order, partition_by=partition_by, rows_per_file=rows_per_file,
                      params_table=params_table, tables=tables,
                      sources={"mixture": mixture_table, "domains": domains_table, "documents": documents_table})
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staged}")


def _staging_sql(staged, body, partition, order, seed_text, copy_sql, source, domains, documents,
                 param_set, rows_per_file) -> str:
    if order == "shuffled":
        keys = f"md5_number({seed_text} || m.doc_id || ':' || CAST({copy_sql} AS VARCHAR)) AS k1, m.doc_id AS k2, {copy_sql} AS k3"
    else:
        keys = f"0 AS k1, m.doc_id AS k2, {copy_sql} AS k3"
    # stored in file order, so that each file's COPY below reads only its own row groups
    return f"""
        CREATE TEMP TABLE {staged} AS
        SELECT * EXCLUDE (k1, k2, k3), k1, k2, k3,
               (row_number() OVER (PARTITION BY part ORDER BY k1, k2, k3) - 1) // {int(rows_per_file)} AS file_no
        FROM (
          SELECT {body}, CAST({partition} AS VARCHAR) AS part, {keys},
            CASE WHEN dd.doc_id IS NULL THEN error('export: doc_id ' || m.doc_id || ' has no domain in {domains}')
                 WHEN doc.doc_id IS NULL THEN error('export: doc_id ' || m.doc_id || ' is not in {documents}')
                 ELSE true END AS present
          FROM {source}
          LEFT JOIN {domains} AS dd ON dd.doc_id = m.doc_id
          LEFT JOIN {documents} AS doc ON doc.doc_id = m.doc_id
          WHERE CAST(m.param_set AS VARCHAR) = {sql_literal(param_set)} AND m.copies > 0
        )
        ORDER BY part, file_no, k1, k2, k3"""


def _write(con, staged, out_dir: Path, *, overwrite, param_set, seed, layout, order, partition_by,
           rows_per_file, params_table, tables, sources) -> dict:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    work.mkdir()
    try:
        drop = "part, k1, k2, k3, file_no, present"
        schema = con.execute(f"SELECT * EXCLUDE ({drop}) FROM {staged} LIMIT 0").description
        counts_sql = ("count(*), count(DISTINCT doc_id), count(*), sum(n_tokens)" if layout == "rows" else
                      "count(*), count(*), sum(copies), sum(tokens)")
        groups = con.execute(f"SELECT part, file_no, {counts_sql} FROM {staged} "
                             f"GROUP BY part, file_no ORDER BY part, file_no").fetchall()
        files = []
        for part, file_no, n_rows, n_docs, n_copies, n_tokens in groups:
            folder = work / f"domain={quote(part, safe='')}" if partition_by == "domain" else work
            folder.mkdir(exist_ok=True)
            path = folder / f"part-{int(file_no):05d}.parquet"
            con.execute(f"COPY (SELECT * EXCLUDE ({drop}) FROM {staged} "
                        f"WHERE part = {sql_literal(part)} AND file_no = {int(file_no)} ORDER BY k1, k2, k3) "
                        f"TO {sql_literal(str(path))} (FORMAT parquet, COMPRESSION zstd)")
            files.append({"path": path.relative_to(work).as_posix(),
                          "partition": part if partition_by == "domain" else None,
                          "rows": int(n_rows), "documents": int(n_docs), "copies": int(n_copies),
                          "tokens": int(n_tokens or 0), "bytes": path.stat().st_size, "sha256": _sha256(path)})
        documents = con.execute(f"SELECT count(DISTINCT doc_id) FROM {staged}").fetchall()[0][0]
        manifest = {
            "format": FORMAT, "version": FORMAT_VERSION, "param_set": param_set, "seed": seed,
            "layout": layout, "order": order, "partition_by": partition_by, "rows_per_file": rows_per_file,
            "columns": [{"name": d[0], "type": str(d[1])} for d in schema],
            "sources": sources,
            "totals": {"files": len(files), "rows": sum(f["rows"] for f in files), "documents": int(documents),
                       "copies": sum(f["copies"] for f in files), "tokens": sum(f["tokens"] for f in files)},
            "params": _param_rows(con, params_table, tables, param_set),
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        _publish(work, out_dir, overwrite)
        return manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _param_rows(con, params_table, tables, param_set) -> list[dict] | None:
    if not params_table or params_table.lower() not in tables:
        return None
    cursor = con.execute(f"SELECT * FROM {relation_name(params_table)} WHERE CAST(param_set AS VARCHAR) = ? "
                         f"ORDER BY domain", [param_set])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def is_previous_export(out_dir: Path) -> bool:
    """A folder this module wrote (its manifest.json says so): replaced without overwrite=True."""
    try:
        return json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _publish(work: Path, out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists():
        if not overwrite:
            raise ExportError(f"export: {out_dir} already exists and is not an earlier export "
                              f"(pass overwrite=True / --overwrite to replace it)")
        aside = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.rename(out_dir, aside)
        os.rename(work, out_dir)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.rename(work, out_dir)


def read_manifest(out_dir) -> dict:
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise ExportError(f"{path}: no export manifest")
    return json.loads(path.read_text(encoding="utf-8"))


def verify_export(out_dir) -> list[str]:
    """Problems found re-checking an export against its manifest (empty list: it is intact)."""
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    problems = []
    for entry in manifest["files"]:
        path = out_dir / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
        elif _sha256(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 differs from the manifest")
    return problems


__all__ = ["ExportError", "ParamsError", "export_mixture", "read_manifest", "verify_export"]
