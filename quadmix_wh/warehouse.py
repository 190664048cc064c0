"""Opening the DuckDB warehouse: settings (threads, memory limit) and UDF registration."""
from __future__ import annotations

import importlib

import duckdb

from .sql_values import sql_literal

# Called in order on every connection, each as fn(con, project); a no-op when not configured.
UDF_PROVIDERS = ["quadmix_wh.tokenizer:register_udfs", "quadmix_wh.scoring:register_udfs"]
# Modules whose import registers Jinja context functions (e.g. score()).
CONTEXT_FUNCTION_MODULES = ["quadmix_wh.scoring"]


class WarehouseError(Exception):
    """The warehouse file cannot be opened (locked by another process, unreadable, ...)."""


def _import_optional(module_name: str):
    """Import a provider module; tolerate only that module itself not existing yet."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name or module_name.startswith(f"{exc.name}."):
            return None
        raise


def load_context_function_modules() -> None:
    for module_name in CONTEXT_FUNCTION_MODULES:
        _import_optional(module_name)


def _providers():
    for entry in UDF_PROVIDERS:
        module_name, _, attr = entry.partition(":")
        module = _import_optional(module_name)
        if module is not None:
            yield entry, getattr(module, attr)


def _function_names(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()}


def register_udfs(con, project) -> frozenset:
    """Run every UDF provider on `con`; return the names of the Python UDFs they added."""
    before = _function_names(con)
    for entry, register in _providers():
        try:
            register(con, project)
        except Exception as exc:  # noqa: BLE001 - name the provider; the cause is kept
            raise WarehouseError(f"UDF provider {entry} failed: {type(exc).__name__}: {exc}") from exc
    return frozenset(_function_names(con) - before)


def _configure(con, project) -> None:
    if project.threads:
        con.execute(f"SET threads = {int(project.threads)}")
    if project.memory_limit:
        con.execute(f"SET memory_limit = {sql_literal(project.memory_limit)}")
    con.execute(f"SET temp_directory = {sql_literal(str(project.temp_directory))}")


def connect(project, read_only: bool = False):
    """Open the project's warehouse with its settings and UDFs registered."""
    path = project.warehouse_path
    if read_only and not path.exists():
        raise WarehouseError(f"{path}: warehouse does not exist yet; run `quadmix-wh run` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        raise WarehouseError(f"{path}: cannot open the warehouse ({exc}); is another quadmix-wh "
                             f"command using it?") from None
    try:
        _configure(con, project)
        _UDF_NAMES[id(con)] = register_udfs(con, project)
    except BaseException:
        con.close()  # a half-set-up connection must not keep the file open
        raise
    return con


def connect_memory(project):
    """An in-memory connection with the project's UDFs (compile-time checks, no warehouse)."""
    con = duckdb.connect(":memory:")
    try:
        _configure(con, project)
        _UDF_NAMES[id(con)] = register_udfs(con, project)
    except BaseException:
        con.close()
        raise
    return con


_UDF_NAMES: dict[int, frozenset] = {}


def udf_names(con) -> frozenset:
    """Python UDF names registered on a connection opened by connect()."""
    return _UDF_NAMES.get(id(con), frozenset())


def close(con) -> None:
    _UDF_NAMES.pop(id(con), None)
    con.close()


def existing_relations(con) -> set[str]:
    """Lower-cased names of tables and views in the main schema."""
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    return {r[0].lower() for r in rows}
