"""Data tests: generic tests (unique, not_null, accepted_values, relationships, expression, range,
custom `{% test %}` macros) turned into SQL that returns failing rows, and running any test."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .nodes import Node, quote_ident
from .rendering import SENTINEL_RE
from .sql_values import sql_literal

EXAMPLE_ROWS = 5


class TestDefinitionError(Exception):
    """A test is declared with missing or wrong arguments."""


@dataclass
class TestOutcome:
    node: Node
    status: str                     # pass | fail | warn | error
    failures: int = 0
    columns: list[str] = field(default_factory=list)
    examples: list[tuple] = field(default_factory=list)
    message: str = ""


def _col(column: str | None, node: Node) -> str:
    if not column:
        raise TestDefinitionError(f"{node.path}: test '{node.name}' needs a column")
    # A declared column is a name; `column_name: "a || b"` style expressions are kept as written.
    return quote_ident(column) if column.replace("_", "").isalnum() else f"({column})"


def generic_test_sql(node: Node, relation: str, relation_of_ref: Callable[[str], str], renderer=None) -> str:
    """SQL that selects the failing rows of a generic test on `relation`."""
    test, args = node.test, dict(node.test.get("args") or {})
    kind, column = test["kind"], test.get("column")
    where = args.pop("where", None) or node.config.get("where")
    base = f"(SELECT * FROM {relation} WHERE {where})" if where else relation
    if kind == "not_null":
        return f"SELECT * FROM {base} AS t WHERE {_col(column, node)} IS NULL"
    if kind == "unique":
        col = _col(column, node)
        return (f"SELECT {col} AS unique_field, count(*) AS n_records FROM {base} AS t "
                f"WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1")
    if kind == "accepted_values":
        values = args.get("values")
        if not isinstance(values, list) or not values:
            raise TestDefinitionError(f"{node.path}: accepted_values on {column} needs `values: [...]`")
        col = _col(column, node)
        quoted = ", ".join(sql_literal(v) for v in values)
        return (f"SELECT {col} AS value_field, count(*) AS n_records FROM {base} AS t "
                f"WHERE {col} IS NOT NULL AND {col} NOT IN ({quoted}) GROUP BY {col}")
    if kind == "relationships":
        col = _col(column, node)
        parent = relation_of_ref(test["extra_deps"][0][1])
        field_ = _col(str(args["field"]), node)
        return (f"SELECT t.{col} AS from_field FROM {base} AS t WHERE t.{col} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {parent} AS p WHERE p.{field_} = t.{col})")
    if kind == "expression":
        expression = args.get("expression")
        if not expression:
            raise TestDefinitionError(f"{node.path}: expression test needs `expression:`")
        target = f"{_col(column, node)} " if column and not _starts_with_column(expression, column) else ""
        return f"SELECT * FROM {base} AS t WHERE NOT coalesce(({target}{expression}), FALSE)"
    if kind == "range":
        col = _col(column, node)
        conds = []
        if args.get("min") is not None:
            conds.append(f"{col} {'<' if args.get('inclusive', True) else '<='} {sql_literal(args['min'])}")
        if args.get("max") is not None:
            conds.append(f"{col} {'>' if args.get('inclusive', True) else '>='} {sql_literal(args['max'])}")
        if not conds:
            raise TestDefinitionError(f"{node.path}: range test on {column} needs `min:` and/or `max:`")
        return f"SELECT * FROM {base} AS t WHERE {' OR '.join(conds)}"
    return _custom_test_sql(node, relation, renderer)


def _starts_with_column(expression: str, column: str) -> bool:
    return expression.strip().lower().startswith(column.lower())


def _custom_test_sql(node: Node, relation: str, renderer) -> str:
    kind = node.test["kind"]
    macro = renderer.macros.get(f"test_{kind}") if renderer else None
    if macro is None:
        raise TestDefinitionError(f"{node.path}: unknown test '{kind}' (built in: unique, not_null, "
                                  f"accepted_values, relationships, expression, range; or define "
                                  f"{{% test {kind}(model, column_name) %}} in macros/)")
    from .rendering import RenderContext, _CURRENT  # noqa: PLC0415 - a macro needs a render context
    ctx = RenderContext(renderer, node, lambda _n: True)
    token = _CURRENT.set(ctx)
    try:
        kwargs = dict(node.test.get("args") or {})
        if node.test.get("column"):
            kwargs["column_name"] = node.test["column"]
        sql = str(macro(model=relation, **kwargs))
    finally:
        _CURRENT.reset(token)
    if SENTINEL_RE.search(sql):
        raise TestDefinitionError(f"{node.path}: custom test '{kind}' may not call ref() inside the macro")
    return sql


def run_test_sql(con, node: Node, sql: str) -> TestOutcome:
    """Count the failing rows of a test query and keep a few examples."""
    try:
        body = sql.strip().rstrip(";")
        failures = con.execute(f"SELECT count(*) FROM ({body}) AS _f").fetchone()[0]
        examples, columns = [], []
        if failures:
            cur = con.execute(f"SELECT * FROM ({body}) AS _f LIMIT {EXAMPLE_ROWS}")
            columns = [d[0] for d in cur.description]
            examples = cur.fetchall()
    except Exception as exc:  # noqa: BLE001 - a broken test is reported, not raised
        return TestOutcome(node, "error", message=f"{node.path}: test '{node.name}' failed to run: {exc}")
    if not failures:
        return TestOutcome(node, "pass")
    status = "warn" if node.severity == "warn" else "fail"
    return TestOutcome(node, status, failures, columns, examples,
                       f"{node.name}: {failures} failing row(s)")


def describe_failure(outcome: TestOutcome) -> str:
    lines = [outcome.message]
    if outcome.columns:
        lines.append("  " + " | ".join(outcome.columns))
        lines.extend("  " + " | ".join(repr(v) for v in row) for row in outcome.examples)
        if outcome.failures > len(outcome.examples):
            lines.append(f"  ... and {outcome.failures - len(outcome.examples)} more")
    return "\n".join(lines)
