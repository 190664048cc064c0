{#-
  Inputs of the sampling query, checked row by row.

  quadmix_scores_cte: one row per doc_id with one column raw_<criterion> per configured criterion
  and n_<criterion> (how many scores the doc has for it, so duplicates are caught).
    scores_format='long': scores(doc_id, criterion, value); other criteria are ignored.
    scores_format='wide': scores(doc_id, <criterion> ...), one column per criterion.

  quadmix_docs_cte: the documents that have a domain label, with their tokens and their scores
  oriented so that SMALLER IS BETTER (o_<criterion> = -value for direction 'higher').
  A document without a domain row is not sampled. Every other defect stops the query with an
  error naming the doc_id and the reason (DuckDB error()): a labelled doc missing from documents,
  NULL or negative n_tokens, a NULL domain, a missing / duplicated / NULL / NaN / infinite score.
-#}
{% macro quadmix_scores_cte(scores, criteria, scores_format='long') -%}
qm_scores AS (
{%- if scores_format == 'wide' %}
  SELECT doc_id
  {%- for c in criteria %}, "{{ sql_identifier(c.name) }}"::DOUBLE AS raw_{{ sql_identifier(c.name) }}, 1 AS n_{{ sql_identifier(c.name) }}{% endfor %}
  FROM {{ scores }}
{%- elif scores_format == 'long' %}
  SELECT doc_id
  {%- for c in criteria %},
    max(value::DOUBLE) FILTER (WHERE criterion = {{ sql_literal(c.name | string) }}) AS raw_{{ sql_identifier(c.name) }},
    count(*) FILTER (WHERE criterion = {{ sql_literal(c.name | string) }}) AS n_{{ sql_identifier(c.name) }}
  {%- endfor %}
  FROM {{ scores }}
  WHERE criterion IN ({% for c in criteria %}{{ sql_literal(c.name | string) }}{{ ", " if not loop.last }}{% endfor %})
  GROUP BY doc_id
{%- else %}
  {{ exceptions.raise_compiler_error("quadmix: scores_format must be 'long' or 'wide', got " ~ scores_format) }}
{%- endif %}
)
{%- endmacro %}

{% macro quadmix_docs_cte(domains, documents, criteria) -%}
qm_docs AS (
  SELECT dd.doc_id,
    CASE WHEN dd.domain IS NULL THEN error('quadmix: doc_id ' || dd.doc_id || ': domain is NULL')
         ELSE CAST(dd.domain AS VARCHAR) END AS domain,
    CASE WHEN doc.doc_id IS NULL THEN error('quadmix: doc_id ' || dd.doc_id || ' has a domain label but is not in documents')
         WHEN doc.n_tokens IS NULL THEN error('quadmix: doc_id ' || dd.doc_id || ': n_tokens is NULL')
         WHEN doc.n_tokens < 0 THEN error('quadmix: doc_id ' || dd.doc_id || ': n_tokens is negative (' || doc.n_tokens || ')')
         ELSE CAST(doc.n_tokens AS BIGINT) END AS n_tokens
  {%- for c in criteria %}
    {%- set col = sql_identifier(c.name) %},
    CASE WHEN s.doc_id IS NULL OR s.n_{{ col }} = 0 THEN error('quadmix: doc_id ' || dd.doc_id || ' has no score for criterion {{ col }}')
         WHEN s.n_{{ col }} > 1 THEN error('quadmix: doc_id ' || dd.doc_id || ' has ' || s.n_{{ col }} || ' scores for criterion {{ col }}')
         WHEN s.raw_{{ col }} IS NULL OR isnan(s.raw_{{ col }}) OR isinf(s.raw_{{ col }})
           THEN error('quadmix: doc_id ' || dd.doc_id || ': score for criterion {{ col }} is ' || coalesce(CAST(s.raw_{{ col }} AS VARCHAR), 'NULL'))
         ELSE {{ "-" if c.direction == "higher" }}s.raw_{{ col }} END AS o_{{ col }}
  {%- endfor %}
  FROM {{ domains }} AS dd
  LEFT JOIN {{ documents }} AS doc ON doc.doc_id = dd.doc_id
  LEFT JOIN qm_scores AS s ON s.doc_id = dd.doc_id
)
{%- endmacro %}
