"""A plain dbt-duckdb project builds unchanged and produces the tables dbt would."""
from __future__ import annotations

import json

from test_engine_support import cli, query, statuses, write_project

DBT_PROJECT = """\
name: 'jaffle'
version: '1.0.0'
config-version: 2
profile: 'jaffle'
model-paths: ["models"]
seed-paths: ["seeds"]
test-paths: ["tests"]
macro-paths: ["macros"]
vars:
  payment_methods: ['credit_card', 'coupon', 'bank_transfer']
models:
  jaffle:
    staging:
      materialized: view
      tags: ['staging']
    marts:
      +materialized: table
      finance:
        +tags: finance
seeds:
  jaffle:
    +column_types:
      amount: integer
"""

FILES = {
    "seeds/raw_orders.csv": "id,user_id,status\n1,1,completed\n2,2,returned\n3,1,completed\n",
    "seeds/raw_payments.csv": "id,order_id,payment_method,amount\n1,1,credit_card,1000\n2,2,coupon,500\n"
                              "3,3,coupon,300\n4,3,bank_transfer,200\n",
    "models/staging/stg_orders.sql": "select id as order_id, user_id as customer_id, status from {{ ref('raw_orders') }}\n",
    "models/staging/stg_payments.sql": """\
        select id as payment_id, order_id, payment_method, amount / 100 as amount
        from {{ ref('raw_payments') }}
    """,
    "models/marts/finance/orders.sql": """\
        {% set payment_methods = ['credit_card', 'coupon', 'bank_transfer'] %}
        with payments as (
            select order_id,
            {% for payment_method in payment_methods -%}
            sum(case when payment_method = '{{ payment_method }}' then amount else 0 end) as {{ payment_method }}_amount,
            {% endfor -%}
            sum(amount) as total_amount
            from {{ ref('stg_payments') }}
            group by order_id
        )
        select o.order_id, o.customer_id, o.status,
        {% for payment_method in payment_methods -%}
        p.{{ payment_method }}_amount,
        {% endfor -%}
        p.total_amount as amount
        from {{ ref('stg_orders') }} o left join payments p using (order_id)
    """,
    "models/marts/customers.sql": """\
        select customer_id, count(*) as number_of_orders, sum(amount) as lifetime_value
        from {{ ref('orders') }} group by customer_id
    """,
    "models/docs.md": "{% docs orders_status %}\nOne of completed, returned.\n{% enddocs %}\n",
    "models/schema.yml": """\
        version: 2
        models:
          - name: orders
            description: "One row per order"
            columns:
              - name: order_id
                tests: [unique, not_null]
              - name: status
                description: '{{ doc("orders_status") }}'
                tests:
                  - accepted_values:
                      values: ['completed', 'returned']
              - name: customer_id
                tests:
                  - relationships:
                      to: ref('customers')
                      field: customer_id
          - name: customers
            columns:
              - name: customer_id
                tests: [unique]
    """,
    "tests/assert_positive_amounts.sql": "select * from {{ ref('orders') }} where amount < 0\n",
}


def test_dbt_project_builds_with_dbt_semantics(tmp_path):
    root = write_project(tmp_path / "jaffle", {"dbt_project.yml": DBT_PROJECT, **FILES}, project_yml=None)
    result = cli(root, "build")
    assert "Done" in result.output
    got = statuses(root)
    assert got["assert_positive_amounts"] == "pass" and got["relationships_orders_customer_id"] == "pass"
    # warehouse defaults to quadmix.duckdb in the project dir
    tables = dict(query(root, "select table_name, table_type from information_schema.tables "
                              "where table_name not like '\\_qwh%' escape '\\'", db="quadmix.duckdb"))
    assert tables == {"raw_orders": "BASE TABLE", "raw_payments": "BASE TABLE", "stg_orders": "VIEW",
                      "stg_payments": "VIEW", "orders": "BASE TABLE", "customers": "BASE TABLE"}
    assert query(root, "select order_id, credit_card_amount, coupon_amount, bank_transfer_amount, amount "
                       "from orders order by order_id", db="quadmix.duckdb") == [
        (1, 10.0, 0.0, 0.0, 10.0), (2, 0.0, 5.0, 0.0, 5.0), (3, 0.0, 3.0, 2.0, 5.0)]
    manifest = json.loads((root / "target/manifest.json").read_text())
    orders = manifest["nodes"]["model.orders"]
    assert orders["columns"]["status"]["description"] == "One of completed, returned."
    assert set(orders["tags"]) == {"finance"} and orders["materialized"] == "table"
    assert manifest["nodes"]["model.stg_orders"]["tags"] == ["staging"]
    listed = cli(root, "ls", "-s", "tag:finance", "--resource-type", "model").output.split()
    assert listed == ["model.orders"]


HOOK_FILES = {
    "seeds/raw.csv": "id,v\n1,10\n2,20\n3,30\n",
    # a pre-hook prepares a TEMP table the model reads (same connection, same transaction); the
    # post-hook drops it and records that it ran; hooks see ref() like the model does
    "models/hooked.sql": """\
        {{ config(materialized='table',
                  pre_hook=["CREATE OR REPLACE TEMP TABLE prep AS SELECT id, v * 2 AS v2 FROM " ~ ref('raw'),
                            "CREATE TABLE IF NOT EXISTS hook_log (event VARCHAR)"],
                  post_hook="DROP TABLE prep; INSERT INTO hook_log VALUES ('post')") }}
        select id, v2 from prep
    """,
    "models/broken_hook.sql": """\
        {{ config(materialized='table', pre_hook="SELECT * FROM no_such_table") }}
        select 1 as x
    """,
}


def test_pre_and_post_hooks_run_around_the_build(tmp_path):
    root = write_project(tmp_path / "hooks", HOOK_FILES)
    result = cli(root, "run", "-s", "raw hooked", expect=None)
    assert result.exit_code == 0, result.output
    assert query(root, "select id, v2 from hooked order by id") == [(1, 20), (2, 40), (3, 60)]
    assert query(root, "select event from hook_log") == [("post",)]
    # a failing hook names the model and the hook, and nothing of the model is published
    failed = cli(root, "run", "-s", "broken_hook", expect=None)
    assert failed.exit_code != 0
    assert "pre_hook 1 of 'broken_hook' failed" in failed.output and "no_such_table" in failed.output
    assert query(root, "select count(*) from information_schema.tables where table_name = 'broken_hook'") == [(0,)]
