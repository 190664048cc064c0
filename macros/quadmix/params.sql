{#-
  quadmix_params_cte: one parameter row per (param_set, domain present in the data), keyed by
  integers: ps_id (1.. in param_set name order, qm_param_sets) and dom_id (qm_domains).
  A domain without its own row in the parameter table takes the param set's default row
  (domain = '*'); when neither exists it takes the built-in neutral row (alpha 1/N each,
  lambda 0, omega 1, eta 0, epsilon 0), for which S = 1: the domain is kept as it is, one copy
  of each document (docs/SAMPLING.md).
  Values were validated before the query runs (quadmix_wh.sampling.params.validate_params).
-#}
{% macro quadmix_params_cte(params, criteria) -%}
{%- set fields = [] %}
{%- set neutral = {'lambda': '0.0', 'omega': '1.0', 'eta': '0.0', 'epsilon': '0.0'} %}
{%- for c in criteria %}
  {%- do fields.append('alpha_' ~ sql_identifier(c.name)) %}
  {%- do neutral.update({'alpha_' ~ sql_identifier(c.name): '(1.0 / ' ~ (criteria | length) ~ ')'}) %}
{%- endfor %}
{%- do fields.extend(['lambda', 'omega', 'eta', 'epsilon']) %}
qm_param_sets AS (
  SELECT param_set, CAST(row_number() OVER (ORDER BY param_set) AS INTEGER) AS ps_id
  FROM (SELECT DISTINCT CAST(param_set AS VARCHAR) AS param_set FROM {{ params }})
),
qm_params AS (
  SELECT ps.ps_id, dm.dom_id
  {%- for f in fields %},
    CASE WHEN own.param_set IS NOT NULL THEN own."{{ f }}"::DOUBLE
         WHEN dflt.param_set IS NOT NULL THEN dflt."{{ f }}"::DOUBLE
         ELSE {{ neutral[f] }} END AS "{{ f }}"
  {%- endfor %}
  FROM qm_param_sets AS ps
  CROSS JOIN qm_domains AS dm
  LEFT JOIN {{ params }} AS own ON CAST(own.param_set AS VARCHAR) = ps.param_set AND CAST(own.domain AS VARCHAR) = dm.domain
  LEFT JOIN {{ params }} AS dflt ON CAST(dflt.param_set AS VARCHAR) = ps.param_set AND CAST(dflt.domain AS VARCHAR) = '*'
)
{%- endmacro %}
