"""Fingerprints for skipping unchanged nodes (SQLMesh style): normalized SQL, config, upstream
fingerprints, the node's input data and any extras added by context functions."""
from __future__ import annotations

import hashlib
import json

from .nodes import SEED, SOURCE, Node
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
    return ""


def table_signature(con, node: Node) -> str:
    """Row count plus an order-independent hash of every row of an existing table."""
    try:
        count, xor = con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {node.relation} AS t").fetchone()
    except Exception:  # noqa: BLE001 - a missing table is a fingerprint of its own
        return "missing:" + sql_literal(node.relation)
    return f"{count}:{xor}"
