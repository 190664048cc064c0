"""run / test / build / compile in DAG order, with skip-the-unchanged and blocking tests."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from . import warehouse
from .artifacts import write_compiled, write_manifest, write_run_results
from .data_tests import TestOutcome, generic_test_sql, run_test_sql
from .fingerprint import data_signature, node_fingerprint
from .lock import warehouse_lock
from .materializations import BlockingTestFailure, BuildContext, build, drop_leftover_temp_tables, relation_type
from .nodes import MODEL, SEED, SOURCE, TEST, Node
from .planning import Plan, build_plan
from .selection import select_nodes
from .sql_cache import SqlFactsCache
from .state import ensure_state_table, read_state

_VALIDATORS: list[Callable] = []


def register_validator(fn: Callable) -> Callable:
    """Register fn(project, con), called after planning and before any node runs; raise to abort."""
    if fn not in _VALIDATORS:
        _VALIDATORS.append(fn)
    return fn


class ValidationError(Exception):
    """A registered validator rejected the run."""


@dataclass
class NodeResult:
    unique_id: str
    name: str
    kind: str
    status: str          # success | skipped:unchanged | skipped | error | pass | fail | warn
    message: str = ""
    rows: int | None = None
    seconds: float = 0.0
    outcome: TestOutcome | None = None


@dataclass
class RunResults:
    command: str
    results: list[NodeResult] = field(default_factory=list)
    elapsed: float = 0.0
    plan: Plan | None = None

    @property
    def success(self) -> bool:
        return not any(r.status in ("error", "fail") for r in self.results)

    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return counts


@dataclass
class RunOptions:
    select: tuple = ()
    exclude: tuple = ()
    full_refresh: bool = False
    lock_timeout: float = 0.0
    on_result: Callable[[NodeResult, int, int], None] | None = None


def _cache(project) -> SqlFactsCache:
    return SqlFactsCache(project.target_path / "sql_facts_cache.json")


def plan_with(con, project, full_refresh: bool = False) -> Plan:
    warehouse.load_context_function_modules()
    existing = warehouse.existing_relations(con)
    return build_plan(project, relation_exists=lambda name: name.lower() in existing,
                      full_refresh=full_refresh, udf_names=warehouse.udf_names(con), cache=_cache(project))


def compile_project(project, full_refresh: bool = False) -> Plan:
    """Render and check everything, write target/ artifacts; never writes to the warehouse."""
    con = _compile_connection(project)
    try:
        plan = plan_with(con, project, full_refresh)
    finally:
        warehouse.close(con)
    write_compiled(plan)
    write_manifest(plan)
    return plan


def _compile_connection(project):
    # A read-only look at the warehouse tells is_incremental() what exists; when the file is
    # missing or busy, an in-memory connection still knows the UDFs.
    if project.warehouse_path.exists():
        try:
            return warehouse.connect(project, read_only=True)
        except warehouse.WarehouseError:
            pass
    return warehouse.connect_memory(project)


def execute(project, command: str, options: RunOptions) -> RunResults:
    """`command` is run, build or test."""
    started = time.perf_counter()
    with warehouse_lock(project, options.lock_timeout):
        con = warehouse.connect(project)
        try:
            plan = plan_with(con, project, options.full_refresh)
            for validator in list(_VALIDATORS):
                try:
                    validator(project, con)
                except Exception as exc:  # noqa: BLE001 - any validator failure aborts with its message
                    raise ValidationError(f"validation failed before running: {exc}") from exc
            ensure_state_table(con)
            drop_leftover_temp_tables(con)
            results = _Execution(con, plan, command, options).run()
        finally:
            warehouse.close(con)
    run_results = RunResults(command, results, time.perf_counter() - started, plan)
    write_compiled(plan)
    write_manifest(plan)
    write_run_results(plan, run_results)
    return run_results


class _Execution:
    def __init__(self, con, plan: Plan, command: str, options: RunOptions):
        self.con, self.plan, self.command, self.options = con, plan, command, options
        self.state = read_state(con)
        self.fingerprints: dict[str, str] = {}
        self.failed: set[str] = set()
        self.blocking_outcomes: dict[str, TestOutcome] = {}
        self.todo = self._nodes_to_visit()
        self.todo_set = set(self.todo)
        self.visited: set[str] = set()

    def _nodes_to_visit(self) -> list[str]:
        selected = select_nodes(self.plan, self.options.select, self.options.exclude)
        nodes = self.plan.nodes
        builds = {u for u in selected if nodes[u].builds_relation}
        if self.command == "test":
            return self.plan.graph.sort(u for u in selected if nodes[u].kind == TEST)
        # Inputs (seeds, file sources) of what is built come along; they skip when unchanged.
        for uid in list(builds):
            builds |= {a for a in self.plan.graph.ancestors(uid)
                       if nodes[a].kind == SEED or nodes[a].is_file_source}
        tests = {u for u in selected if nodes[u].kind == TEST} if self.command == "build" else set()
        return self.plan.graph.sort(builds | tests)

    # -- fingerprints --------------------------------------------------------------------------
    def fingerprint(self, uid: str) -> str:
        if uid in self.fingerprints:
            return self.fingerprints[uid]
        node = self.plan.nodes[uid]
        if uid not in self.todo_set and node.builds_relation and uid in self.state:
            value = self.state[uid]  # built earlier and not rebuilt now: what the warehouse holds
        else:
            upstream = [self.fingerprint(d) for d in node.depends_on]
            value = node_fingerprint(node, upstream, data_signature(self.con, self.plan.project, node))
        self.fingerprints[uid] = value
        return value

    # -- visiting ------------------------------------------------------------------------------
    def run(self) -> list[NodeResult]:
        results = []
        for index, uid in enumerate(self.todo):
            result = self._visit(self.plan.nodes[uid])
            self.visited.add(uid)
            results.append(result)
            if result.status in ("error", "skipped") and self.plan.nodes[uid].kind != TEST:
                self.failed.add(uid)
            if self.options.on_result:
                self.options.on_result(result, index + 1, len(self.todo))
        return results

    def _visit(self, node: Node) -> NodeResult:
        bad = [d for d in node.depends_on if d in self.failed]
        if bad:
            return NodeResult(node.unique_id, node.name, node.kind, "skipped",
                              f"upstream {self.plan.nodes[bad[0]].name} did not build")
        if node.kind == TEST:
            return self._visit_test(node)
        return self._visit_build(node)

    def _visit_build(self, node: Node) -> NodeResult:
        started = time.perf_counter()
        try:
            fingerprint = self.fingerprint(node.unique_id)
            if self._unchanged(node, fingerprint):
                return NodeResult(node.unique_id, node.name, node.kind, "skipped:unchanged")
            bctx = BuildContext(self.con, self.plan, self.options.full_refresh, self._run_blocking_tests)
            rows = build(bctx, node, fingerprint)
            return NodeResult(node.unique_id, node.name, node.kind, "success", rows=rows,
                              seconds=time.perf_counter() - started)
        except BlockingTestFailure as exc:
            failed = [o for o in exc.outcomes if o.status in ("fail", "error")]
            return NodeResult(node.unique_id, node.name, node.kind, "error", str(exc),
                              seconds=time.perf_counter() - started, outcome=failed[0] if failed else None)
        except Exception as exc:  # noqa: BLE001 - one failed node does not stop its siblings
            message = str(exc) if str(exc).startswith(str(node.path)) else f"{node.path}: {exc}"
            return NodeResult(node.unique_id, node.name, node.kind, "error", message,
                              seconds=time.perf_counter() - started)

    def _unchanged(self, node: Node, fingerprint: str) -> bool:
        if self.options.full_refresh or self.state.get(node.unique_id) != fingerprint:
            return False
        if node.kind == SOURCE:
            return relation_type(self.con, node.identifier) is not None
        return relation_type(self.con, node.identifier or node.name) is not None

    def _blocking_tests_of(self, node: Node) -> list[Node]:
        # A test is blocking only when everything else it reads is already in its final state:
        # a relationships test towards a model built later in this run waits for that model.
        return [t for t in self.plan.nodes.values() if t.kind == TEST and t.severity == "error"
                and t.test.get("attached_to") == node.unique_id
                and all(d == node.unique_id or d in self.visited or d not in self.todo_set
                        for d in t.depends_on)
                and not any(d in self.failed for d in t.depends_on)]

    def _run_blocking_tests(self, node: Node, relation: str) -> list[TestOutcome]:
        outcomes = []
        for test in self._blocking_tests_of(node):
            outcome = run_test_sql(self.con, test, self.test_sql(test, {node.unique_id: relation}))
            self.blocking_outcomes[test.unique_id] = outcome
            outcomes.append(outcome)
        return outcomes

    def test_sql(self, test: Node, overrides: dict[str, str] | None = None) -> str:
        if test.test["kind"] == "singular":
            return self.plan.final_sql(test, overrides)
        attached = self.plan.nodes[test.test["attached_to"]]
        if attached.kind == MODEL and attached.materialized == "ephemeral":
            raise ValueError(f"{test.path}: test '{test.name}' targets ephemeral model '{attached.name}'")
        relation = self.plan.relation_of(attached.unique_id, overrides)
        return generic_test_sql(test, relation, lambda name: self.plan.relation_of(
            self.plan.node_by_name(name).unique_id, overrides), self.plan.renderer)

    def _visit_test(self, node: Node) -> NodeResult:
        started = time.perf_counter()
        outcome = self.blocking_outcomes.get(node.unique_id)
        if outcome is None:
            try:
                outcome = run_test_sql(self.con, node, self.test_sql(node))
            except Exception as exc:  # noqa: BLE001 - a malformed test is an error result
                outcome = TestOutcome(node, "error", message=str(exc))
        status = {"pass": "pass", "warn": "warn", "fail": "fail", "error": "error"}[outcome.status]
        return NodeResult(node.unique_id, node.name, node.kind, status, outcome.message,
                          rows=outcome.failures, seconds=time.perf_counter() - started, outcome=outcome)
