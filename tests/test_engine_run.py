"""run / build through the CLI: materializations, skip-the-unchanged, Python models, artifacts."""
from __future__ import annotations

import json

from test_engine_support import cli, query, statuses, write_project

CHAIN = {
    "seeds/numbers.csv": "x,label\n1,a\n2,b\n3,c\n4,d\n",
    "macros/math.sql": """\
        {% macro double(col) %}({{ col }} * 2){% endmacro %}
        {% macro quadruple(col) %}{{ double(double(col)) }}{% endmacro %}
    """,
    "models/staging/stg.sql": """\
        {{ config(materialized='view') }}
        select x, label from {{ ref('numbers') }} where x >= {{ var('min_x') }}
    """,
    "models/eph.sql": """\
        {{ config(materialized='ephemeral') }}
        select x, {{ quadruple('x') }} as x4 from {{ ref('stg') }}
    """,
    "models/wide.sql": "select s.x, s.label, e.x4 from {{ ref('stg') }} s join {{ ref('eph') }} e using (x) order by x\n",
}


def test_run_builds_tables_views_and_inlines_ephemerals(tmp_path):
    root = write_project(tmp_path / "p", CHAIN)
    cli(root, "run")
    assert query(root, "select x, label, x4 from wide order by x") == [(2, "b", 8), (3, "c", 12), (4, "d", 16)]
    kinds = dict(query(root, "select table_name, table_type from information_schema.tables"))
    assert kinds["stg"] == "VIEW" and kinds["wide"] == "BASE TABLE" and "eph" not in kinds
    compiled = (root / "target/compiled/models/wide.sql").read_text()
    assert "__qwh_eph_eph AS" in compiled and '"main"."stg"' in compiled


def test_second_run_skips_unchanged_and_change_propagates(tmp_path):
    root = write_project(tmp_path / "p", CHAIN)
    cli(root, "run")
    cli(root, "run")
    assert set(statuses(root).values()) == {"skipped:unchanged"}
    # A var change alters stg's SQL: stg and everything downstream rebuild, the seed does not.
    cli(root, "run", "--vars", "{min_x: 3}")
    got = statuses(root)
    assert got["numbers"] == "skipped:unchanged" and got["stg"] == "success" and got["wide"] == "success"
    assert query(root, "select count(*) from wide") == [(2,)]
    cli(root, "run", "--vars", "{min_x: 3}", "--full-refresh")
    assert set(statuses(root).values()) == {"success"}


def test_seed_change_rebuilds_dependents(tmp_path):
    root = write_project(tmp_path / "p", CHAIN)
    cli(root, "run")
    (root / "seeds/numbers.csv").write_text("x,label\n1,a\n2,b\n3,c\n4,d\n5,e\n")
    cli(root, "run")
    assert statuses(root)["wide"] == "success"
    assert query(root, "select max(x) from wide") == [(5,)]


def test_incremental_processes_only_new_rows(tmp_path):
    files = {
        "models/events.sql": """\
            {{ config(materialized='table') }}
            select * from range({{ var('n', 5) }}) t(id)
        """,
        "models/inc.sql": """\
            {{ config(materialized='incremental', unique_key='id') }}
            select id, id * 10 as v, current_setting('threads') as marker from {{ ref('events') }}
            {% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}
        """,
    }
    root = write_project(tmp_path / "p", files)
    cli(root, "run")
    assert query(root, "select count(*) from inc") == [(5,)]
    result = cli(root, "run", "--vars", "{n: 8}")
    assert "inc (3 rows" in result.output  # only the three new ids were processed
    assert query(root, "select count(*), count(distinct id) from inc") == [(8, 8)]
    cli(root, "run", "--vars", "{n: 8}")
    assert statuses(root)["inc"] == "skipped:unchanged"
    cli(root, "run", "--vars", "{n: 4}", "--full-refresh")
    assert query(root, "select count(*) from inc") == [(4,)]


def test_python_model_with_module_config(tmp_path):
    files = dict(CHAIN)
    files["models/py_summary.py"] = """\
        import polars as pl
        config = {"materialized": "table", "tags": ["py"]}

        def model(ctx):
            rows = ctx.ref("wide").pl()
            factor = ctx.var("factor", 1)
            return rows.select(pl.col("x").sum().alias("total")).with_columns(pl.col("total") * factor)
    """
    root = write_project(tmp_path / "p", files)
    cli(root, "run", "--vars", "{factor: 10}")
    assert query(root, "select total from py_summary") == [(90,)]
    manifest = json.loads((root / "target/manifest.json").read_text())
    assert manifest["nodes"]["model.py_summary"]["depends_on"] == ["model.wide"]
    cli(root, "run", "--vars", "{factor: 10}")
    assert statuses(root)["py_summary"] == "skipped:unchanged"


def test_python_model_returning_wrong_type_is_an_error(tmp_path):
    root = write_project(tmp_path / "p", {"models/bad.py": "def model(ctx):\n    return 42\n"})
    result = cli(root, "run", expect=1)
    assert "models/bad.py" in result.output and "expected an Arrow table" in result.output


def test_failed_model_leaves_published_table_and_skips_children(tmp_path):
    root = write_project(tmp_path / "p", {"models/a.sql": "select 1 as x", "models/b.sql": "select x from {{ ref('a') }}"})
    cli(root, "run")
    (root / "models/a.sql").write_text("select 1/0 as x, error('boom') as y")
    result = cli(root, "run", expect=1)
    assert "boom" in result.output
    assert statuses(root) == {"a": "error", "b": "skipped"}
    assert query(root, "select x from a") == [(1,)]  # previous version still published


def test_artifacts_and_selection(tmp_path):
    root = write_project(tmp_path / "p", CHAIN)
    cli(root, "run", "-s", "stg+")
    assert set(statuses(root)) == {"numbers", "stg", "wide"}  # the seed comes along as an input
    manifest = json.loads((root / "target/manifest.json").read_text())
    assert set(manifest["nodes"]["model.wide"]["depends_on"]) == {"model.stg", "model.eph"}
    assert manifest["nodes"]["model.stg"]["config"]["materialized"] == "view"
    run_results = json.loads((root / "target/run_results.json").read_text())
    assert run_results["success"] is True and all("execution_time" in r for r in run_results["results"])


def test_same_output_regardless_of_threads(tmp_path):
    files = {"models/r.sql": "select i, hash(i) % 97 as h, random() < 2 as ok from range(50000) t(i) order by h, i"}
    tables = []
    for threads in ("1", "4"):
        root = write_project(tmp_path / threads, files)
        cli(root, "run", "--threads", threads)
        tables.append(query(root, "select * from r"))  # stored row order included
    assert tables[0] == tables[1] and len(tables[0]) == 50000


def test_spills_go_beside_the_warehouse_not_the_working_directory(tmp_path, monkeypatch):
    from quadmix_wh import warehouse
    from quadmix_wh.project import load_project
    root = write_project(tmp_path / "p", {"models/a.sql": "select 1 as x"})
    monkeypatch.chdir(tmp_path)
    con = warehouse.connect(load_project(root))
    try:
        spill = con.execute("select current_setting('temp_directory')").fetchall()[0][0]
    finally:
        con.close()
    assert spill == str(root / "wh.duckdb.tmp")
    custom = write_project(tmp_path / "q", {"models/a.sql": "select 1 as x"},
                           project_yml="name: q\nwarehouse: {path: wh.duckdb, temp_directory: spill}\n")
    con = warehouse.connect(load_project(custom))
    try:
        assert con.execute("select current_setting('temp_directory')").fetchall()[0][0] == str(custom / "spill")
    finally:
        con.close()
