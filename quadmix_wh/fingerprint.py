"""Fingerprints for skipping unchanged nodes (SQLMesh style): normalized SQL, config, upstream
fingerprints, the node's input data and any extras added by context functions."""
from __future__ import annotations

import ast
import hashlib
import json

from .nodes import MODEL, SEED, SOURCE, Node
from .sql_values import sql_literal

# Bump when the engine changes how it builds relations, so old state is not trusted.
ENGINE_FINGERPRINT_VERSION = "qwh-1"


def _digest(parts: list[str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def file_digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def node_fingerprint(node: Node, upstream: list[str], data_signature: str = "") -> str:
    """Everything that decides a node's contents, hashed. `upstream` in dependency order."""
    if node.language == "python":
        definition = node.raw
    else:
        definition = node.definition_normalized or node.normalized_sql or node.sentinel_sql
    targets = sorted((node.definition_targets if node.definition_sql else node.sentinel_targets).items())
    config = json.dumps(node.config, sort_keys=True, default=str)
    return _digest([ENGINE_FINGERPRINT_VERSION, node.unique_id, node.materialized, definition,
                    json.dumps(targets), config, *upstream, data_signature, *node.fingerprint_extras])


def data_signature(con, project, node: Node) -> str:
    """The input-data part of a fingerprint for seeds and sources."""
    if node.kind == SEED:
        return file_digest(project.root / node.path)
    if node.kind == SOURCE and node.is_file_source:
        from .ingest import source_fingerprint  # noqa: PLC0415 - provided by the ingestion module
        return str(source_fingerprint(node.source_spec, project.root))
    if node.kind == SOURCE:
        return table_signature(con, node)
    if node.kind == MODEL and node.language == "python":
        return python_model_signature(con, project, node)
    return ""


def python_model_signature(con, project, node: Node) -> str:
    """What a Python model reads besides ref()/source(): the vars it reads (ctx.var('name'); all
    vars when a name is not a literal) and the tables named in its config `reads: [...]` (tables
    written outside the DAG, e.g. by a CLI command). A SQL model's vars are in its rendered SQL."""
    names: set[str] | None = set()
    for call in ast.walk(ast.parse(node.raw)):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "var":
            first = call.args[0] if call.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = None if names is None else names | {first.value}
            else:
                names = None
    used = project.vars if names is None else {k: project.vars.get(k) for k in sorted(names)}
    parts = [json.dumps(used, sort_keys=True, default=str)]
    for table in node.config.get("reads") or []:
        parts.append(f"{table}={_named_table_signature(con, str(table))}")
    return _digest(parts)


def _named_table_signature(con, table: str) -> str:
    try:
        count, xor = con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {_quoted(table)} AS t").fetchall()[0]
    except Exception:  # noqa: BLE001 - a missing table is a fingerprint of its own
        return "missing"
    return f"{count}:{xor}"


def _quoted(table: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))


def table_signature(con, node: Node) -> str:
    """Row count plus an order-independent hash of every row of an existing table."""
    try:
        count, xor = con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {node.relation} AS t").fetchone()
    except Exception:  # noqa: BLE001 - a missing table is a fingerprint of its own
        return "missing:" + sql_literal(node.relation)
    return f"{count}:{xor}"
