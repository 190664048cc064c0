"""The `quadmix-wh` commands of the sampling part, attached by quadmix_wh.cli:

    quadmix-wh export [OUT_DIR | --out DIR]    a chosen mixture as partitioned Parquet files + manifest.json
"""
from __future__ import annotations

import sys

import click

from .export import DEFAULT_ROWS_PER_FILE, LAYOUTS, ORDERS, ExportError, export_mixture
from .params import ParamsError


def register(main) -> None:
    """Attach this part's commands to the `quadmix-wh` group."""
    from ..cli import open_project, project_options, reports_errors

    @main.command("export")
    @click.argument("out_dir", required=False, type=click.Path(file_okay=False))
    @project_options
    @click.option("--out", "out_option", default=None, type=click.Path(file_okay=False),
                  help="Same as OUT_DIR (default: <target-path>/mixture in the project).")
    @click.option("--param-set", default=None,
                  help="Parameter set to export (default: the only one in the mixture table).")
    @click.option("--layout", type=click.Choice(LAYOUTS), default="copies", show_default=True,
                  help="copies: one row per document with a copies column; rows: one row per copy.")
    @click.option("--order", type=click.Choice(ORDERS), default="shuffled", show_default=True,
                  help="Row order within a partition: seeded shuffle, or by doc_id.")
    @click.option("--partition-by", type=click.Choice(["domain", "none"]), default="domain", show_default=True)
    @click.option("--rows-per-file", type=click.IntRange(min=1), default=DEFAULT_ROWS_PER_FILE, show_default=True)
    @click.option("--columns", default=None,
                  help="Comma-separated document columns to include (default: text when present; '' for none).")
    @click.option("--overwrite", is_flag=True, help="Replace OUT_DIR even if it is not an earlier export (an earlier export is always replaced, atomically).")
    @reports_errors
    def export(out_dir, project_dir, vars_text, out_option, param_set, layout, order, partition_by, rows_per_file,
               columns, overwrite):
        """Write a mixture (models/mixture: `mixture`) as Parquet files a trainer can stream, with a
        manifest.json of row / token counts and per-file sha256 checksums."""
        from .. import warehouse  # noqa: PLC0415
        project = open_project(project_dir, vars_text)
        if out_dir and out_option and out_dir != out_option:
            click.echo(f"Error: export: two output folders given ({out_dir}, --out {out_option})", err=True)
            sys.exit(2)
        out_dir = out_dir or out_option or str(project.target_path / "mixture")
        settings = project.vars.get("quadmix") or {}
        wanted = None if columns is None else [c.strip() for c in columns.split(",") if c.strip()]
        con = warehouse.connect(project, read_only=True)
        try:
            manifest = export_mixture(
                con, out_dir, param_set=param_set, seed=int(settings.get("seed", 0)),
                mixture_table=settings.get("mixture_model", "mixture"),
                domains_table=settings.get("domains_model", "doc_domains"),
                documents_table=settings.get("documents_model", "documents"),
                columns=wanted, layout=layout, order=order,
                partition_by=None if partition_by == "none" else partition_by,
                rows_per_file=rows_per_file, overwrite=overwrite)
        except (ExportError, ParamsError) as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        finally:
            warehouse.close(con)
        totals = manifest["totals"]
        click.echo(f"Exported param_set {manifest['param_set']} (seed {manifest['seed']}, layout {layout}) to "
                   f"{out_dir}: {totals['files']} file(s), {totals['rows']:,} rows, {totals['documents']:,} "
                   f"documents, {totals['copies']:,} copies, {totals['tokens']:,} tokens; manifest.json")
