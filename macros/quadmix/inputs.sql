{#-
  Inputs of the sampling query, checked row by row.

  quadmix_scores_cte: one row per doc_id with one column raw_<criterion> per configured criterion
  and n_<criterion> (how many scores the doc has for it, so duplicates are caught).
    scores_format='long': scores(doc_id, criterion, value); other criteria are ignored.
    scores_format='wide': scores(doc_id, <criterion> ...), one column per criterion.

  quadmix_docs_cte: the documents that have a domain label, with their tokens and their RAW
  scores (one column per criterion, named after it). A document without a domain row is not
  sampled. Every other defect stops the query with an error naming the doc_id and the reason
  (DuckDB error()): a labelled doc missing from documents, NULL or negative n_tokens, a NULL
  domain, a missing / duplicated / NULL / NaN / infinite score.

  quadmix_inputs_query: that table as a query (the `mixture_inputs` model): one row per sampled
  document, (doc_id, doc_hash, domain, n_tokens, <criterion>...), doc_hash being the md5-based
  64-bit hash the draw's uniform starts from (uniform.sql). The sampling query can read such a
  prepared table directly (quadmix_mixture_query(inputs=...)), which keeps the joins on the text
  doc_id and the md5 out of every sampling run.

  quadmix_oriented_docs_cte: qm_docs(doc_id, doc_hash, domain, n_tokens, o_<criterion>...) with
  the scores oriented so that SMALLER IS BETTER (o = -value for direction 'higher'), from a
  prepared inputs relation. It is cheap, so each reader recomputes it rather than materializing
  it; the rows are checked once, in the per-domain pass (quadmix_inputs_check): a NULL domain,
  doc_hash or score, a NaN / infinite score or a NULL / negative n_tokens is an error.
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

{% macro quadmix_docs_cte(domains, documents, criteria, name='qm_inputs') -%}
{{ name }} AS (
  SELECT dd.doc_id, {{ quadmix_doc_hash('dd.doc_id') }} AS doc_hash,
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
         ELSE s.raw_{{ col }} END AS "{{ col }}"
  {%- endfor %}
  FROM {{ domains }} AS dd
  LEFT JOIN {{ documents }} AS doc ON doc.doc_id = dd.doc_id
  LEFT JOIN qm_scores AS s ON s.doc_id = dd.doc_id
)
{%- endmacro %}

{% macro quadmix_inputs_query(scores, domains, documents, criteria, scores_format='long') -%}
WITH
{{ quadmix_scores_cte(scores, criteria, scores_format) }},
{{ quadmix_docs_cte(domains, documents, criteria) }}
SELECT * FROM qm_inputs
{%- endmacro %}

{% macro quadmix_oriented_docs_cte(inputs, criteria) -%}
qm_docs AS NOT MATERIALIZED (
  SELECT doc_id, doc_hash, CAST(domain AS VARCHAR) AS domain, CAST(n_tokens AS BIGINT) AS n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    {{ "-" if c.direction == "higher" }}CAST("{{ col }}" AS DOUBLE) AS o_{{ col }}
  {%- endfor %}
  FROM {{ inputs }}
)
{%- endmacro %}

{#- A HAVING clause for the per-domain pass over qm_docs: true, or an error naming the doc. -#}
{% macro quadmix_inputs_check(criteria) -%}
HAVING bool_and(CASE
    WHEN domain IS NULL THEN error('quadmix: doc_id ' || doc_id || ': domain is NULL')
    WHEN doc_hash IS NULL THEN error('quadmix: doc_id ' || doc_id || ': doc_hash is NULL')
    WHEN n_tokens IS NULL OR n_tokens < 0
      THEN error('quadmix: doc_id ' || doc_id || ': n_tokens is ' || coalesce(CAST(n_tokens AS VARCHAR), 'NULL'))
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %}
    WHEN o_{{ col }} IS NULL OR isnan(o_{{ col }}) OR isinf(o_{{ col }})
      THEN error('quadmix: doc_id ' || doc_id || ': score for criterion {{ col }} is '
                 || coalesce(CAST({{ "-" if c.direction == "higher" }}o_{{ col }} AS VARCHAR), 'NULL'))
  {%- endfor %}
    ELSE true END)
{%- endmacro %}
