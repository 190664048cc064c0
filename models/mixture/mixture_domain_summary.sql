{#- Per parameter set and domain: what was available, what was drawn, shares before and after,
    and the quality of what was kept (qbar and rbar are 0 = best; copies-weighted means). -#}
{{ config(materialized='table') }}
WITH per_domain AS (
  SELECT param_set, domain,
    count(*) AS documents,
    sum(n_tokens) AS available_tokens,
    count(*) FILTER (WHERE copies > 0) AS kept_documents,
    sum(copies) AS copies,
    sum(tokens) AS sampled_tokens,
    sum(s * n_tokens) AS expected_tokens,
    sum(copies * qbar) / nullif(sum(copies), 0) AS mean_qbar_kept,
    sum(copies * rbar) / nullif(sum(copies), 0) AS mean_rbar_kept,
    avg(qbar) AS mean_qbar_available
  FROM {{ ref('mixture_scored') }}
  GROUP BY param_set, domain
)
SELECT *,
  available_tokens / nullif(sum(available_tokens) OVER (PARTITION BY param_set), 0) AS share_before,
  sampled_tokens / nullif(sum(sampled_tokens) OVER (PARTITION BY param_set), 0) AS share_after
FROM per_domain
