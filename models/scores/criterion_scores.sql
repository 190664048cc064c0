{#- Every quality criterion of vars.quadmix.criteria for every document, NULL values included:
    (doc_id, criterion, scorer, value, null_reason). Which scorer output is which criterion is
    decided here, once; quality_scores and score_issues read this table.
    score() fills each scorer's cache (incrementally, in batches, outside DuckDB's UDF calls)
    right before this model's SQL runs; see docs/SCORING.md. -#}
{{ config(materialized='table') }}
{%- set outputs = {
      'edu': ('edu', 'score'),
      'dclm': ('dclm', 'prob'),
      'perplexity': ('perplexity', 'perplexity'),
    } %}
{%- set criteria = var('quadmix')['criteria'] %}
{%- for c in criteria %}
{%- if c['name'] not in outputs %}
{{ exceptions.raise_compiler_error("criterion '" ~ c['name'] ~ "' of vars.quadmix.criteria has no scorer output in models/scores/criterion_scores.sql; known: " ~ (outputs.keys() | list | join(', '))) }}
{%- endif %}
{%- set scorer, column = outputs[c['name']] %}
{#- c['name'] comes from var(), so it prints as a quoted SQL literal ('edu'): no quotes here. #}
SELECT s.doc_id, {{ c['name'] }} AS criterion, '{{ scorer }}' AS scorer,
       CAST(s."{{ column }}" AS DOUBLE) AS value, s.null_reason
  FROM {{ score(scorer, ref('documents')) }} AS s
{%- if not loop.last %}
UNION ALL
{%- endif %}
{%- endfor %}
