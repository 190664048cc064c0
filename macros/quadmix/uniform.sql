{#-
  quadmix_uniform(id_sql, seed): a deterministic uniform u in [0, 1) per (document, seed).

  u = int(first 13 hex digits of md5(doc_id || ':' || seed), 16) / 16^13

  Why md5 text: DuckDB's random() is not reproducible under threads and hash() changed across
  versions; the hex md5 of a string is the same on every machine, engine version and thread
  count. 13 hex digits = 52 bits, so u is an exact double with 2^-52 resolution.
-#}
{% macro quadmix_uniform(id_sql, seed) -%}
(('0x' || substr(md5(CAST({{ id_sql }} AS VARCHAR) || ':{{ sql_number(seed | int) }}'), 1, 13))::UBIGINT / 4503599627370496.0)
{%- endmacro %}
