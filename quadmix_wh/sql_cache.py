"""A small on-disk cache of sqlglot analyses keyed by the rendered SQL's hash.

Parsing is the main cost of planning; an unchanged rendered query need not be parsed again,
which keeps a no-op re-run fast. The cache lives in target/ and is safe to delete.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .dag import SqlFacts

CACHE_VERSION = 1


class SqlFactsCache:
    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, dict] = {}
        self.used: set[str] = set()
        self.dirty = False
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("version") == CACHE_VERSION:
                    self.entries = data.get("entries", {})
            except (OSError, ValueError):
                self.entries = {}  # a damaged cache is only a slower run

    def analyze(self, sql: str, analyzer) -> SqlFacts:
        key = hashlib.sha256(sql.encode("utf-8")).hexdigest()
        self.used.add(key)
        hit = self.entries.get(key)
        if hit is not None:
            return SqlFacts(hit["normalized"], [tuple(t) for t in hit["tables"]], set(hit["functions"]), hit["parsed"])
        facts = analyzer(sql)
        self.entries[key] = {"normalized": facts.normalized, "tables": [list(t) for t in facts.tables],
                             "functions": sorted(facts.functions), "parsed": facts.parsed}
        self.dirty = True
        return facts

    def save(self) -> None:
        if self.path is None or not (self.dirty or set(self.entries) - self.used):
            return
        keep = {k: v for k, v in self.entries.items() if k in self.used}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "entries": keep}), encoding="utf-8")
        os.replace(tmp, self.path)
