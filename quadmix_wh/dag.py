"""The dependency graph: edges from ref()/source() recorded at render time, a deterministic
topological order, cycle reports, and the sqlglot cross-check of rendered SQL."""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from .nodes import MODEL, SEED, SOURCE, TEST, Node


class DagError(Exception):
    """An unknown ref, a cycle or a table name that bypasses ref(); the message names the model."""


class Graph:
    def __init__(self, nodes: dict[str, Node]):
        self.nodes = nodes
        self.parents: dict[str, list[str]] = {uid: list(n.depends_on) for uid, n in nodes.items()}
        self.children: dict[str, list[str]] = {uid: [] for uid in nodes}
        for uid, parents in self.parents.items():
            for parent in parents:
                if parent not in nodes:
                    raise DagError(f"{nodes[uid].path}: '{nodes[uid].name}' depends on unknown node '{parent}'")
                self.children[parent].append(uid)
        self.order = self._topological_order()
        self.position = {uid: i for i, uid in enumerate(self.order)}

    def _topological_order(self) -> list[str]:
        pending = {uid: len(set(p)) for uid, p in self.parents.items()}
        ready = [uid for uid, n in pending.items() if n == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            uid = heapq.heappop(ready)
            order.append(uid)
            for child in sorted(set(self.children[uid])):
                pending[child] -= 1
                if pending[child] == 0:
                    heapq.heappush(ready, child)
        if len(order) != len(self.nodes):
            raise DagError(self._describe_cycle(set(self.nodes) - set(order)))
        return order

    def _describe_cycle(self, stuck: set[str]) -> str:
        start = min(stuck)
        path, seen, current = [], {}, start
        while current not in seen:
            seen[current] = len(path)
            path.append(current)
            current = min(p for p in self.parents[current] if p in stuck)
        cycle = path[seen[current]:] + [current]
        names = " -> ".join(self.nodes[u].name for u in reversed(cycle))
        return f"{self.nodes[start].path}: dependency cycle: {names}"

    def ancestors(self, uid: str) -> set[str]:
        return self._walk(uid, self.parents)

    def descendants(self, uid: str) -> set[str]:
        return self._walk(uid, self.children)

    def _walk(self, uid: str, edges: dict[str, list[str]]) -> set[str]:
        seen, stack = set(), list(edges[uid])
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(edges[current])
        return seen

    def sort(self, uids) -> list[str]:
        return sorted(uids, key=self.position.__getitem__)


@dataclass
class SqlFacts:
    """What sqlglot saw in a rendered query (None when it could not parse the dialect)."""
    normalized: str
    tables: list[tuple[str, str]]   # (schema or '', name), lower-cased
    functions: set[str]
    parsed: bool


def analyze_sql(sql: str) -> SqlFacts:
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, RecursionError):
        return SqlFacts(" ".join(sql.split()), [], set(), False)
    tables, functions, normalized = [], set(), []
    for statement in statements:
        ctes = {c.alias_or_name.lower() for c in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            name = table.name.lower()
            if name and not (not table.db and name in ctes):
                tables.append((table.db.lower(), name))
        for func in statement.find_all(exp.Func):
            functions.add((func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower())
        normalized.append(statement.sql(dialect="duckdb", comments=False))
    return SqlFacts(";\n".join(normalized), tables, functions, True)


def check_raw_tables(node: Node, facts: SqlFacts, by_relation: dict[tuple[str, str], Node]) -> None:
    """A table name that is a model/seed/source relation must come from ref()/source()."""
    for schema, name in facts.tables:
        if name.startswith("__qwh_rel_"):
            continue
        target = by_relation.get((schema or "main", name))
        if target is not None and target.unique_id != node.unique_id:
            how = f"source('{target.name.split('.')[0]}', '{target.name.split('.')[1]}')" \
                if target.kind == SOURCE else f"ref('{target.name}')"
            raise DagError(f"{node.path}: '{node.name}' reads table '{name}' directly; use {{{{ {how} }}}} "
                           f"so the dependency is tracked")


def relation_index(nodes: dict[str, Node]) -> dict[tuple[str, str], Node]:
    index = {}
    for node in nodes.values():
        if node.kind in (MODEL, SEED, SOURCE) and node.materialized != "ephemeral":
            index[(node.schema.lower(), (node.identifier or node.name).lower())] = node
    return index


_ = TEST
