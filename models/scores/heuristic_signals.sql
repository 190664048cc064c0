{#- Gopher quality + repetition, C4 and FineWeb heuristic signals of every document, with the
    keep/drop decision (and datatrove's reason name) of each of the four filters at their
    default thresholds (macros/heuristics/). Pure SQL, no Python UDF; incremental: a run only
    computes documents not in the table yet. -#}
{{ config(materialized='incremental', unique_key='doc_id') }}
{%- set docs %}
(SELECT d.doc_id, d.text FROM {{ ref('documents') }} AS d
{%- if is_incremental() %}
  WHERE NOT EXISTS (SELECT 1 FROM {{ this }} AS h WHERE h.doc_id = d.doc_id)
{%- endif %}
)
{%- endset %}
{{ heuristic_signals(docs) }}
