"""Jinja context functions for models.

`score('scorer', relation)` renders to the scorer's cached rows (doc_id, outputs..., null_reason)
for the documents of `relation`, and adds a prerequisite that fills the cache (batched, outside
DuckDB's UDF calls) right before the model's SQL runs. The scorer's version (code + weights +
value-changing settings) joins the model's fingerprint, so a new checkpoint rebuilds the model
and rescores.

`scorer_evaluation()` renders the held-out evaluation of the project's scorers (the file
scripts/train_scorers.py writes) as rows; the file's content joins the model's fingerprint.
"""
from __future__ import annotations

from .base import ScorerLoadError
from .cache import ScoreCache, quote
from .declarations import load_declarations


def score_relation(render_ctx, scorer_name: str, relation, id_column: str = "doc_id",
                   text_column: str = "text") -> str:
    specs = load_declarations(render_ctx.project)
    if scorer_name not in specs:
        raise ScorerLoadError(f"score('{scorer_name}'): no such scorer; declared in udfs/: {sorted(specs) or 'none'}")
    cache = ScoreCache.for_spec(specs[scorer_name])
    relation_sql = real_relation(relation)
    render_ctx.add_fingerprint(f"scorer {scorer_name} {cache.fingerprint}")

    def fill(con, _project):
        cache.fill(con, relation_sql, id_column, text_column)

    render_ctx.add_prerequisite(f"score:{cache.table}:{relation_sql}", fill)
    # In the model's SQL the relation stays as ref() printed it, so the engine tracks the edge.
    return cache.rows_sql(str(relation), id_column, text_column)


def real_relation(relation) -> str:
    """The engine's ref() prints as a placeholder resolved after rendering; the prerequisite runs
    SQL of its own, so it needs the schema-qualified name. Plain strings are taken as written."""
    if hasattr(relation, "schema") and hasattr(relation, "identifier"):
        return f"{quote(relation.schema)}.{quote(relation.identifier)}"
    return str(relation)


def scorer_evaluation_relation(render_ctx) -> str:
    from .evaluation import evaluation_rows_sql
    sql, digest = evaluation_rows_sql(render_ctx.project)
    render_ctx.add_fingerprint(f"scorer_evaluation {digest}")
    return sql
