"""Extension points other parts use: context functions, prerequisites, fingerprint extras,
validators, UDF providers, and attaching commands to the CLI."""
from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from test_engine_support import cli, query, statuses, write_project

from quadmix_wh import runner, warehouse
from quadmix_wh.cli import main
from quadmix_wh.rendering import context_function

CALLS: list[str] = []


@context_function("lookup_table")
def _lookup_table(render_ctx, model_name, version="v1"):
    """Like score(): refs a model, adds a fingerprint extra, and fills a table before the SQL runs."""
    relation = render_ctx.ref(model_name)
    render_ctx.add_fingerprint(f"lookup:{version}")

    def fill(con, project):
        CALLS.append(f"{render_ctx.node.name}:{version}")
        con.execute("create or replace table lookup_cache as select 42 as answer")
    render_ctx.add_prerequisite("lookup_cache", fill)
    return f"(select l.answer, r.* from lookup_cache l, {relation} r)"


FILES = {
    "models/base.sql": "select 1 as x",
    "models/uses.sql": "select * from {{ lookup_table('base', var('lookup_version', 'v1')) }}",
}


def test_context_function_refs_fingerprints_and_prerequisites(tmp_path):
    CALLS.clear()
    root = write_project(tmp_path / "p", FILES)
    cli(root, "run")
    assert query(root, "select answer, x from uses") == [(42, 1)]
    assert CALLS == ["uses:v1"]  # ran right before the node's SQL
    cli(root, "run")
    assert statuses(root)["uses"] == "skipped:unchanged" and CALLS == ["uses:v1"]
    cli(root, "run", "--vars", "{lookup_version: v2}")
    assert statuses(root)["uses"] == "success" and CALLS[-1] == "uses:v2"


def test_validator_runs_before_any_node_and_aborts(tmp_path):
    root = write_project(tmp_path / "p", FILES)
    seen = []

    def validator(project, con):
        seen.append(project.vars.get("alpha"))
        if project.vars.get("alpha", 0) < 0:
            raise ValueError("alpha must be >= 0")
    runner.register_validator(validator)
    try:
        result = cli(root, "run", "--vars", "{alpha: -1}", expect=2)
        assert "alpha must be >= 0" in result.output
        assert not (root / "target" / "run_results.json").exists()
        assert query(root, "select count(*) from information_schema.tables where table_name = 'base'") == [(0,)]
        cli(root, "run", "--vars", "{alpha: 1}")
        assert seen == [-1, 1]
    finally:
        runner._VALIDATORS.remove(validator)


def _provider_with_udf(con, project):
    con.create_function("add_one", lambda x: x + 1, ["BIGINT"], "BIGINT")


def _broken_provider(con, project):
    import not_a_real_dependency_xyz  # noqa: F401 - a provider whose own import fails


def test_udf_providers_run_in_order_and_only_missing_modules_are_tolerated(tmp_path, monkeypatch):
    root = write_project(tmp_path / "p", {"models/m.sql": "select add_one(41) as y"})
    monkeypatch.setattr(warehouse, "UDF_PROVIDERS", ["quadmix_wh_not_written_yet:register_udfs",
                                                     "test_engine_extensions:_provider_with_udf"])
    cli(root, "run")
    assert query(root, "select y from m") == [(42,)]
    from quadmix_wh.project import load_project
    monkeypatch.setattr(warehouse, "UDF_PROVIDERS", ["test_engine_extensions:_broken_provider"])
    with pytest.raises(warehouse.WarehouseError, match="_broken_provider failed"):
        warehouse.connect_memory(load_project(root))
    # A provider module that exists but whose own dependency is missing is not silently skipped.
    (tmp_path / "provider_with_missing_dep.py").write_text("import not_a_real_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(warehouse, "UDF_PROVIDERS", ["provider_with_missing_dep:register_udfs"])
    with pytest.raises(ModuleNotFoundError, match="not_a_real_dependency_xyz"):
        warehouse.connect_memory(load_project(root))


def test_other_parts_can_attach_commands():
    @click.command("hello-ext")
    def hello():
        click.echo("attached")
    main.add_command(hello)
    try:
        assert CliRunner().invoke(main, ["hello-ext"]).output.strip() == "attached"
    finally:
        main.commands.pop("hello-ext")
