{#- Every (document, scorer output) that has no value, with the scorer's reason (empty_text,
    not_text, null_text, too_short, ...). These documents are not in doc_domains, so QuaDMix
    does not sample them; nothing vanishes silently: `quadmix-wh build` warns with the count. -#}
{{ config(materialized='table') }}
SELECT doc_id, criterion AS output, scorer, null_reason
  FROM {{ ref('criterion_scores') }}
 WHERE value IS NULL
UNION ALL
SELECT doc_id, 'domain' AS output, 'domain' AS scorer, null_reason
  FROM {{ score('domain', ref('documents')) }}
 WHERE label IS NULL
ORDER BY doc_id, output
