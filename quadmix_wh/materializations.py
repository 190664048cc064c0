"""Building one node: view, table, incremental, seed, file source (ephemeral models are inlined).

Every publish happens in one DuckDB transaction: the model's pre-hooks run, the new table is built
under a temporary name, its blocking (error-severity) tests run against it, then the old relation
is dropped, the new one renamed into place, the post-hooks run and the state row is written, and
only then COMMIT. A crash or kill at any point leaves the previously published relation untouched
(DuckDB rolls back the open transaction). Hooks run on the build's connection, so the TEMP tables
a pre-hook creates are visible to the model's query (the sampled QuaDMix mode relies on it).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Callable

from .nodes import MODEL, SEED, SOURCE, Node, quote_ident, relation_text
from .pymodels import run_python_model
from .sql_values import sql_literal
from .state import write_state

TMP_PREFIX = "__qwh_tmp_"
PY_RESULT_VIEW = "__qwh_python_result"


class BuildError(Exception):
    """A node failed to build; the message names the node and the reason."""


class BlockingTestFailure(BuildError):
    def __init__(self, message: str, outcomes: list):
        super().__init__(message)
        self.outcomes = outcomes


@dataclass
class BuildContext:
    con: object
    plan: object
    full_refresh: bool
    # run the node's blocking tests against a relation text; returns outcomes (fail -> abort)
    run_blocking_tests: Callable[[Node, str], list]
    tests_run: list = field(default_factory=list)


def relation_type(con, identifier: str) -> str | None:
    row = con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'main' "
                      "AND lower(table_name) = lower(?)", [identifier]).fetchone()
    return row[0] if row else None


def drop_leftover_temp_tables(con) -> None:
    """Tables left by a process killed outside a transaction (never published; safe to drop)."""
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                       "AND table_name LIKE '\\_\\_qwh\\_tmp\\_%' ESCAPE '\\'").fetchall()
    for (name,) in rows:
        con.execute(f"DROP TABLE IF EXISTS {relation_text('main', name)}")


def _drop_any(con, identifier: str) -> None:
    kind = relation_type(con, identifier)
    if kind == "VIEW":
        con.execute(f"DROP VIEW {relation_text('main', identifier)}")
    elif kind is not None:
        con.execute(f"DROP TABLE {relation_text('main', identifier)}")


def _row_count(con, relation: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0])


def build(bctx: BuildContext, node: Node, fingerprint: str) -> int | None:
    """Build and publish `node`; returns the number of rows written (None for views)."""
    con, plan = bctx.con, bctx.plan
    if node.kind == SOURCE:
        return _ingest_file_source(bctx, node, fingerprint)
    for key, prerequisite in node.prerequisites.items():
        try:
            prerequisite(con, plan.project)
        except Exception as exc:  # noqa: BLE001 - name the node and the prerequisite
            raise BuildError(f"{node.path}: prerequisite '{key}' of '{node.name}' failed: {exc}") from exc
    python_result = run_python_model(con, plan, node, bctx.full_refresh) \
        if node.kind == MODEL and node.language == "python" else None
    con.execute("BEGIN TRANSACTION")
    try:
        _run_hooks(con, plan, node, "pre")
        rows = _publish(bctx, node, python_result)
        _run_hooks(con, plan, node, "post")
        write_state(con, node.unique_id, fingerprint, node.materialized)
        con.execute("COMMIT")
        return rows
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        if python_result is not None:
            con.unregister(PY_RESULT_VIEW)


def _run_hooks(con, plan, node: Node, when: str) -> None:
    for number, sql in enumerate(plan.hook_sql(node, when), start=1):
        try:
            con.execute(sql)
        except Exception as exc:  # noqa: BLE001 - name the node and the hook, keep DuckDB's reason
            raise BuildError(f"{node.path}: {when}_hook {number} of '{node.name}' failed: {exc}") from exc


def _select_sql(bctx: BuildContext, node: Node, python_result) -> str:
    if node.kind == SEED:
        path = bctx.plan.project.root / node.path
        # dbt applies column_types to the columns a seed has; folder-level types may name others.
        header = _csv_header(path)
        types = {k: v for k, v in (node.config.get("column_types") or {}).items() if k in header}
        opts = f", types = {sql_literal({str(k): str(v) for k, v in types.items()})}" if types else ""
        return f"SELECT * FROM read_csv({sql_literal(str(path))}, header = true, auto_detect = true{opts})"
    if python_result is not None:
        bctx.con.register(PY_RESULT_VIEW, python_result)
        return f"SELECT * FROM {PY_RESULT_VIEW}"
    return bctx.plan.final_sql(node)


def _csv_header(path) -> set[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return set(next(csv.reader(handle), []))


def _publish(bctx: BuildContext, node: Node, python_result) -> int | None:
    con = bctx.con
    identifier = node.identifier or node.name
    target = node.relation
    select = _select_sql(bctx, node, python_result)
    mode = node.materialized
    if mode == "view":
        if relation_type(con, identifier) == "BASE TABLE":
            _drop_any(con, identifier)
        con.execute(f"CREATE OR REPLACE VIEW {target} AS\n{select}")
        _blocking_tests(bctx, node, target)
        return None
    if mode == "incremental" and not bctx.full_refresh and relation_type(con, identifier) == "BASE TABLE":
        return _merge_incremental(bctx, node, select, target)
    tmp = relation_text("main", TMP_PREFIX + identifier)
    con.execute(f"CREATE TABLE {tmp} AS\n{select}")
    _blocking_tests(bctx, node, tmp)
    _drop_any(con, identifier)
    con.execute(f"ALTER TABLE {tmp} RENAME TO {quote_ident(identifier)}")
    return _row_count(con, target)


def _merge_incremental(bctx: BuildContext, node: Node, select: str, target: str) -> int:
    con = bctx.con
    tmp = relation_text("main", TMP_PREFIX + (node.identifier or node.name))
    con.execute(f"CREATE TABLE {tmp} AS\n{select}")
    new_rows = _row_count(con, tmp)
    keys = node.config.get("unique_key")
    if keys:
        keys = [keys] if isinstance(keys, str) else list(keys)
        cols = ", ".join(quote_ident(k) for k in keys)
        con.execute(f"DELETE FROM {target} WHERE ({cols}) IN (SELECT ({cols}) FROM {tmp})"
                    if len(keys) > 1 else f"DELETE FROM {target} WHERE {cols} IN (SELECT {cols} FROM {tmp})")
    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {tmp}")
    con.execute(f"DROP TABLE {tmp}")
    _blocking_tests(bctx, node, target)
    return new_rows


def _blocking_tests(bctx: BuildContext, node: Node, relation: str) -> None:
    outcomes = bctx.run_blocking_tests(node, relation)
    bctx.tests_run.extend(outcomes)
    failed = [o for o in outcomes if o.status in ("fail", "error")]
    if failed:
        names = ", ".join(o.node.name for o in failed)
        raise BlockingTestFailure(f"{node.path}: '{node.name}' not published: blocking test(s) failed: {names}",
                                  outcomes)


def _ingest_file_source(bctx: BuildContext, node: Node, fingerprint: str) -> int | None:
    from .ingest import ingest_source  # noqa: PLC0415 - provided by the ingestion module
    con = bctx.con
    # ingest_source publishes rows + quarantine in its own transaction; the state row follows.
    report = ingest_source(con, dict(node.source_spec), bctx.plan.project.root, node.identifier)
    con.execute("BEGIN TRANSACTION")
    try:
        write_state(con, node.unique_id, fingerprint, node.materialized)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    rows = getattr(report, "rows_loaded", None)
    if rows is None:
        rows = _row_count(con, node.relation)
    return rows
