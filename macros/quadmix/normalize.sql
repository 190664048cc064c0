{#-
  σ normalization (SPEC §2 step 1): each oriented score o_<c> (smaller is better) becomes
  s_<c> in [0, 1], 0 = best, computed WITHIN each domain.

  qm_domains: per domain, an integer key dom_id (1.. in domain name order), its documents,
    tokens (dom_tokens) and per-criterion lo_<c> / hi_<c> (min / max); for the binned mode also
    the squash of each criterion (binned.sql): mid_<c>, inv_<c>, the squashed bounds xlo_<c> /
    xhi_<c> and scale_<c> = bins / (xhi - xlo), so that a document's bin needs no CASE.
    This pass reads every document once, so it is also where prepared inputs are checked
    (quadmix_inputs_check): a bad row stops the query with an error naming its doc_id.
  qm_docs_d: every document with its dom_id and its domain's bounds. Everything after it joins
    on integers. It is recomputed by each reader (a scan and a join with a few dozen rows)
    rather than materialized: cheaper than writing and re-reading a wide copy of every document.
  qm_sigma: doc_id, doc_hash, dom_id, n_tokens, s_<c> ...

  normalization='percentile' (default), token-weighted, ties included:
      s_c(x) = (tokens of same-domain docs with o_c <= o_c(x)) / dom_tokens
    i.e. the share of the domain's tokens that is at least as good as x (ties share the
    HIGHEST cumulative value, the same convention as r̄). The best doc gets its own token share,
    the worst gets 1. A domain whose documents all have 0 tokens gets s_c = 0 for every doc.
    rank_method='exact' computes it with one window sort per criterion;
    rank_method='binned' (approximate, no sort of the documents): binned.sql.
  normalization='minmax': s_c = (o_c - lo) / (hi - lo) within the domain; 0 when hi = lo.
  normalization='zscore': z = (o_c - mean) / std with token-weighted mean and std of the domain,
    s_c = 1 / (1 + exp(-z)) (a logistic squash into (0, 1)); 0 when std = 0. Those sums use
    ordered aggregates so the result is bit-identical whatever the thread count.
  Token sums are DOUBLE sums of integers (< 2^53), hence exact and order-independent.
