{#-
  quadmix_params_cte: one parameter row per (param_set, domain present in the data).
  A domain without its own row in the parameter table takes the param set's default row
  (domain = '*'); when neither exists the query stops with an error naming both.
  Values were validated before the query runs (quadmix_wh.sampling.params.validate_params).
-#}
{% macro quadmix_params_cte(params, criteria) -%}
{%- set fields = [] %}
{%- for c in criteria %}{% do fields.append('alpha_' ~ sql_identifier(c.name)) %}{% endfor %}
{%- do fields.extend(['lambda', 'omega', 'eta', 'epsilon']) %}
qm_params AS (
  SELECT ps.param_set, dm.domain
  {%- for f in fields %},
    CASE WHEN own.param_set IS NOT NULL THEN own."{{ f }}"::DOUBLE
         WHEN dflt.param_set IS NOT NULL THEN dflt."{{ f }}"::DOUBLE
         ELSE error('quadmix: parameter set ' || ps.param_set || ' has no row for domain ' || dm.domain
                    || ' and no default row (domain ''*'')') END AS "{{ f }}"
  {%- endfor %}
  FROM (SELECT DISTINCT CAST(param_set AS VARCHAR) AS param_set FROM {{ params }}) AS ps
  CROSS JOIN qm_domains AS dm
  LEFT JOIN {{ params }} AS own ON CAST(own.param_set AS VARCHAR) = ps.param_set AND CAST(own.domain AS VARCHAR) = dm.domain
  LEFT JOIN {{ params }} AS dflt ON CAST(dflt.param_set AS VARCHAR) = ps.param_set AND CAST(dflt.domain AS VARCHAR) = '*'
)
{%- endmacro %}
