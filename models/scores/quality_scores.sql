{#- The contract table of the QuaDMix sampling models: (doc_id, criterion, value), one row per
    document and criterion of vars.quadmix.criteria that has a value. Documents a scorer could
    not score (NULL with a reason) are listed in score_issues and left out of doc_domains, so
    the sampler skips them; the warn-severity test on score_issues reports how many. -#}
{{ config(materialized='table') }}
SELECT doc_id, criterion, value
  FROM {{ ref('criterion_scores') }}
 WHERE value IS NOT NULL
 ORDER BY doc_id, criterion
