{#-
  The approximate ("binned") token-weighted share, used by rank_method='binned' for the σ
  percentiles and for r̄: a GROUP BY on integer bin keys, a window over the small histogram and
  one hash join back on a single integer key; no sort of the documents, no CASE per document.

  Values are first squashed (σ only; r̄ bins qbar in [0, 1] directly):
      x = z / (1 + |z|),  z = (v - mid) * inv
  with mid the median and inv = 0.5 / (interquartile range / 1.35) of the domain's values on a
  fixed 1/16 subset (normalize.sql). The squash is increasing, so shares are unchanged, but a
  heavy tail or a few huge outliers (perplexity) no longer stretch the bins over empty space.
  It uses only + - * / and abs, which IEEE 754 rounds the same way on every machine.

  A group g (a domain, or a (param set, domain) pair) with squashed bounds [xlo, xhi] gets
  bins + 2 bins: bin 0 holds exactly the values equal to the group's minimum, bin bins + 1
  exactly those equal to its maximum (the point masses of clipped scores), bin b in 1..bins the
  other values with (b - 1) < (x - xlo) * scale <= b, scale = bins / (xhi - xlo) (0 when
  xhi = xlo). Each bin holds t (tokens), vmin / vmax (its smallest / largest x) and cum (tokens
  of bins <= b); with T the group's tokens the share of x in bin b is
      cum / T                                                      if the bin holds one value
      min((cum - t + t * (x - vmin) / (vmax - vmin)) / T, cum / T)   otherwise
  i.e. linear inside the bin, and 0 for a group without tokens. The cdf CTE stores cumn, basen
  and slopen per bin, so each document costs one multiply-add and a min. Exact for a value alone
  in its bin (discrete scores) and for the group's smallest and largest values with all their
  ties; otherwise the error is at most the token share of one bin (bench/sampling.py measures
  it). The share is non-decreasing in v, so S stays non-increasing in r̄. Sums are DOUBLE sums
  of integer token counts (exact below 2^53), so the result is bit-identical whatever the
  thread count. The group's tokens T come from qm_domains: dom_id = (k // (bins + 2)) % 2^20.
-#}
{% macro quadmix_squash(value, mid, inv) -%}
((({{ value }}) - {{ mid }}) * {{ inv }} / (1.0 + abs((({{ value }}) - {{ mid }}) * {{ inv }})))
{%- endmacro %}

{% macro quadmix_bin_key(group_sql, x, xlo, scale, bins, at_max) -%}
(CAST({{ group_sql }} AS BIGINT) * {{ sql_number((bins | int) + 2) }}
 + least(CAST(ceil(({{ x }} - {{ xlo }}) * {{ scale }}) AS BIGINT), {{ sql_number(bins | int) }})
 + CAST({{ at_max }} AS BIGINT))
{%- endmacro %}

{% macro quadmix_bin_cdf_cte(name, source, key, x, bins) -%}
{%- set width = sql_number((bins | int) + 2) -%}
{{ name }} AS (
  SELECT h.k, h.vmin,
    CASE WHEN g.dom_tokens > 0 THEN h.cum / g.dom_tokens ELSE 0.0 END AS cumn,
    CASE WHEN g.dom_tokens > 0 AND h.vmax > h.vmin THEN (h.cum - h.t) / g.dom_tokens
         WHEN g.dom_tokens > 0 THEN h.cum / g.dom_tokens ELSE 0.0 END AS basen,
    CASE WHEN g.dom_tokens > 0 AND h.vmax > h.vmin THEN h.t / g.dom_tokens / (h.vmax - h.vmin) ELSE 0.0 END AS slopen
  FROM (
    SELECT *, sum(t) OVER (PARTITION BY k // {{ width }} ORDER BY k) AS cum
    FROM (
      SELECT {{ key }} AS k, sum(n_tokens::DOUBLE) AS t, min({{ x }}) AS vmin, max({{ x }}) AS vmax
      FROM {{ source }} GROUP BY {{ key }}
    )
  ) AS h
  JOIN qm_domains AS g ON g.dom_id = (h.k // {{ width }}) % 1048576
)
{%- endmacro %}

{% macro quadmix_bin_share(x, cdf) -%}
least({{ cdf }}.basen + {{ cdf }}.slopen * ({{ x }} - {{ cdf }}.vmin), {{ cdf }}.cumn)
{%- endmacro %}
