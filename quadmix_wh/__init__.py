"""quadmix-wh: a dbt-style, SQL-first DuckDB warehouse for choosing LLM training data."""

__version__ = "0.1.0"
