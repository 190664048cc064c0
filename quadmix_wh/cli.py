"""The `quadmix-wh` command line. Other parts attach their commands with `main.add_command(...)`."""
from __future__ import annotations

import functools
import json
import sys

import click

from . import __version__
from .dag import DagError
from .data_tests import describe_failure
from .lock import LockTimeout
from .project import ProjectError, load_project, parse_vars_option
from .rendering import RenderError
from .runner import RunOptions, ValidationError, compile_project, execute
from .selection import SelectionError, select_nodes
from .warehouse import WarehouseError

# Errors that are the user's to fix: printed as one clear line, exit status 2.
USER_ERRORS = (ProjectError, RenderError, DagError, SelectionError, LockTimeout, WarehouseError,
               ValidationError)


def _user_errors():
    try:
        from .ingest import SourceError  # noqa: PLC0415 - the ingestion module may not exist yet
        return USER_ERRORS + (SourceError,)
    except ImportError:
        return USER_ERRORS


def reports_errors(fn):
    """Turn known user errors into `Error: ...` and exit status 2 instead of a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _user_errors() as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
    return wrapper


def project_options(fn):
    fn = click.option("--vars", "vars_text", default=None,
                      help="YAML/JSON mapping overriding project vars, e.g. '{seed: 3}'.")(fn)
    fn = click.option("--project-dir", default=".", type=click.Path(file_okay=False),
                      help="Directory holding project.yml (or dbt_project.yml).")(fn)
    return fn


def selection_options(fn):
    fn = click.option("--exclude", multiple=True, help="Nodes to leave out (same syntax as --select).")(fn)
    fn = click.option("--select", "-s", multiple=True,
                      help="name, name+, +name, tag:x, path:models/x; space-separated or repeated.")(fn)
    return fn


def run_options(fn):
    fn = click.option("--lock-timeout", default=0.0, type=float, show_default=True,
                      help="Seconds to wait for another command using the warehouse.")(fn)
    fn = click.option("--threads", type=int, default=None, help="DuckDB threads (overrides project.yml).")(fn)
    fn = click.option("--full-refresh", is_flag=True, help="Rebuild everything selected, ignoring state.")(fn)
    return fn


def open_project(project_dir: str, vars_text: str | None, threads: int | None = None):
    return load_project(project_dir, parse_vars_option(vars_text), threads)


@click.group()
@click.version_option(__version__, prog_name="quadmix-wh")
def main():
    """quadmix-wh: a dbt-style DuckDB warehouse for choosing LLM training data with QuaDMix."""


def _printer(stream_is_tty: bool):
    """Per-node lines; a rich progress bar on a terminal, plain lines otherwise."""
    if not stream_is_tty:
        return None, lambda r, i, n: click.echo(_line(r, i, n))
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                        TimeElapsedColumn(), transient=True)
    state = {"task": None}

    def on_result(result, index, total):
        if state["task"] is None:
            state["task"] = progress.add_task("building", total=total)
        progress.console.print(_line(result, index, total), markup=False, highlight=False)
        progress.update(state["task"], completed=index, description=result.name[:30])
    return progress, on_result


def _line(result, index, total) -> str:
    extra = []
    if result.rows is not None and result.kind != "test":
        extra.append(f"{result.rows} rows")
    if result.kind == "test" and result.rows:
        extra.append(f"{result.rows} failing")
    if result.seconds >= 0.005:
        extra.append(f"{result.seconds:.2f}s")
    detail = f" ({', '.join(extra)})" if extra else ""
    width = len(str(total))
    return f"[{index:>{width}}/{total}] {result.status:<17} {result.kind} {result.name}{detail}"


def _execute(command: str, project_dir, vars_text, select, exclude, full_refresh, threads, lock_timeout):
    project = open_project(project_dir, vars_text, threads)
    progress, on_result = _printer(sys.stdout.isatty())
    options = RunOptions(select=select, exclude=exclude, full_refresh=full_refresh,
                         lock_timeout=lock_timeout, on_result=on_result)
    if progress is not None:
        with progress:
            results = execute(project, command, options)
    else:
        results = execute(project, command, options)
    _report(results)
    sys.exit(0 if results.success else 1)


def _report(results) -> None:
    problems = [r for r in results.results if r.status in ("error", "fail", "warn")]
    for r in problems:
        if r.outcome is not None and r.outcome.status in ("fail", "warn"):
            click.echo(("WARN " if r.status == "warn" else "FAIL ") + describe_failure(r.outcome))
        if r.message and (r.outcome is None or r.status == "error"):
            click.echo(f"{r.status.upper()} {r.message}")
    counts = ", ".join(f"{k}={v}" for k, v in sorted(results.by_status().items())) or "nothing to do"
    click.echo(f"Done in {results.elapsed:.2f}s: {counts}")


@main.command()
@project_options
@selection_options
@run_options
@reports_errors
def run(project_dir, vars_text, select, exclude, full_refresh, threads, lock_timeout):
    """Build the selected models (and the seeds / file sources they read)."""
    _execute("run", project_dir, vars_text, select, exclude, full_refresh, threads, lock_timeout)


@main.command()
@project_options
@selection_options
@run_options
@reports_errors
def build(project_dir, vars_text, select, exclude, full_refresh, threads, lock_timeout):
    """Seeds, sources, models and their tests, in DAG order; children of a failure are skipped."""
    _execute("build", project_dir, vars_text, select, exclude, full_refresh, threads, lock_timeout)


@main.command("test")
@project_options
@selection_options
@click.option("--threads", type=int, default=None, help="DuckDB threads.")
@click.option("--lock-timeout", default=0.0, type=float, show_default=True)
@reports_errors
def test_command(project_dir, vars_text, select, exclude, threads, lock_timeout):
    """Run data tests; exits non-zero when an error-severity test fails."""
    _execute("test", project_dir, vars_text, select, exclude, False, threads, lock_timeout)


@main.command()
@project_options
@selection_options
@reports_errors
def compile(project_dir, vars_text, select, exclude):  # noqa: A001 - dbt's command name
    """Render every model into target/compiled and write target/manifest.json."""
    project = open_project(project_dir, vars_text)
    plan = compile_project(project)
    chosen = select_nodes(plan, select, exclude)
    shown = [u for u in plan.graph.order if u in chosen and plan.nodes[u].sentinel_sql]
    click.echo(f"Compiled {len(shown)} node(s) into {project.target_path / 'compiled'}")


@main.command("ls")
@project_options
@selection_options
@click.option("--resource-type", type=click.Choice(["model", "seed", "source", "test", "all"]), default="all")
@click.option("--output", type=click.Choice(["name", "json", "path"]), default="name")
@reports_errors
def ls_command(project_dir, vars_text, select, exclude, resource_type, output):
    """List the selected nodes in DAG order."""
    project = open_project(project_dir, vars_text)
    plan = compile_project(project)
    chosen = select_nodes(plan, select, exclude)
    for uid in plan.graph.order:
        node = plan.nodes[uid]
        if uid not in chosen or (resource_type != "all" and node.kind != resource_type):
            continue
        if output == "json":
            click.echo(json.dumps({"unique_id": uid, "name": node.name, "resource_type": node.kind,
                                   "materialized": node.materialized, "tags": node.tags,
                                   "depends_on": node.depends_on}))
        elif output == "path":
            click.echo(str(node.path))
        else:
            click.echo(uid)


@main.command()
@click.argument("model")
@project_options
@click.option("--limit", default=10, show_default=True, type=int, help="Rows to show.")
@reports_errors
def show(model, project_dir, vars_text, limit):
    """Preview rows of MODEL (runs its compiled SQL read-only against the warehouse)."""
    from . import warehouse  # noqa: PLC0415
    from .runner import plan_with  # noqa: PLC0415
    project = open_project(project_dir, vars_text)
    con = warehouse.connect(project, read_only=True)
    try:
        plan = plan_with(con, project)
        node = plan.node_by_name(model)
        if node is None:
            raise SelectionError(f"show: no model, seed or source named '{model}'")
        sql = plan.final_sql(node) if node.sentinel_sql else f"SELECT * FROM {node.relation}"
        cur = con.execute(f"SELECT * FROM ({sql}) AS _show LIMIT {max(int(limit), 0)}")
        columns = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        warehouse.close(con)
    _print_table(columns, rows)


def _print_table(columns, rows) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    Console(width=max(100, 20 * len(columns))).print(table)


def _cell(value) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--name", default=None, help="Project name (default: the directory name).")
@reports_errors
def init(directory, name):
    """Create a new project skeleton in DIRECTORY that builds as is."""
    from .scaffold import create_project  # noqa: PLC0415
    root = create_project(directory, name)
    click.echo(f"Created project in {root}. Next: cd {directory} && quadmix-wh build")


# Commands contributed by the other parts of the package, each module exposing
# `register(main)`: Parquet export (sampling), scorer evaluation (scoring), simulate / fit /
# search / experiment (simulation). Kept out of this module so each part owns its commands.
COMMAND_MODULES = ["quadmix_wh.sampling.commands", "quadmix_wh.scoring.commands",
                   "quadmix_wh.simulation.commands"]


def _register_part_commands() -> None:
    import importlib  # noqa: PLC0415
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(main)


_register_part_commands()

if __name__ == "__main__":
    main()
