"""The `quadmix-wh` commands of the simulation part: simulate, fit, search, experiment.

Each opens the warehouse under the engine's lock (the same lock `quadmix-wh run` takes), reads
`vars.simulation` of project.yml (overridable with --vars) and reports bad input as one
`Error: ...` line with exit status 2, before any training.
"""
from __future__ import annotations

import contextlib
import functools
import sys
import time

import click

from quadmix_wh.sampling import ParamsError
from quadmix_wh.simulation.errors import FitError, ResultsConflictError, SimulationConfigError

SIMULATION_ERRORS = (SimulationConfigError, ResultsConflictError, FitError, ParamsError)


def _reports_simulation_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SIMULATION_ERRORS as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
    return wrapper


def _lock_option(fn):
    return click.option("--lock-timeout", default=0.0, type=float, show_default=True,
                        help="Seconds to wait for another command using the warehouse.")(fn)


@contextlib.contextmanager
def open_warehouse(project, lock_timeout: float):
    """The warehouse connection, under the engine's lock (no collision with `run`)."""
    from quadmix_wh import warehouse  # noqa: PLC0415
    from quadmix_wh.lock import warehouse_lock  # noqa: PLC0415
    with warehouse_lock(project, lock_timeout):
        con = warehouse.connect(project)
        try:
            yield con
        finally:
            warehouse.close(con)


def load_config(project):
    from quadmix_wh.simulation.config import load_simulation_config  # noqa: PLC0415
    return load_simulation_config(project.vars.get("simulation"))


def project_tokenizer(project):
    from quadmix_wh.tokenizer import load_tokenizer  # noqa: PLC0415
    path = project.tokenizer_path
    if path is None:
        raise SimulationConfigError("project.yml: `tokenizer:` is not set; the proxies train on the "
                                    "project tokenizer's ids")
    if not path.is_file():
        raise SimulationConfigError(f"project.yml: tokenizer file {path} does not exist")
    return load_tokenizer(path)


def _progress_printer(total_known: bool = True):
    started = time.perf_counter()

    def on_run(row, done, total):
        losses = ", ".join(f"{k[5:]} {v:.4f}" for k, v in row.items() if k.startswith("loss_") and v is not None)
        elapsed = time.perf_counter() - started
        click.echo(f"[{done:>{len(str(total))}}/{total}] {row['param_set']} {row['status']}"
                   f"{' ' + losses if losses else ''} ({elapsed:.1f}s)")
    return on_run


