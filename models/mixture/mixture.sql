{#- The training mixture: documents drawn at least once, per parameter set. -#}
{{ config(materialized='table') }}
SELECT param_set, doc_id, copies, tokens
FROM {{ ref('mixture_scored') }}
WHERE copies > 0
