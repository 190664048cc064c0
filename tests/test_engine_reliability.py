"""SIGKILL at any point leaves the warehouse readable and consistent; concurrent runs are serialized."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import duckdb
import pytest
from test_engine_support import cli, write_project

SLOW_PROJECT = {
    "models/base.sql": "select i, i * {{ var('v') }} as w from range(1500000) t(i)",
    "models/pause.py": """\
        import time
        import pyarrow as pa
        config = {"materialized": "table"}

        def model(ctx):
            ctx.ref("base")
            time.sleep(0.4)
            return pa.table({"v": [ctx.var("v")]})
    """,
    "models/big.sql": "select b.i % 1000 as k, sum(b.w) as s, max(p.v) as v from {{ ref('base') }} b, "
                      "{{ ref('pause') }} p, range(4) r(j) group by all order by k",
    "models/big_view.sql": "{{ config(materialized='view') }} select k, s from {{ ref('big') }} where k < 10",
    "models/tail.sql": "select count(*) as n, sum(s) as total, max(v) as v from {{ ref('big') }}",
}
TABLES = ("base", "pause", "big", "tail")


def _snapshot(db_path) -> dict:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        return {t: con.execute(f"select count(*), sum(hash(x)) from {t} x").fetchone()
                for t in TABLES + ("big_view",) if t in present}
    finally:
        con.close()


def _cmd(root, *extra):
    return [sys.executable, "-m", "quadmix_wh.cli", "run", "--project-dir", str(root), *extra]


def test_sigkill_at_any_point_then_rerun_matches_uninterrupted(tmp_path):
    reference = write_project(tmp_path / "reference", SLOW_PROJECT)
    subprocess.run(_cmd(reference, "--vars", "{v: 1}"), check=True, capture_output=True)
    old = _snapshot(reference / "wh.duckdb")
    shutil.copy(reference / "wh.duckdb", tmp_path / "v1.duckdb")
    started = time.monotonic()
    subprocess.run(_cmd(reference, "--vars", "{v: 2}"), check=True, capture_output=True)
    duration = time.monotonic() - started  # kill points are fractions of it, so a busy machine still lands them
    new = _snapshot(reference / "wh.duckdb")
    assert old != new and set(new) == set(TABLES) | {"big_view"}

    interrupted = 0
    for delay in (0.25 * duration, 0.5 * duration, 0.75 * duration):
        root = write_project(tmp_path / f"killed_{delay:.2f}", SLOW_PROJECT)
        shutil.copy(tmp_path / "v1.duckdb", root / "wh.duckdb")  # the state after a finished v=1 run
        proc = subprocess.Popen(_cmd(root, "--vars", "{v: 2}"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        interrupted += proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Readable, and every published table is either its old or its new version, never partial.
        after_kill = _snapshot(root / "wh.duckdb")
        assert set(after_kill) == set(new)
        for table, value in after_kill.items():
            assert value in (old[table], new[table]), (delay, table)
        subprocess.run(_cmd(root, "--vars", "{v: 2}"), check=True, capture_output=True)
        assert _snapshot(root / "wh.duckdb") == new, delay
    assert interrupted >= 2  # the kills really landed inside running commands


def test_concurrent_run_waits_or_exits_clearly(tmp_path):
    files = dict(SLOW_PROJECT)
    files["models/pause.py"] = files["models/pause.py"].replace("time.sleep(0.4)", """\
open(ctx.project.root / "started", "w").close()
            time.sleep(4)""")
    root = write_project(tmp_path / "p", files)
    proc = subprocess.Popen(_cmd(root, "--vars", "{v: 1}"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while not (root / "started").exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.time() < deadline
            time.sleep(0.05)
        busy = cli(root, "run", "--vars", "{v: 1}", expect=2)
        assert "another quadmix-wh command is using this warehouse" in busy.output
        waited = cli(root, "run", "--vars", "{v: 1}", "--lock-timeout", "120")
        assert "Done" in waited.output
    finally:
        assert proc.wait(timeout=120) == 0
    assert _snapshot(root / "wh.duckdb")["tail"][0] == 1


@pytest.mark.slow
def test_sigkill_many_points(tmp_path):
    reference = write_project(tmp_path / "reference", SLOW_PROJECT)
    started = time.monotonic()
    subprocess.run(_cmd(reference, "--vars", "{v: 5}"), check=True, capture_output=True)
    duration = time.monotonic() - started
    expected = _snapshot(reference / "wh.duckdb")
    root = write_project(tmp_path / "killed", SLOW_PROJECT)
    for step in range(12):
        proc = subprocess.Popen(_cmd(root, "--vars", "{v: 5}", "--full-refresh"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * (step + 1) / 13)  # kill points spread over a whole run
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if (root / "wh.duckdb").exists():  # killed before the first connect: nothing to read yet
            _snapshot(root / "wh.duckdb")  # always readable
    subprocess.run(_cmd(root, "--vars", "{v: 5}"), check=True, capture_output=True)
    assert _snapshot(root / "wh.duckdb") == expected