-#}
{% macro quadmix_domains_cte(criteria, normalization, rank_method, bins, check_inputs=true) -%}
{%- set binned = normalization == 'percentile' and rank_method == 'binned' %}
{%- if binned %}
qm_domain_quartiles AS (
  {#- robust centre and spread of each criterion per domain, from a fixed 1/16 subset of the
      documents (doc_hash % 16 = 0): quantile_disc returns data values, so this is exact and
      deterministic #}
  SELECT domain
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    quantile_disc(o_{{ col }}, [0.25, 0.5, 0.75]) AS q_{{ col }}
  {%- endfor %}
  FROM qm_docs WHERE doc_hash % 16 = 0 GROUP BY domain
),
{%- endif %}
qm_domains AS (
  SELECT *
  {%- if binned %}
    {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    CASE WHEN xhi_{{ col }} > xlo_{{ col }} THEN least({{ sql_number(bins | int) }} / (xhi_{{ col }} - xlo_{{ col }}), 1e300)
         ELSE 0.0 END AS scale_{{ col }}
    {%- endfor %}
  FROM (
    SELECT *
    {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
      {{ quadmix_squash('lo_' ~ col, 'mid_' ~ col, 'inv_' ~ col) }} AS xlo_{{ col }},
      {{ quadmix_squash('hi_' ~ col, 'mid_' ~ col, 'inv_' ~ col) }} AS xhi_{{ col }}
    {%- endfor %}
    FROM (
      SELECT a.*
      {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
        coalesce(q.q_{{ col }}[2], (a.lo_{{ col }} + a.hi_{{ col }}) / 2) AS mid_{{ col }},
        0.5 / CASE WHEN q.q_{{ col }}[3] > q.q_{{ col }}[1] THEN (q.q_{{ col }}[3] - q.q_{{ col }}[1]) / 1.35
                   WHEN a.hi_{{ col }} > a.lo_{{ col }} THEN (a.hi_{{ col }} - a.lo_{{ col }}) / 4
                   ELSE 1.0 END AS inv_{{ col }}
      {%- endfor %}
      FROM ({{ quadmix_domain_aggregate(criteria, normalization, check_inputs) }}) AS a
      LEFT JOIN qm_domain_quartiles AS q ON q.domain = a.domain
    )
  )
  {%- else %}
  FROM ({{ quadmix_domain_aggregate(criteria, normalization, check_inputs) }})
  {%- endif %}
),
qm_docs_d AS NOT MATERIALIZED (
  SELECT d.doc_id, d.doc_hash, dm.dom_id, d.n_tokens, dm.dom_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    d.o_{{ col }}, dm.lo_{{ col }}, dm.hi_{{ col }}
    {%- if normalization == 'zscore' %}, dm.mean_{{ col }}{% endif %}
    {%- if binned %},
    {{ quadmix_squash('d.o_' ~ col, 'dm.mid_' ~ col, 'dm.inv_' ~ col) }} AS x_{{ col }},
    {{ quadmix_bin_key('dm.dom_id', quadmix_squash('d.o_' ~ col, 'dm.mid_' ~ col, 'dm.inv_' ~ col),
                       'dm.xlo_' ~ col, 'dm.scale_' ~ col, bins, 'd.o_' ~ col ~ ' >= dm.hi_' ~ col) }} AS k_{{ col }}
    {%- endif %}
  {%- endfor %}
  FROM qm_docs AS d JOIN qm_domains AS dm ON dm.domain = d.domain
)
{%- if normalization == 'zscore' %},
qm_domain_std AS (
  SELECT dom_id
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    sqrt(sum(n_tokens * (o_{{ col }} - mean_{{ col }}) ^ 2 ORDER BY doc_id) / nullif(any_value(dom_tokens), 0)) AS std_{{ col }}
  {%- endfor %}
  FROM qm_docs_d GROUP BY dom_id
)
{%- endif %}
{%- endmacro %}

{#- the per-domain pass over every document: tokens, bounds (and means for zscore); it also
    checks the rows (quadmix_inputs_check) unless they were checked when the prepared inputs
    were built (check_inputs=false: the mixture_inputs model). dom_id numbers the domains in
    name order. -#}
{% macro quadmix_domain_aggregate(criteria, normalization, check_inputs=true) -%}
SELECT *, CAST(row_number() OVER (ORDER BY domain) AS INTEGER) AS dom_id
FROM (
  SELECT domain, count(*) AS dom_docs, sum(n_tokens::DOUBLE) AS dom_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    min(o_{{ col }}) AS lo_{{ col }}, max(o_{{ col }}) AS hi_{{ col }}
    {%- if normalization == 'zscore' %},
    sum(n_tokens * o_{{ col }} ORDER BY doc_id) / nullif(sum(n_tokens::DOUBLE), 0) AS mean_{{ col }}
    {%- endif %}
  {%- endfor %}
  FROM qm_docs GROUP BY domain
  {%- if check_inputs %}
  {{ quadmix_inputs_check(criteria) }}
  {%- endif %}
)
{%- endmacro %}

{% macro quadmix_sigma_ctes(criteria, normalization='percentile', rank_method='exact', bins=1024, check_inputs=true) -%}
{%- if normalization not in ('percentile', 'minmax', 'zscore') or rank_method not in ('exact', 'binned') %}
  {{- exceptions.raise_compiler_error("quadmix: normalization must be percentile, minmax or zscore and rank_method exact or binned; got " ~ normalization ~ "/" ~ rank_method) }}
{%- endif %}
{{ quadmix_domains_cte(criteria, normalization, rank_method, bins, check_inputs) }},
{%- if normalization == 'percentile' and rank_method == 'binned' %}
{%- for c in criteria %}{% set col = sql_identifier(c.name) %}
{{ quadmix_bin_cdf_cte('qm_cdf_' ~ col, 'qm_docs_d', 'k_' ~ col, 'x_' ~ col, bins) }},
{%- endfor %}
qm_sigma AS (
  SELECT d.doc_id, d.doc_hash, d.dom_id, d.n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    {{ quadmix_bin_share('d.x_' ~ col, 'cdf_' ~ col) }} AS s_{{ col }}
  {%- endfor %}
  FROM qm_docs_d AS d
  {#- one integer key per criterion, so that the join optimizer cannot chain two cdf tables
      together on a shared domain key (a bins^2-per-domain blow-up) #}
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %}
  JOIN qm_cdf_{{ col }} AS cdf_{{ col }} ON cdf_{{ col }}.k = d.k_{{ col }}
  {%- endfor %}
)
{%- elif normalization == 'percentile' %}
qm_sigma AS (
  SELECT doc_id, doc_hash, dom_id, n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    CASE WHEN dom_tokens = 0 THEN 0.0
         ELSE sum(n_tokens::DOUBLE) OVER (PARTITION BY dom_id ORDER BY o_{{ col }}
                                          RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) / dom_tokens
    END AS s_{{ col }}
  {%- endfor %}
  FROM qm_docs_d
)
{%- elif normalization == 'minmax' %}
qm_sigma AS (
  SELECT doc_id, doc_hash, dom_id, n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    CASE WHEN hi_{{ col }} > lo_{{ col }}
         THEN (o_{{ col }} - lo_{{ col }}) / (hi_{{ col }} - lo_{{ col }}) ELSE 0.0 END AS s_{{ col }}
  {%- endfor %}
  FROM qm_docs_d
)
{%- else %}
qm_sigma AS (
  SELECT d.doc_id, d.doc_hash, d.dom_id, d.n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    CASE WHEN sd.std_{{ col }} > 0
         THEN 1.0 / (1.0 + exp(-((d.o_{{ col }} - d.mean_{{ col }}) / sd.std_{{ col }}))) ELSE 0.0 END AS s_{{ col }}
  {%- endfor %}
  FROM qm_docs_d AS d JOIN qm_domain_std AS sd ON sd.dom_id = d.dom_id
)
{%- endif %}
{%- endmacro %}
