{#- The contract table of the QuaDMix sampling models: one domain per document, from the domain
    classifier (udfs/domain.yml): (doc_id, domain, confidence). Every document of `documents`
    is here, except those listed in score_issues (a scorer gave no value for them). -#}
{{ config(materialized='table') }}
SELECT d.doc_id, d.label AS domain, d.confidence
  FROM {{ score('domain', ref('documents')) }} AS d
 WHERE d.label IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM {{ ref('score_issues') }} AS i WHERE i.doc_id = d.doc_id)
 ORDER BY d.doc_id
