"""A model / seed / source / data test as plain data: where it comes from, its config, its query."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

MODEL, SEED, SOURCE, TEST = "model", "seed", "source", "test"
MATERIALIZATIONS = ("view", "table", "incremental", "ephemeral")


def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def relation_text(schema: str, identifier: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(identifier)}"


@dataclass
class Node:
    unique_id: str                 # "model.x", "seed.x", "source.s.t", "test.x"
    name: str                      # what ref()/select use; "s.t" for sources
    kind: str
    path: Path | None = None       # file relative to the project root
    language: str = "sql"
    raw: str = ""                  # template text (SQL) or Python source
    config: dict = field(default_factory=dict)
    schema: str = "main"
    identifier: str = ""
    description: str = ""
    columns: dict = field(default_factory=dict)
    # filled while rendering / planning
    depends_on: list[str] = field(default_factory=list)
    compiled_sql: str = ""
    normalized_sql: str = ""
    fingerprint_extras: list[str] = field(default_factory=list)
    prerequisites: dict[str, Callable] = field(default_factory=dict)
    referenced_functions: set[str] = field(default_factory=set)
    # source tables: the YAML entry plus source_name; file sources have spec["path"]
    source_spec: dict | None = None
    # tests
    test: dict | None = None       # {"kind", "attached_to", "severity", "column", "args", ...}
    # Python models: ref/source calls read statically from the file
    python_refs: list[str] = field(default_factory=list)
    python_sources: list[tuple[str, str]] = field(default_factory=list)
    properties_path: Path | None = None
    sentinel_sql: str = ""         # rendered SQL with ref/source sentinels still in place
    sentinel_targets: dict[str, str] = field(default_factory=dict)
    # incremental models: the full-refresh rendering, whose fingerprint does not flip when the
    # table comes to exist (is_incremental() changes the SQL but not what the model means)
    definition_sql: str = ""
    definition_normalized: str = ""
    definition_targets: dict[str, str] = field(default_factory=dict)

    @property
    def relation(self) -> str:
        return relation_text(self.schema, self.identifier or self.name)

    @property
    def materialized(self) -> str:
        if self.kind == SEED:
            return "seed"
        if self.kind == SOURCE:
            return "file_source" if self.is_file_source else "source"
        if self.kind == TEST:
            return "test"
        return str(self.config.get("materialized", "view"))

    @property
    def is_file_source(self) -> bool:
        return self.kind == SOURCE and bool(self.source_spec and self.source_spec.get("path"))

    @property
    def builds_relation(self) -> bool:
        """Whether running this node writes something into the warehouse."""
        if self.kind == MODEL:
            return self.materialized != "ephemeral"
        return self.kind == SEED or self.is_file_source

    @property
    def tags(self) -> list[str]:
        tags = self.config.get("tags") or []
        return [tags] if isinstance(tags, str) else list(tags)

    @property
    def enabled(self) -> bool:
        return self.config.get("enabled", True) is not False

    @property
    def severity(self) -> str:
        return str((self.test or {}).get("severity", "error")).lower()

    def manifest_entry(self) -> dict[str, Any]:
        entry = {
            "unique_id": self.unique_id, "name": self.name, "resource_type": self.kind,
            "path": str(self.path) if self.path else None, "language": self.language,
            "relation": self.relation if self.kind != TEST else None,
            "materialized": self.materialized, "config": _jsonable(self.config),
            "depends_on": list(self.depends_on), "description": self.description,
            "columns": _jsonable(self.columns), "tags": self.tags,
        }
        if self.test:
            entry["test"] = _jsonable({k: v for k, v in self.test.items() if k != "builder"})
        return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
