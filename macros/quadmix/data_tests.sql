{#-
  Generic data tests for mixtures (usable in schema.yml as `quadmix_non_increasing: {...}` and
  `quadmix_unique_combination: {...}`); each returns the failing rows.
-#}

{#- S must not increase with rbar within a (param_set, domain): a row whose s exceeds the s of
    the row ranked just before it (by rbar, ties ordered by s descending) fails. -#}
{% macro test_quadmix_non_increasing(model, column_name, order_by='rbar', partition_by='param_set, domain', tolerance=1e-12) -%}
SELECT * FROM (
  SELECT *, lag({{ column_name }}) OVER (PARTITION BY {{ partition_by }}
                                        ORDER BY {{ order_by }}, {{ column_name }} DESC) AS previous_value
  FROM {{ model }}
) AS t
WHERE {{ column_name }} > previous_value + {{ sql_number(tolerance) }}
{%- endmacro %}

{% macro test_quadmix_unique_combination(model, columns) -%}
SELECT {{ columns | join(', ') }}, count(*) AS n_records
FROM {{ model }}
GROUP BY {{ columns | join(', ') }}
HAVING count(*) > 1
{%- endmacro %}
