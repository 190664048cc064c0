{#- Spearman rank correlation between every pair of quality criteria, over the documents that
    have both (ties get their average rank). Perplexity is lower-is-better, so agreement with a
    higher-is-better criterion shows as a negative value. -#}
{{ config(materialized='table') }}
WITH pairs AS (
  SELECT a.criterion AS criterion_a, b.criterion AS criterion_b, a.value AS value_a, b.value AS value_b
    FROM {{ ref('quality_scores') }} AS a
    JOIN {{ ref('quality_scores') }} AS b ON a.doc_id = b.doc_id AND a.criterion < b.criterion
),
ranked AS (
  SELECT criterion_a, criterion_b,
         (rank() OVER (PARTITION BY criterion_a, criterion_b ORDER BY value_a)
          + count(*) OVER (PARTITION BY criterion_a, criterion_b)
          - rank() OVER (PARTITION BY criterion_a, criterion_b ORDER BY value_a DESC) + 1) / 2.0 AS rank_a,
         (rank() OVER (PARTITION BY criterion_a, criterion_b ORDER BY value_b)
          + count(*) OVER (PARTITION BY criterion_a, criterion_b)
          - rank() OVER (PARTITION BY criterion_a, criterion_b ORDER BY value_b DESC) + 1) / 2.0 AS rank_b
    FROM pairs
)
SELECT criterion_a, criterion_b, corr(rank_a, rank_b) AS spearman, count(*) AS n_docs
  FROM ranked
 GROUP BY criterion_a, criterion_b
 ORDER BY criterion_a, criterion_b
