"""Planning: discover nodes, render them, wire and check the DAG, compile final SQL."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .dag import DagError, Graph, analyze_sql, check_raw_tables, relation_index
from .nodes import MODEL, SEED, SOURCE, TEST, Node
from .parsing import discover
from .project import Project, merge_configs
from .rendering import Renderer, substitute_relations
from .sql_cache import SqlFactsCache

EPHEMERAL_PREFIX = "__qwh_eph_"


@dataclass
class Plan:
    project: Project
    nodes: dict[str, Node]
    graph: Graph
    renderer: Renderer
    udf_names: frozenset = field(default_factory=frozenset)

    def node_by_name(self, name: str) -> Node | None:
        return self.renderer.lookup.get(name)

    def relation_of(self, uid: str, overrides: dict[str, str] | None = None) -> str:
        if overrides and uid in overrides:
            return overrides[uid]
        node = self.nodes[uid]
        if node.kind == MODEL and node.materialized == "ephemeral":
            return EPHEMERAL_PREFIX + node.name
        return node.relation

    def final_sql(self, node: Node, overrides: dict[str, str] | None = None) -> str:
        """The node's SQL with real relation names, ephemeral models inlined as CTEs."""
        body = substitute_relations(node.sentinel_sql, node.sentinel_targets,
                                    lambda uid: self.relation_of(uid, overrides)).strip().rstrip(";")
        ephemerals = self._ephemeral_ancestors(node)
        if not ephemerals:
            return body
        ctes = []
        for uid in ephemerals:
            eph = self.nodes[uid]
            eph_sql = substitute_relations(eph.sentinel_sql, eph.sentinel_targets,
                                           lambda u: self.relation_of(u, overrides)).strip().rstrip(";")
            ctes.append(f"{EPHEMERAL_PREFIX}{eph.name} AS (\n{eph_sql}\n)")
        return "WITH " + ",\n".join(ctes) + f"\nSELECT * FROM (\n{body}\n)"

    def hook_sql(self, node: Node, when: str) -> list[str]:
        """The node's pre_hook / post_hook statements (config `pre_hook` or `pre-hook`, a string or
        a list; dbt semantics) with real relation names, in order; empty ones dropped."""
        hooks = node.config.get(f"{when}_hook", node.config.get(f"{when}-hook")) or []
        hooks = [hooks] if isinstance(hooks, str) else list(hooks)
        out = []
        for hook in hooks:
            sql = substitute_relations(str(hook), node.sentinel_targets or {}, self.relation_of).strip()
            if sql:
                out.append(sql)
        return out

    def _ephemeral_ancestors(self, node: Node) -> list[str]:
        found, stack = set(), list(node.depends_on)
        while stack:
            uid = stack.pop()
            dep = self.nodes[uid]
            if uid not in found and dep.kind == MODEL and dep.materialized == "ephemeral":
                found.add(uid)
                stack.extend(dep.depends_on)
        return self.graph.sort(found)


def build_plan(project: Project, relation_exists: Callable[[str], bool] = lambda _n: False,
               full_refresh: bool = False, udf_names: frozenset = frozenset(),
               cache: SqlFactsCache | None = None) -> Plan:
    nodes = discover(project)
    lookup = {n.name: n for n in nodes.values() if n.kind in (MODEL, SEED, SOURCE)}
    renderer = Renderer(project, lookup)
    for uid in sorted(nodes):
        _resolve(nodes[uid], renderer, nodes, relation_exists, full_refresh)
    graph = Graph(nodes)
    plan = Plan(project, nodes, graph, renderer, frozenset(udf_names))
    _check_sql(plan, cache or SqlFactsCache(None))
    return plan


def _resolve(node: Node, renderer: Renderer, nodes: dict[str, Node], relation_exists, full_refresh) -> None:
    if node.description:
        node.description = renderer.render_string(node.description, node)
    for column in node.columns.values():
        if isinstance(column.get("description"), str):
            column["description"] = renderer.render_string(column["description"], node)
    if node.kind in (SEED, SOURCE):
        return
    if node.kind == MODEL and node.language == "python":
        node.depends_on = [_python_dep(node, renderer, name) for name in node.python_refs] + \
                          [_python_dep(node, renderer, f"{s}.{t}") for s, t in node.python_sources]
        return
    if node.kind == TEST and node.test["kind"] != "singular":
        node.depends_on = [node.test["attached_to"]] + [_test_dep(node, renderer, kind, name)
                                                        for kind, name in node.test["extra_deps"]]
        return
    ctx = renderer.render_node(node, relation_exists, full_refresh)
    node.sentinel_sql, node.sentinel_targets = ctx.rendered, dict(ctx.sentinel_targets)
    node.depends_on = list(ctx.depends_on)
    node.config = merge_configs(node.config, ctx.config_calls)
    node.fingerprint_extras = list(ctx.fingerprint_extras)
    node.prerequisites = dict(ctx.prerequisites)
    if ctx.saw_incremental:
        definition = renderer.render_node(node, relation_exists, True)
        node.definition_sql, node.definition_targets = definition.rendered, dict(definition.sentinel_targets)
    if node.kind == TEST:
        node.test["severity"] = str(node.config.get("severity", "error")).lower()
        models = [d for d in node.depends_on if nodes[d].kind == MODEL]
        node.test["attached_to"] = models[0] if len(models) == 1 else None


def _python_dep(node: Node, renderer: Renderer, name: str) -> str:
    target = renderer.lookup.get(name)
    if target is None:
        raise DagError(f"{node.path}: Python model '{node.name}' refs unknown '{name}'")
    return target.unique_id


def _test_dep(node: Node, renderer: Renderer, kind: str, name: str) -> str:
    target = renderer.lookup.get(name)
    if target is None:
        raise DagError(f"{node.path}: test '{node.name}' refers to unknown {kind} '{name}'")
    return target.unique_id


def _check_sql(plan: Plan, cache: SqlFactsCache) -> None:
    index = relation_index(plan.nodes)
    for uid in plan.graph.order:
        node = plan.nodes[uid]
        if not node.sentinel_sql:
            continue
        facts = cache.analyze(node.sentinel_sql, analyze_sql)
        node.normalized_sql = facts.normalized
        if node.definition_sql:
            node.definition_normalized = cache.analyze(node.definition_sql, analyze_sql).normalized
        node.referenced_functions = set(facts.functions)
        check_raw_tables(node, facts, index)
        if node.kind == MODEL and node.materialized == "view":
            _check_view_udfs(plan, node)
    cache.save()


def _check_view_udfs(plan: Plan, node: Node) -> None:
    used = set(node.referenced_functions)
    for uid in plan._ephemeral_ancestors(node):
        used |= plan.nodes[uid].referenced_functions
    bad = sorted(used & plan.udf_names)
    if bad:
        raise DagError(f"{node.path}: view '{node.name}' calls Python UDF(s) {', '.join(bad)}; Python UDFs are "
                       f"not stored in the database file, so materialize it as a table instead")
