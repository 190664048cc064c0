{#-
  Expected copies and the draw (SPEC §2 steps 4-5).

  s = S(rbar), optionally rescaled per parameter set so that Σ s · n_tokens = budget_tokens.
  The expected total is summed in fixed point (2^-32 token units, HUGEINT) so it is exact and
  does not depend on the order threads add rows; with an expected total of 0 nothing is rescaled.
  copies = floor(s) + [u < s - floor(s)]   (u from quadmix_uniform, in [0, 1))
-#}
{% macro quadmix_draw_ctes(budget_tokens=none) -%}
qm_expected AS (
  SELECT *, {{ quadmix_sampling_function('rbar', '"lambda"', 'omega', 'eta', 'epsilon') }} AS s_raw
  FROM qm_ranked
),
{%- if budget_tokens is not none %}
qm_scale AS (
  SELECT param_set,
    sum(round(s_raw * n_tokens * 4294967296.0)::HUGEINT) / 4294967296.0 AS expected_tokens
  FROM qm_expected GROUP BY param_set
),
qm_scaled AS (
  SELECT e.*, CASE WHEN sc.expected_tokens > 0 THEN e.s_raw * ({{ sql_number(budget_tokens) }} / sc.expected_tokens)
                   ELSE e.s_raw END AS s
  FROM qm_expected AS e JOIN qm_scale AS sc ON sc.param_set = e.param_set
),
{%- else %}
qm_scaled AS (
  SELECT *, s_raw AS s FROM qm_expected
),
{%- endif %}
qm_drawn AS (
  SELECT param_set, doc_id, domain, n_tokens, qbar, rbar, s,
    floor(s)::BIGINT + CASE WHEN s > floor(s) AND u < s - floor(s) THEN 1 ELSE 0 END AS copies
  FROM qm_scaled
)
{%- endmacro %}
