-- Every training-candidate document of the demo corpus, with its size in characters and in
-- project-tokenizer tokens (n_tokens is the Python UDF from quadmix_wh.tokenizer).
-- Incremental: a run only tokenizes doc_ids that are not in the table yet.
{{ config(materialized='incremental', unique_key='doc_id') }}

{%- set demo_tables = ['web', 'qa_forum', 'encyclopedic', 'academic', 'literature_speeches',
                       'reviews', 'synthetic_topics', 'code_python', 'tech_docs', 'fortunes'] %}

WITH candidates AS (
  {%- for table in demo_tables %}
  SELECT doc_id, text, source FROM {{ source('demo', table) }}
  {%- if not loop.last %}
  UNION ALL
  {%- endif %}
  {%- endfor %}
)
SELECT
  c.doc_id,
  c.text,
  c.source,
  length(c.text)::BIGINT AS n_chars,
  n_tokens(c.text) AS n_tokens
FROM candidates AS c
{% if is_incremental() %}
WHERE NOT EXISTS (SELECT 1 FROM {{ this }} AS existing WHERE existing.doc_id = c.doc_id)
{% endif %}
ORDER BY c.doc_id
