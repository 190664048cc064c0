"""`quadmix-wh init DIR`: a small project skeleton that builds as is."""
from __future__ import annotations

import re
from pathlib import Path

from .project import ProjectError

_FILES = {
    "project.yml": """\
# quadmix-wh project. Paths are relative to this file.
name: {name}
model-paths: [models]
macro-paths: [macros]
seed-paths: [seeds]
test-paths: [data_tests]      # singular data tests (SQL returning failing rows)

warehouse:
  path: {name}.duckdb         # the DuckDB file
  threads: 2
  memory_limit: 2GB

vars:
  min_amount: 0               # used in models as {{{{ var('min_amount') }}}} (rendered as a SQL literal)

models:
  {name}:
    +materialized: view
    marts:
      +materialized: table
      +tags: [marts]
""",
    ".gitignore": "target/\n*.duckdb\n*.duckdb.wal\n*.duckdb.lock\n",
    "seeds/orders.csv": "order_id,customer,amount_cents\n1,ada,1250\n2,bob,499\n3,ada,3000\n4,cy,100\n",
    "macros/money.sql": "{% macro cents_to_units(column) %}({{ column }} / 100.0){% endmacro %}\n",
    "models/staging/stg_orders.sql": """\
select order_id, customer, {{ cents_to_units('amount_cents') }} as amount
from {{ ref('orders') }}
where amount_cents >= {{ var('min_amount') }}
""",
    "models/marts/customer_totals.sql": """\
select customer, count(*) as n_orders, sum(amount) as total
from {{ ref('stg_orders') }}
group by customer
order by customer
""",
    "models/schema.yml": """\
version: 2
models:
  - name: stg_orders
    description: One row per order, amounts in units.
    columns:
      - name: order_id
        tests: [unique, not_null]
  - name: customer_totals
    columns:
      - name: customer
        tests: [unique, not_null]
      - name: total
        tests:
          - range: {min: 0}
""",
    "data_tests/no_empty_customers.sql": """\
-- A singular test: returns the failing rows (customers without orders).
select * from {{ ref('customer_totals') }} where n_orders = 0
""",
}


def create_project(directory: str | Path, name: str | None = None) -> Path:
    root = Path(directory).resolve()
    name = name or re.sub(r"\W+", "_", root.name).strip("_") or "warehouse"
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise ProjectError(f"init: project name {name!r} must be letters, digits and _")
    if (root / "project.yml").exists() or (root / "dbt_project.yml").exists():
        raise ProjectError(f"init: {root} already holds a project")
    for rel, text in _FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=name) if rel == "project.yml" else text, encoding="utf-8")
    return root
