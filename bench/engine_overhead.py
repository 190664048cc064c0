"""Engine overhead on a generated N-model project (chains + fan-in, macros, tests).

Times render+plan (compile) with a cold and a warm parse cache, a full run, and a no-op re-run,
against a baseline measured in the same process: parsing the project's rendered SQL strings
with sqlglot once. Usage: python -m bench.engine_overhead [--models 500] [--quick]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlglot

from quadmix_wh.project import load_project
from quadmix_wh.runner import RunOptions, compile_project, execute

CHAIN_LENGTH = 10


def generate_project(root: Path, n_models: int) -> None:
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "project.yml").write_text(
        "name: bench\nwarehouse: {path: bench.duckdb, threads: 2}\nvars: {scale: 3}\n"
        "models:\n  bench:\n    +materialized: table\n    views:\n      +materialized: view\n")
    (root / "macros/util.sql").write_text(
        "{% macro scaled(col) %}({{ col }} * {{ var('scale') }}){% endmacro %}\n"
        "{% macro bucket(col, n) %}({{ col }} % {{ n }}){% endmacro %}\n")
    props = ["version: 2", "models:"]
    for i in range(n_models):
        position = i % CHAIN_LENGTH
        folder = "views" if position % 3 == 1 else "tables"
        if position == 0:
            sql = ("select i as id, {{ bucket('i', 7) }} as k, {{ scaled('i') }} as v "
                   "from range({{ 100 + N }}) t(i)").replace("N", str(i % 50))
        elif position == CHAIN_LENGTH - 1 and i >= CHAIN_LENGTH:
            # fan-in: this chain's tail joins the previous chain's tail
            sql = (f"{{% for m in ['m{i - 1:05d}', 'm{i - CHAIN_LENGTH:05d}'] %}}select id, k, v from {{{{ ref(m) }}}}"
                   "{% if not loop.last %} union all {% endif %}{% endfor %}")
        else:
            sql = f"select id, k, {{{{ scaled('v') }}}} % 1000003 as v from {{{{ ref('m{i - 1:05d}') }}}} where k >= 0"
        (root / "models" / folder).mkdir(exist_ok=True)
        (root / "models" / folder / f"m{i:05d}.sql").write_text(sql + "\n")
        if position == CHAIN_LENGTH - 1:
            props += [f"  - name: m{i:05d}", "    columns:", "      - name: k",
                      "        tests: [not_null, {range: {min: 0, max: 6}}]"]
    (root / "models/props.yml").write_text("\n".join(props) + "\n")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="100 models")
    args = parser.parse_args()
    n_models = 100 if args.quick else args.models
    workdir = Path(tempfile.mkdtemp(prefix="qwh_bench_"))
    try:
        root = workdir / "project"
        generate_project(root, n_models)
        project = load_project(root)

        cold_s, plan = timed(lambda: compile_project(project))
        warm_s, plan = timed(lambda: compile_project(project))
        rendered = [plan.final_sql(n) for n in plan.nodes.values() if n.sentinel_sql]
        baseline_s, _ = timed(lambda: [sqlglot.parse_one(sql, read="duckdb") for sql in rendered])

        full_s, full = timed(lambda: execute(project, "build", RunOptions()))
        noop_s, noop = timed(lambda: execute(project, "run", RunOptions()))
        assert full.success and all(r.status == "skipped:unchanged" for r in noop.results)
        cli_s, _ = timed(lambda: subprocess.run([sys.executable, "-m", "quadmix_wh.cli", "run", "--project-dir",
                                                 str(root)], check=True, capture_output=True))
        startup_s, _ = timed(lambda: subprocess.run([sys.executable, "-m", "quadmix_wh.cli", "--help"],
                                                    check=True, capture_output=True))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    n_tests = sum(1 for n in plan.nodes.values() if n.kind == "test")
    print(f"engine_overhead: {n_models} models, {n_tests} tests")
    print(f"  baseline: sqlglot.parse_one of {len(rendered)} rendered queries   {baseline_s:8.3f} s")
    rows = [("compile, cold parse cache (render+plan+checks)", cold_s),
            ("compile, warm parse cache", warm_s),
            ("build (all models + tests) from scratch", full_s),
            ("no-op re-run, in process (all skipped)", noop_s),
            ("no-op re-run, CLI subprocess", cli_s),
            ("CLI start-up alone (--help)", startup_s)]
    for label, seconds in rows:
        print(f"  {label:<52} {seconds:8.3f} s   {seconds / baseline_s:6.2f}x baseline")


if __name__ == "__main__":
    main()
