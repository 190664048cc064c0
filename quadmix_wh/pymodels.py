"""Python models: `models/x.py` defining `model(ctx)` that returns an Arrow table, a polars
DataFrame or a DuckDB relation."""
from __future__ import annotations

import copy

import pyarrow as pa


class PythonModelError(Exception):
    """A Python model failed or returned something that is not a table."""


class PythonModelContext:
    """What `model(ctx)` receives."""

    def __init__(self, con, plan, node, full_refresh: bool):
        self.con = con
        self.project = plan.project
        self._plan = plan
        self._node = node
        self._full_refresh = full_refresh
        self.this = node.relation

    def _relation_sql(self, uid: str):
        return self.con.sql(f"SELECT * FROM {self._plan.relation_of(uid)}")

    def ref(self, *names):
        target = self._plan.node_by_name(str(names[-1]))
        if target is None or target.unique_id not in self._node.depends_on:
            raise PythonModelError(f"{self._node.path}: ctx.ref({names[-1]!r}) must be called with a literal "
                                   f"name of a model or seed")
        return self._relation_sql(target.unique_id)

    def source(self, source_name: str, table_name: str):
        target = self._plan.node_by_name(f"{source_name}.{table_name}")
        if target is None or target.unique_id not in self._node.depends_on:
            raise PythonModelError(f"{self._node.path}: ctx.source({source_name!r}, {table_name!r}) is not a "
                                   f"declared source called with literal names")
        return self._relation_sql(target.unique_id)

    def var(self, name: str, default=None):
        return copy.deepcopy(self.project.vars.get(name, default))

    def config(self, **_kwargs) -> None:
        """Config is read statically from the file at plan time; calling this has no other effect."""

    def is_incremental(self) -> bool:
        if self._node.materialized != "incremental" or self._full_refresh:
            return False
        identifier = self._node.identifier or self._node.name
        row = self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                               "AND lower(table_name) = lower(?)", [identifier]).fetchone()
        return bool(row[0])


def _load_model_function(plan, node):
    path = plan.project.root / node.path
    namespace = {"__name__": f"quadmix_wh_model_{node.name}", "__file__": str(path)}
    exec(compile(node.raw, str(path), "exec"), namespace)  # noqa: S102 - running the user's own model file
    return namespace["model"]


def _as_arrow(result, node) -> pa.Table:
    if isinstance(result, pa.Table):
        return result
    if hasattr(result, "to_arrow") and callable(result.to_arrow):  # polars DataFrame
        table = result.to_arrow()
        return table if isinstance(table, pa.Table) else pa.Table.from_batches(table)
    for method in ("to_arrow_table", "fetch_arrow_table", "arrow"):  # DuckDB relation
        if hasattr(result, method):
            table = getattr(result, method)()
            return table if isinstance(table, pa.Table) else table.read_all()
    raise PythonModelError(f"{node.path}: model() returned {type(result).__name__}; expected an Arrow table, "
                           f"a polars DataFrame or a DuckDB relation")


def run_python_model(con, plan, node, full_refresh: bool) -> pa.Table:
    ctx = PythonModelContext(con, plan, node, full_refresh)
    try:
        result = _load_model_function(plan, node)(ctx)
    except PythonModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - report the model file with the error
        raise PythonModelError(f"{node.path}: model() raised {type(exc).__name__}: {exc}") from exc
    return _as_arrow(result, node)
