"""mixture_export: `quadmix-wh run` also writes each parameter set's mixture as Parquet files a
trainer can stream (quadmix_wh.sampling.export; docs/SAMPLING.md, "Export"), and this table lists
the files written: (param_set, folder, path, partition, rows, documents, copies, tokens, bytes,
sha256), the same entries as each folder's manifest.json.

vars.quadmix.export (all optional):
    path: target/mixture_export     folder, relative to the project; one sub-folder per param_set
    layout: copies | rows, order: shuffled | doc_id, partition_by: domain | none,
    rows_per_file: 1000000, columns: [text]
    enabled: true                   false: write nothing (the table is then empty)
Each folder is replaced atomically. The model is rebuilt when the mixture or these vars change;
`quadmix-wh export` writes one set anywhere on demand.
"""
import pyarrow as pa

from quadmix_wh.sampling.export import export_mixture

COLUMNS = [("param_set", pa.string()), ("folder", pa.string()), ("path", pa.string()),
           ("partition", pa.string()), ("rows", pa.int64()), ("documents", pa.int64()),
           ("copies", pa.int64()), ("tokens", pa.int64()), ("bytes", pa.int64()), ("sha256", pa.string())]


def model(ctx):
    ctx.ref("mixture")                              # the dependency (and its data tests) first
    settings = ctx.var("quadmix", {}) or {}
    options = dict(settings.get("export") or {})
    rows = {name: [] for name, _ in COLUMNS}
    if options.pop("enabled", True):
        root = ctx.project.root / str(options.pop("path", "target/mixture_export"))
        partition_by = options.pop("partition_by", "domain")
        sets = [r[0] for r in ctx.con.execute("SELECT DISTINCT param_set FROM mixture ORDER BY 1").fetchall()]
        for param_set in sets:
            folder = root / str(param_set)
            manifest = export_mixture(
                ctx.con, folder, param_set=param_set, seed=int(settings.get("seed", 0)),
                domains_table=settings.get("domains_model", "doc_domains"),
                documents_table=settings.get("documents_model", "documents"),
                partition_by=None if partition_by in (None, "none") else partition_by,
                overwrite=True, **options)
            for entry in manifest["files"]:
                rows["param_set"].append(str(param_set))
                rows["folder"].append(folder.relative_to(ctx.project.root).as_posix()
                                      if folder.is_relative_to(ctx.project.root) else str(folder))
                for name in ("path", "partition", "rows", "documents", "copies", "tokens", "bytes", "sha256"):
                    rows[name].append(entry[name])
    return pa.table(rows, schema=pa.schema(COLUMNS))
