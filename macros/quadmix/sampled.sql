{#-
  rank_method='sampled': the paper's approach at scale (SPEC §2: "percentiles estimated on a
  subset"). Every histogram -- one per criterion for σ, one per (param set, domain) for r̄ -- is
  built from a fixed subset of each domain's documents, then ONE streaming pass over all
  documents looks their σ and r̄ up. Compared with rank_method='binned' this removes the three
  full-data histogram passes and the second pass over a materialized qbar table.

  The subset: the documents with doc_hash % sub_mod = 0, sub_mod = max(1, dom_docs // sample_docs)
  per domain, so a domain keeps between sample_docs and 2 * sample_docs of its documents, and a
  domain with fewer than 2 * sample_docs documents keeps all of them (its histograms are then
  those of the full data). doc_hash is md5-based (uniform.sql), so the subset is a uniform,
  reproducible sample that does not depend on the seed or the thread count.

  Why several statements: a histogram has to be looked up for every document, and a lookup is
  fast only when DuckDB can join against a REAL table (it then knows the key range and turns the
  hash join into an array lookup, a "perfect hash join"); against a CTE the same join costs 5-30
  times more (docs/SAMPLING.md). So quadmix_sampled_prepare creates small TEMP tables first, and
  quadmix_sampled_query reads them:
    <p>inputs     the checked prepared inputs (only when built from the raw scores/domains/documents)
    <p>domains    qm_domains (bounds, tokens, squash, scale) + dom_idx (0-based) and sub_mod
    <p>params     qm_params + param_set, and grp = ps_idx * n_domains + dom_idx (the r̄ group)
    <p>sample     the subset: dom_id, n_tokens, x_<c> (squashed value), k_<c> (bin key)
    <p>cdf        per (domain, bin), dense: cb_<c>, slope_<c>, eb_<c> for every criterion
    <p>rank_cdf   per (param set, domain, bin), dense: cb, slope, eb for qbar
  quadmix_sampled_cleanup drops them.

  Bins (binned.sql's squash and bin keys): bin 0 holds the values equal to the group's minimum,
  bin bins + 1 those equal to its maximum, bin b in 1..bins the values in (e_(b-1), e_b] with
  e_b = xlo + b / scale. With C_b the subset's token share of bins <= b, a value x in bin b gets
      share = C_b - slope_b * (e_b - x),    slope_b = (C_b - C_(b-1)) * scale
  i.e. linear between the bin's edges, C_(b-1) at its lower and C_b at its upper edge, so it is
  non-decreasing in x across bins with no clamp. slope_b = 0 -- the share is C_b, every tie
  sharing the highest cumulative value as in the exact mode -- for bins 0 and bins + 1, for a bin
  whose subset documents all have one value (a discrete score), and for a bin without subset
  documents (its share is then C_(b-1) = C_b). r̄ is finally clamped into [0, 1] against rounding.
  Sums are DOUBLE sums of integer token counts (exact below 2^53) and every window is ordered,
  so the result is bit-identical whatever the thread count.
-#}

{% macro quadmix_sampled_table(prefix, name) -%}
{{ prefix }}{{ name }}
{%- endmacro %}

{#- the rank-bin key of a qbar in [0, 1]: bins 0 (qbar <= 0) .. bins + 1 (qbar >= 1) of group grp -#}
{% macro quadmix_sampled_rank_key(grp, qbar, bins) -%}
(CAST({{ grp }} AS BIGINT) * {{ sql_number((bins | int) + 2) }}
 + least(greatest(CAST(ceil(({{ qbar }}) * {{ sql_number(bins | int) }}) AS BIGINT), 0), {{ sql_number(bins | int) }})
 + CAST(({{ qbar }}) >= 1.0 AS BIGINT))
{%- endmacro %}

{#- the looked-up share of x in the bin row `cdf` (columns cb, slope, eb with the given suffix) -#}
{% macro quadmix_sampled_share(x, cdf, suffix='') -%}
({{ cdf }}.cb{{ suffix }} - {{ cdf }}.slope{{ suffix }} * ({{ cdf }}.eb{{ suffix }} - ({{ x }})))
{%- endmacro %}

{#- The cb / slope / eb columns (named with `suffix`) of a dense cdf row g (columns b, ...) from
    its histogram values t / vmin / vmax (NULL for a bin without subset documents), the running
    token sum cum and the group total tot. -#}
{% macro quadmix_sampled_cdf_columns(t, vmin, vmax, cum, tot, xlo, scale, bins, suffix) -%}
CASE WHEN {{ tot }} > 0 THEN {{ cum }} / {{ tot }} ELSE 0.0 END AS cb{{ suffix }},
    CASE WHEN {{ tot }} > 0 AND g.b BETWEEN 1 AND {{ sql_number(bins | int) }} AND {{ scale }} > 0 AND {{ vmax }} > {{ vmin }}
         THEN {{ t }} / {{ tot }} * {{ scale }} ELSE 0.0 END AS slope{{ suffix }},
    CASE WHEN {{ scale }} > 0 THEN {{ xlo }} + g.b / {{ scale }} ELSE 0.0 END AS eb{{ suffix }}
{%- endmacro %}

{#- The statements that build the temp tables, as one SQL text (statements end with ';'). -#}
{% macro quadmix_sampled_prepare(prefix, params, criteria, inputs=none, scores=none, domains=none,
                                 documents=none, bins=1024, sample_docs=65536, check_inputs=true,
                                 scores_format='long') -%}
{%- set width = sql_number((bins | int) + 2) -%}
{%- set t = {'inputs': quadmix_sampled_table(prefix, 'inputs'), 'domains': quadmix_sampled_table(prefix, 'domains'),
             'params': quadmix_sampled_table(prefix, 'params'), 'sample': quadmix_sampled_table(prefix, 'sample'),
             'cdf': quadmix_sampled_table(prefix, 'cdf'), 'rank_cdf': quadmix_sampled_table(prefix, 'rank_cdf')} -%}
{%- if (sample_docs | int) < 1 %}{{ exceptions.raise_compiler_error("quadmix: sample_docs must be >= 1, got " ~ sample_docs) }}{% endif %}
{%- if inputs is none %}
{#- raw inputs: prepare (and check) them once; every later statement reads the temp table -#}
CREATE OR REPLACE TEMP TABLE {{ t.inputs }} AS
{{ quadmix_inputs_query(scores, domains, documents, criteria, scores_format) }};
{%- set inputs = t.inputs %}
{%- set check_inputs = false %}
{%- endif %}
CREATE OR REPLACE TEMP TABLE {{ t.domains }} AS
WITH
{{ quadmix_oriented_docs_cte(inputs, criteria) }},
{{ quadmix_domains_cte(criteria, 'percentile', 'binned', bins, check_inputs) }}
SELECT *, dom_id - 1 AS dom_idx,
  CAST(greatest(dom_docs // {{ sql_number(sample_docs | int) }}, 1) AS UBIGINT) AS sub_mod
FROM qm_domains;

CREATE OR REPLACE TEMP TABLE {{ t.params }} AS
WITH
qm_domains AS (SELECT * FROM {{ t.domains }}),
{{ quadmix_params_cte(params, criteria) }}
SELECT p.*, ps.param_set,
  (CAST(p.ps_id AS BIGINT) - 1) * (SELECT count(*) FROM qm_domains) + (p.dom_id - 1) AS grp
FROM qm_params AS p JOIN qm_param_sets AS ps ON ps.ps_id = p.ps_id;

{#- the subset, filtered on doc_hash before anything per criterion is computed -#}
CREATE OR REPLACE TEMP TABLE {{ t.sample }} AS
WITH
{{ quadmix_oriented_docs_cte(inputs, criteria) }}
SELECT dom_id, n_tokens
{%- for c in criteria %}{% set col = sql_identifier(c.name) %},
  {{ quadmix_squash('o_' ~ col, 'mid_' ~ col, 'inv_' ~ col) }} AS x_{{ col }},
  {{ quadmix_bin_key('dom_idx', quadmix_squash('o_' ~ col, 'mid_' ~ col, 'inv_' ~ col),
                     'xlo_' ~ col, 'scale_' ~ col, bins, 'o_' ~ col ~ ' >= hi_' ~ col) }} AS k_{{ col }}
{%- endfor %}
FROM (
  SELECT d.n_tokens{% for c in criteria %}{% set col = sql_identifier(c.name) %}, d.o_{{ col }}{% endfor %}, dm.*
  FROM qm_docs AS d JOIN {{ t.domains }} AS dm ON dm.domain = d.domain
  WHERE d.doc_hash % dm.sub_mod = 0
);

CREATE OR REPLACE TEMP TABLE {{ t.cdf }} AS
WITH
{%- for c in criteria %}{% set col = sql_identifier(c.name) %}
qm_hist_{{ col }} AS (
  SELECT k_{{ col }} AS k, sum(n_tokens::DOUBLE) AS t, min(x_{{ col }}) AS vmin, max(x_{{ col }}) AS vmax
  FROM {{ t.sample }} GROUP BY k_{{ col }}
),
{%- endfor %}
qm_grid AS (
  SELECT dm.dom_idx AS grp, CAST(dm.dom_idx AS BIGINT) * {{ width }} + b.range AS k, b.range AS b
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %}, dm.xlo_{{ col }}, dm.scale_{{ col }}{% endfor %}
  FROM {{ t.domains }} AS dm CROSS JOIN range({{ width }}) AS b
)
SELECT k
{%- for c in criteria %}{% set col = sql_identifier(c.name) %},
  {{ quadmix_sampled_cdf_columns('g.t_' ~ col, 'g.vmin_' ~ col, 'g.vmax_' ~ col, 'g.cum_' ~ col, 'g.tot_' ~ col,
                                 'g.xlo_' ~ col, 'g.scale_' ~ col, bins, '_' ~ col) }}
{%- endfor %}
FROM (
  SELECT g.*
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    sum(coalesce(h_{{ col }}.t, 0.0)) OVER (PARTITION BY g.grp ORDER BY g.k) AS cum_{{ col }},
    sum(coalesce(h_{{ col }}.t, 0.0)) OVER (PARTITION BY g.grp) AS tot_{{ col }},
    h_{{ col }}.t AS t_{{ col }}, h_{{ col }}.vmin AS vmin_{{ col }}, h_{{ col }}.vmax AS vmax_{{ col }}
  {%- endfor %}
  FROM qm_grid AS g
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %}
  LEFT JOIN qm_hist_{{ col }} AS h_{{ col }} ON h_{{ col }}.k = g.k
  {%- endfor %}
) AS g;

CREATE OR REPLACE TEMP TABLE {{ t.rank_cdf }} AS
WITH
qm_sample_quality AS (
  SELECT q.n_tokens, q.qbar, {{ quadmix_sampled_rank_key('q.grp', 'q.qbar', bins) }} AS k
  FROM (
    SELECT s.n_tokens, p.grp, {{ quadmix_qbar_sql(criteria) }} AS qbar
    FROM (
      SELECT d.dom_id, d.n_tokens
      {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
        {{ quadmix_sampled_share('d.x_' ~ col, 'cdf_' ~ col, '_' ~ col) }} AS s_{{ col }}
      {%- endfor %}
      FROM {{ t.sample }} AS d
      {%- for c in criteria %}{% set col = sql_identifier(c.name) %}
      JOIN {{ t.cdf }} AS cdf_{{ col }} ON cdf_{{ col }}.k = d.k_{{ col }}
      {%- endfor %}
    ) AS s
    JOIN {{ t.params }} AS p ON p.dom_id = s.dom_id
  ) AS q
),
qm_hist AS (
  SELECT k, sum(n_tokens::DOUBLE) AS t, min(qbar) AS vmin, max(qbar) AS vmax FROM qm_sample_quality GROUP BY k
),
qm_grid AS (
  SELECT p.grp, p.grp * {{ width }} + b.range AS k, b.range AS b FROM {{ t.params }} AS p CROSS JOIN range({{ width }}) AS b
)
SELECT k, {{ quadmix_sampled_cdf_columns('g.t', 'g.vmin', 'g.vmax', 'g.cum', 'g.tot', '0.0', sql_number(bins | int), bins, '') }}
FROM (
  SELECT g.*, h.t, h.vmin, h.vmax,
    sum(coalesce(h.t, 0.0)) OVER (PARTITION BY g.grp ORDER BY g.k) AS cum,
    sum(coalesce(h.t, 0.0)) OVER (PARTITION BY g.grp) AS tot
  FROM qm_grid AS g LEFT JOIN qm_hist AS h ON h.k = g.k
) AS g;
{%- endmacro %}

{#- The streaming pass: every document's σ, qbar, r̄, S and draw, read from the temp tables;
    the same outputs as quadmix_mixture_query. -#}
{% macro quadmix_sampled_query(prefix, criteria, seed=0, inputs=none, bins=1024, budget_tokens=none,
                               output='mixture', include_zero=false) -%}
{%- set t = {'inputs': quadmix_sampled_table(prefix, 'inputs'), 'domains': quadmix_sampled_table(prefix, 'domains'),
             'params': quadmix_sampled_table(prefix, 'params'), 'cdf': quadmix_sampled_table(prefix, 'cdf'),
             'rank_cdf': quadmix_sampled_table(prefix, 'rank_cdf')} -%}
WITH
{{ quadmix_oriented_docs_cte(inputs if inputs is not none else t.inputs, criteria) }},
qm_domains AS NOT MATERIALIZED (SELECT * FROM {{ t.domains }}),
qm_params AS NOT MATERIALIZED (SELECT * FROM {{ t.params }}),
qm_param_sets AS (SELECT DISTINCT ps_id, param_set FROM {{ t.params }}),
qm_sigma AS (
  SELECT d.doc_id, d.doc_hash, d.dom_id, d.n_tokens
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
    {{ quadmix_sampled_share('d.x_' ~ col, 'cdf_' ~ col, '_' ~ col) }} AS s_{{ col }}
  {%- endfor %}
  FROM (
    SELECT d.doc_id, d.doc_hash, dm.dom_id, d.n_tokens
    {%- for c in criteria %}{% set col = sql_identifier(c.name) %},
      {{ quadmix_squash('d.o_' ~ col, 'dm.mid_' ~ col, 'dm.inv_' ~ col) }} AS x_{{ col }},
      {{ quadmix_bin_key('dm.dom_idx', quadmix_squash('d.o_' ~ col, 'dm.mid_' ~ col, 'dm.inv_' ~ col),
                         'dm.xlo_' ~ col, 'dm.scale_' ~ col, bins, 'd.o_' ~ col ~ ' >= dm.hi_' ~ col) }} AS k_{{ col }}
    {%- endfor %}
    FROM qm_docs AS d JOIN {{ t.domains }} AS dm ON dm.domain = d.domain
  ) AS d
  {%- for c in criteria %}{% set col = sql_identifier(c.name) %}
  JOIN {{ t.cdf }} AS cdf_{{ col }} ON cdf_{{ col }}.k = d.k_{{ col }}
  {%- endfor %}
),
qm_ranked AS (
  SELECT q.ps_id, q.doc_id, q.doc_hash, q.dom_id, q.n_tokens, q.qbar,
    least(greatest({{ quadmix_sampled_share('q.qbar', 'c') }}, 0.0), 1.0) AS rbar
  FROM (
    SELECT q.*, {{ quadmix_sampled_rank_key('q.grp', 'q.qbar', bins) }} AS k
    FROM (
      SELECT p.ps_id, p.grp, s.doc_id, s.doc_hash, s.dom_id, s.n_tokens, {{ quadmix_qbar_sql(criteria) }} AS qbar
      FROM qm_sigma AS s JOIN {{ t.params }} AS p ON p.dom_id = s.dom_id
    ) AS q
  ) AS q
  JOIN {{ t.rank_cdf }} AS c ON c.k = q.k
),
{{ quadmix_draw_ctes(seed, budget_tokens, materialize=false) }}
{{ quadmix_mixture_output(output, include_zero) }}
{%- endmacro %}

{% macro quadmix_sampled_cleanup(prefix) -%}
{%- for name in ('inputs', 'domains', 'params', 'sample', 'cdf', 'rank_cdf') %}
DROP TABLE IF EXISTS {{ quadmix_sampled_table(prefix, name) }};
{%- endfor %}
{%- endmacro %}
