{#-
  σ normalization (SPEC §2 step 1): each oriented score o_<c> (smaller is better) becomes
  s_<c> in [0, 1], 0 = best, computed WITHIN each domain.

  qm_domains: per domain, its documents, tokens (dom_tokens) and per-criterion min / max.

  normalization='percentile' (default), token-weighted, ties included:
      s_c(x) = (tokens of same-domain docs with o_c <= o_c(x)) / dom_tokens
    i.e. the share of the domain's tokens that is at least as good as x (ties share the
    HIGHEST cumulative value, the same convention as r̄). The best doc gets its own token share,
    the worst gets 1.
    rank_method='exact' computes it with one window sort per criterion;
    rank_method='binned' splits each domain's [min, max] of o_c into `bins` equal-width bins and
    uses the cumulative tokens up to and including the doc's bin (a small GROUP BY joined back,
    no sort of the documents). Exact when every distinct value has its own bin (discrete scores);
    otherwise the error is at most the token share of one bin (bench/sampling.py prints it).
  normalization='minmax': s_c = (o_c - min) / (max - min) within the domain; 0 when max = min.
  normalization='zscore': z = (o_c - mean) / std with token-weighted mean and std of the domain,
    s_c = 1 / (1 + exp(-z)) (a logistic squash into (0, 1)); 0 when std = 0. Sums use ordered
    aggregates so the result is bit-identical whatever the thread count.
  A domain whose documents all have 0 tokens gets s_c = 0 (percentile) for every doc.
  Token sums are DOUBLE sums of integers (< 2^53), hence exact and order-independent.
-#}
{% macro quadmix_domains_cte(criteria, normalization) -%}
qm_domains AS (
  SELECT domain, count(*) AS dom_docs, sum(n_tokens::DOUBLE) AS dom_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    min(o_{{ col }}) AS min_{{ col }}, max(o_{{ col }}) AS max_{{ col }}
    {%- if normalization == 'zscore' %},
    sum(n_tokens * o_{{ col }} ORDER BY doc_id) / nullif(sum(n_tokens::DOUBLE), 0) AS mean_{{ col }}
    {%- endif %}
  {%- endfor %}
  FROM qm_docs GROUP BY domain
)
{%- if normalization == 'zscore' %},
qm_domain_std AS (
  SELECT dm.domain
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    sqrt(sum(d.n_tokens * (d.o_{{ col }} - dm.mean_{{ col }}) ^ 2 ORDER BY d.doc_id) / nullif(any_value(dm.dom_tokens), 0)) AS std_{{ col }}
  {%- endfor %}
  FROM qm_docs AS d JOIN qm_domains AS dm ON dm.domain = d.domain GROUP BY dm.domain
)
{%- endif %}
{%- endmacro %}

{% macro quadmix_bin(value, lo, hi, bins) -%}
{#- equal-width bin of value in [lo, hi] -> 0 .. bins-1; one bin when lo = hi -#}
(CASE WHEN {{ hi }} > {{ lo }}
      THEN least(floor(({{ value }} - {{ lo }}) / ({{ hi }} - {{ lo }}) * {{ sql_number(bins) }}), {{ sql_number(bins) }} - 1)
      ELSE 0 END)::INTEGER
{%- endmacro %}

{% macro quadmix_sigma_ctes(criteria, normalization='percentile', rank_method='exact', bins=16384) -%}
{{ quadmix_domains_cte(criteria, normalization) }},
{%- if normalization == 'percentile' and rank_method == 'binned' %}
qm_docs_binned AS (
  SELECT d.*, dm.dom_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    {{ quadmix_bin('d.o_' ~ col, 'dm.min_' ~ col, 'dm.max_' ~ col, bins) }} AS b_{{ col }}
  {%- endfor %}
  FROM qm_docs AS d JOIN qm_domains AS dm ON dm.domain = d.domain
),
{%- for c in criteria %}{% set col = sql_identifier(c.name) %}
qm_cdf_{{ col }} AS (
  -- cumulative tokens up to and including each bin
  SELECT domain, b, sum(t) OVER (PARTITION BY domain ORDER BY b) AS cum
  FROM (SELECT domain, b_{{ col }} AS b, sum(n_tokens::DOUBLE) AS t FROM qm_docs_binned GROUP BY ALL)
),
{%- endfor %}
qm_sigma AS (
  SELECT d.doc_id, d.domain, d.n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    CASE WHEN d.dom_tokens = 0 THEN 0.0 ELSE cdf_{{ col }}.cum / d.dom_tokens END AS s_{{ col }}
  {%- endfor %}
  FROM qm_docs_binned AS d
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %}
  JOIN qm_cdf_{{ col }} AS cdf_{{ col }} ON cdf_{{ col }}.domain = d.domain AND cdf_{{ col }}.b = d.b_{{ col }}
  {%- endfor %}
)
{%- elif normalization == 'percentile' and rank_method == 'exact' %}
qm_sigma AS (
  SELECT d.doc_id, d.domain, d.n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    CASE WHEN dm.dom_tokens = 0 THEN 0.0
         ELSE sum(d.n_tokens::DOUBLE) OVER (PARTITION BY d.domain ORDER BY d.o_{{ col }}
                                            RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) / dm.dom_tokens
    END AS s_{{ col }}
  {%- endfor %}
  FROM qm_docs AS d JOIN qm_domains AS dm ON dm.domain = d.domain
)
{%- elif normalization == 'minmax' %}
qm_sigma AS (
  SELECT d.doc_id, d.domain, d.n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    CASE WHEN dm.max_{{ col }} > dm.min_{{ col }}
         THEN (d.o_{{ col }} - dm.min_{{ col }}) / (dm.max_{{ col }} - dm.min_{{ col }}) ELSE 0.0 END AS s_{{ col }}
  {%- endfor %}
  FROM qm_docs AS d JOIN qm_domains AS dm ON dm.domain = d.domain
)
{%- elif normalization == 'zscore' %}
qm_sigma AS (
  SELECT d.doc_id, d.domain, d.n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    CASE WHEN sd.std_{{ col }} > 0
         THEN 1.0 / (1.0 + exp(-((d.o_{{ col }} - dm.mean_{{ col }}) / sd.std_{{ col }}))) ELSE 0.0 END AS s_{{ col }}
  {%- endfor %}
  FROM qm_docs AS d JOIN qm_domains AS dm ON dm.domain = d.domain JOIN qm_domain_std AS sd ON sd.domain = d.domain
)
{%- else %}
  {{ exceptions.raise_compiler_error("quadmix: normalization must be percentile, minmax or zscore and rank_method exact or binned; got " ~ normalization ~ "/" ~ rank_method) }}
{%- endif %}
{%- endmacro %}
