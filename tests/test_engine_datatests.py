"""Data tests: generic tests from YAML, singular SQL tests, severities, blocking tests in run/build."""
from __future__ import annotations

from test_engine_support import cli, query, statuses, write_project

MODELS = {
    "models/customers.sql": "select * from (values (1, 'ada'), (2, 'bob')) t(id, name)",
    "models/orders.sql": """\
        select * from (values (10, 1, 'open', 5.0), (11, 2, 'shipped', 7.5), (12, {{ var('bad_customer', 2) }},
        {{ var('status', 'open') }}, {{ var('amount', 1.0) }})) t(order_id, customer_id, status, amount)
    """,
    "models/schema.yml": """\
        version: 2
        models:
          - name: customers
            columns:
              - name: id
                tests: [unique, not_null]
          - name: orders
            tests:
              - expression: "amount >= 0"
            columns:
              - name: order_id
                data_tests: [unique]
              - name: customer_id
                tests:
                  - relationships: {to: "ref('customers')", field: id}
              - name: status
                tests:
                  - accepted_values: {values: [open, shipped], config: {severity: warn}}
              - name: amount
                tests:
                  - range: {min: 0, max: 100}
    """,
    "data_tests/no_big_orders.sql": "select * from {{ ref('orders') }} where amount > {{ var('cap', 50) }}\n",
}


def test_all_pass_then_test_command_reports_failures_with_rows(tmp_path):
    root = write_project(tmp_path / "p", MODELS)
    cli(root, "build")
    assert all(s in ("success", "pass") for s in statuses(root).values())
    result = cli(root, "test", "--vars", "{cap: 6}", expect=1)
    assert "no_big_orders: 1 failing row(s)" in result.output
    assert "7.5" in result.output  # the failing row is shown


def test_warn_severity_does_not_fail(tmp_path):
    root = write_project(tmp_path / "p", MODELS)
    result = cli(root, "build", "--vars", "{status: lost}")
    assert statuses(root)["accepted_values_orders_status"] == "warn"
    assert "WARN accepted_values_orders_status: 1 failing row(s)" in result.output


def test_blocking_test_keeps_previous_table(tmp_path):
    root = write_project(tmp_path / "p", MODELS)
    cli(root, "run")
    # customer 9 does not exist: the relationships test (error severity) blocks the new table.
    result = cli(root, "run", "--vars", "{bad_customer: 9}", expect=1)
    assert "not published" in result.output and "relationships_orders_customer_id" in result.output
    assert query(root, "select max(customer_id) from orders") == [(2,)]
    assert statuses(root)["orders"] == "error"


def test_range_and_expression_tests_fail(tmp_path):
    root = write_project(tmp_path / "p", MODELS)
    result = cli(root, "run", "--vars", "{amount: -3.0}", expect=1)
    assert "expression_orders" in result.output and "range_orders_amount" in result.output
    result = cli(root, "run", "--vars", "{amount: 500.0}", expect=1)
    assert "range_orders_amount" in result.output and "expression_orders" not in result.output
    assert statuses(root)["orders"] == "error"


def test_build_skips_tests_of_failed_models(tmp_path):
    files = dict(MODELS)
    files["models/orders.sql"] = "select error('broken') as order_id"
    root = write_project(tmp_path / "p", files)
    cli(root, "build", expect=1)
    got = statuses(root)
    assert got["orders"] == "error" and got["unique_orders_order_id"] == "skipped"
    assert got["unique_customers_id"] == "pass"


def test_unknown_generic_test_is_a_clear_error(tmp_path):
    files = {"models/a.sql": "select 1 as x",
             "models/a.yml": "models:\n  - name: a\n    columns:\n      - name: x\n        tests: [is_even]\n"}
    root = write_project(tmp_path / "p", files)
    result = cli(root, "build", expect=1)
    assert "unknown test 'is_even'" in result.output


def test_custom_generic_test_macro(tmp_path):
    files = {"models/a.sql": "select * from range(4) t(x)",
             "models/a.yml": "models:\n  - name: a\n    columns:\n      - name: x\n        tests: [{below: {limit: 3}}]\n",
             "macros/tests.sql": "{% test below(model, column_name, limit) %}"
                                 "select * from {{ model }} where {{ column_name }} >= {{ limit }}{% endtest %}\n"}
    root = write_project(tmp_path / "p", files)
    result = cli(root, "build", expect=1)
    assert "below_a_x" in result.output and "1 failing row" in result.output
