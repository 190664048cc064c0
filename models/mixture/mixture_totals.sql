{#- Per parameter set: tokens available, expected and achieved, against the optional budget.
    sigma_tokens is the standard deviation of the achieved total under the Bernoulli draws
    (Σ n² f (1 - f), f = frac(s)); the budget test allows max(tolerance · budget, 5 sigma). -#}
{{ config(materialized='table') }}
{%- set qm = var('quadmix', {}) %}
SELECT param_set,
  sum(n_tokens) AS available_tokens,
  sum(s * n_tokens) AS expected_tokens,
  sum(tokens) AS sampled_tokens,
  sqrt(sum(n_tokens::DOUBLE * n_tokens * (s - floor(s)) * (1 - (s - floor(s))))) AS sigma_tokens,
  {{ sql_number(qm.get('budget_tokens')) if qm.get('budget_tokens') is not none else 'NULL' }}::DOUBLE AS budget_tokens,
  {{ sql_number(qm.get('budget_tolerance', 0.01)) }}::DOUBLE AS budget_tolerance
FROM {{ ref('mixture_scored') }}
GROUP BY param_set