def register(main) -> None:
    """Attach this part's commands to the `quadmix-wh` group."""
    from quadmix_wh.cli import open_project, project_options, reports_errors  # noqa: PLC0415

    @main.command()
    @project_options
    @click.option("--fresh", is_flag=True, help="Drop the existing results and start the simulation over.")
    @click.option("--max-runs", type=int, default=None, help="Stop after this many new runs (resume later).")
    @_lock_option
    @reports_errors
    @_reports_simulation_errors
    def simulate(project_dir, vars_text, fresh, max_runs, lock_timeout):
        """Draw parameter sets (Algorithm 1), build their mixtures, train a proxy on each; resumable."""
        from quadmix_wh.simulation.inputs import ProjectInputs, prepare_mixtures  # noqa: PLC0415
        from quadmix_wh.simulation.loop import check_targets, run_simulation  # noqa: PLC0415
        from quadmix_wh.simulation.token_store import TokenStore  # noqa: PLC0415
        if max_runs is not None and max_runs < 0:
            raise SimulationConfigError(f"--max-runs: must be >= 0, got {max_runs}")
        project = open_project(project_dir, vars_text)
        cfg = load_config(project)
        inputs = ProjectInputs.from_vars(project.vars.get("quadmix"))
        tokenizer = project_tokenizer(project)
        with open_warehouse(project, lock_timeout) as con:
            check_targets(con, cfg["targets"])
            started = time.perf_counter()
            names = prepare_mixtures(con, cfg, inputs)
            click.echo(f"{len(names)} parameter sets and their mixtures built in "
                       f"{time.perf_counter() - started:.1f}s (sim_param_sets, sim_mixture)")
            store = TokenStore(con, project.target_path / "token_store", tokenizer)
            report = run_simulation(con, cfg, store, documents_table=inputs.documents, fresh=fresh,
                                    max_runs=max_runs, on_run_finished=_progress_printer())
        rate = f", {report.tokens_per_second:,.0f} tokens/s" if report.finished else ""
        click.echo(f"Simulated {len(report.finished)} run(s) in {report.seconds:.1f}s{rate} "
                   f"({report.batching}, {report.group_size} at once); {len(report.skipped)} already done. "
                   "Results in sim_results.")

    @main.command()
    @project_options
    @click.option("--table", default=None, help="Warehouse table of feature columns and a target column.")
    @click.option("--csv", "csv_path", default=None, type=click.Path(dir_okay=False),
                  help="CSV file of feature columns and a target column (e.g. RegMix domain weights -> loss).")
    @click.option("--features", default=None, help="Comma-separated feature columns (default: every numeric one).")
    @click.option("--target", default=None, help="Target column (default: vars.simulation.fit.target, "
                                                 "else the first loss_* column).")
    @click.option("--name", default=None, help="Name of the stored fit (default: vars.simulation.search.fit).")
    @_lock_option
    @reports_errors
    @_reports_simulation_errors
    def fit(project_dir, vars_text, table, csv_path, features, target, name, lock_timeout):
        """LightGBM from feature columns to a loss, with held-out Spearman/MAE next to a linear baseline."""
        from quadmix_wh.regression import fit as run_fit  # noqa: PLC0415
        project = open_project(project_dir, vars_text)
        cfg = load_config(project)
        if table and csv_path:
            raise FitError("--table and --csv: give one source, not both")
        chosen = [f.strip() for f in features.split(",") if f.strip()] if features else None
        settings = {k: v for k, v in cfg["fit"].items() if k != "target"}
        with open_warehouse(project, lock_timeout) as con:
            report = run_fit(con, table=table, csv=csv_path, features=chosen,
                             target=target or cfg["fit"]["target"], name=name or cfg["search"]["fit"],
                             settings=settings)
        click.echo(f"fit {report.fit_id!r}: {report.source} -> {report.target}, {len(report.features)} features, "
                   f"{report.n_train} train / {report.n_test} held-out rows")
        for model, m in report.metrics.items():
            click.echo(f"  {model:<9} Spearman {m['spearman']:.4f}  MAE {m['mae']:.5f}  ({m['seconds']:.2f}s)")
        click.echo("Stored in fits and fit_metrics.")

    @main.command()
    @project_options
    @click.option("--candidates", type=int, default=None, help="Candidates drawn (default: vars.simulation.search.n_candidates).")
    @click.option("--top-k", type=int, default=None, help="Best candidates averaged (default: search.top_k).")
    @click.option("--seed", type=int, default=None, help="Seed of the candidates (default: search.seed).")
    @click.option("--fit", "fit_name", default=None, help="Stored fit to use (default: search.fit).")
    @_lock_option
    @reports_errors
    @_reports_simulation_errors
    def search(project_dir, vars_text, candidates, top_k, seed, fit_name, lock_timeout):
        """Draw candidates with Algorithm 1, predict their loss, average the best into search_best_params."""
        from quadmix_wh.search import search as run_search  # noqa: PLC0415
        project = open_project(project_dir, vars_text)
        cfg = load_config(project)
        opts = cfg["search"]
        with open_warehouse(project, lock_timeout) as con:
            report = run_search(con, ranges=cfg.values, fit_id=fit_name or opts["fit"],
                                n_candidates=opts["n_candidates"] if candidates is None else candidates,
                                top_k=opts["top_k"] if top_k is None else top_k,
                                seed=opts["seed"] if seed is None else seed,
                                threads=cfg["fit"]["num_threads"])
        click.echo(f"searched {report.n_candidates:,} candidates in {report.seconds:.2f}s with fit "
                   f"{report.fit_id!r} ({report.target}): best predicted {report.best_predicted:.4f}, "
                   f"top {report.top_k} mean {report.top_k_mean_predicted:.4f}, their average "
                   f"{report.averaged_predicted:.4f}")
        click.echo("Stored in search_best_params (param_set 'searched') and search_summary. Build the "
                   "mixture with: quadmix-wh run --vars '{quadmix: {params_source: search}}'")

    @main.command()
    @project_options
    @click.option("--out", default=None, type=click.Path(dir_okay=False),
                  help="PNG plot path (default: <target-path>/experiment.png).")
    @_lock_option
    @reports_errors
    @_reports_simulation_errors
    def experiment(project_dir, vars_text, out, lock_timeout):
        """Random vs top-k per criterion vs their union vs QuaDMix (searched): same budget, larger proxy."""
        from pathlib import Path  # noqa: PLC0415

        from quadmix_wh.simulation.experiment import plot, run_experiment  # noqa: PLC0415
        from quadmix_wh.simulation.inputs import ProjectInputs  # noqa: PLC0415
        from quadmix_wh.simulation.token_store import TokenStore  # noqa: PLC0415
        project = open_project(project_dir, vars_text)
        cfg = load_config(project)
        inputs = ProjectInputs.from_vars(project.vars.get("quadmix"))
        tokenizer = project_tokenizer(project)
        png = Path(out) if out else project.target_path / "experiment.png"
        with open_warehouse(project, lock_timeout) as con:
            store = TokenStore(con, project.target_path / "token_store", tokenizer)
            report = run_experiment(con, cfg, inputs, store, on_arm_finished=_arm_printer())
            plot(report, png)
        for line in report.summary_lines():
            click.echo(line)
        click.echo(f"Results in experiment_results; plot {png}")


def _arm_printer():
    def on_arm(row):
        losses = ", ".join(f"{k[5:]} {v:.4f}" for k, v in row.items() if k.startswith("loss_"))
        click.echo(f"  {row['method']} (seed {row['seed']}): {row['documents']} docs, "
                   f"{row['mixture_tokens']:,} tokens in the mixture; {losses}")
    return on_arm
