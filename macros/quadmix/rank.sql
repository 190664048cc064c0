{#-
  Merged quality and its token-weighted rank (SPEC §2 steps 2-3), per parameter set.

  qbar = Σ_n alpha_n · s_n, summed left to right in the configured criterion order.
  rbar(x) = (tokens of same-domain docs with qbar <= qbar(x)) / (all tokens of the domain)
    Tie convention: documents with equal qbar share the HIGHEST cumulative value (the window
    frame RANGE ... CURRENT ROW includes all peers), exactly as the spec's "<=" reads.
    rbar is in [0, 1]; the best document's rbar is its own token share (> 0 unless it has 0
    tokens); a zero-token document gets the rank of the tokens at or below its quality.
    A domain with 0 tokens in total gets rbar = 0 for every document (defined, not NaN).
  rank_method='binned': qbar in [0, 1] is cut into `bins` equal-width bins per (param set,
    domain) and rbar is the interpolated share of binned.sql (no sort); ties at qbar = 0 and
    qbar = 1 (e.g. a single criterion with clipped scores) are exact.
  qm_quality is narrow (the parameters are joined again after ranking): it is the one
  per-(param set, document) intermediate that two readers share.
-#}
{% macro quadmix_rank_ctes(criteria, rank_method='exact', bins=1024) -%}
qm_quality AS (
  SELECT p.ps_id, s.doc_id, s.doc_hash, s.dom_id, s.n_tokens, {{ quadmix_qbar_sql(criteria) }} AS qbar
  {%- if rank_method == 'binned' %},
    {#- the group (ps_id, dom_id) packed into one integer key (dom_id < 2^20) #}
    {{ quadmix_bin_key('CAST(p.ps_id AS BIGINT) * 1048576 + s.dom_id',
                       quadmix_qbar_sql(criteria), '0.0', sql_number(bins | int), bins,
                       quadmix_qbar_sql(criteria) ~ ' >= 1.0') }} AS k
  {%- endif %}
  FROM qm_sigma AS s
  JOIN qm_params AS p ON p.dom_id = s.dom_id
),
{%- if rank_method == 'binned' %}
{{ quadmix_bin_cdf_cte('qm_rank_cdf', 'qm_quality', 'k', 'qbar', bins) }},
qm_ranked AS (
  SELECT q.ps_id, q.doc_id, q.doc_hash, q.dom_id, q.n_tokens, q.qbar,
    {{ quadmix_bin_share('q.qbar', 'c') }} AS rbar
  FROM qm_quality AS q
  JOIN qm_rank_cdf AS c ON c.k = q.k
)
{%- elif rank_method == 'exact' %}
qm_ranked AS (
  SELECT q.ps_id, q.doc_id, q.doc_hash, q.dom_id, q.n_tokens, q.qbar,
    CASE WHEN dm.dom_tokens = 0 THEN 0.0
         ELSE sum(q.n_tokens::DOUBLE) OVER (PARTITION BY q.ps_id, q.dom_id ORDER BY q.qbar
                                            RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) / dm.dom_tokens
    END AS rbar
  FROM qm_quality AS q JOIN qm_domains AS dm ON dm.dom_id = q.dom_id
)
{%- else %}
  {{ exceptions.raise_compiler_error("quadmix: rank_method must be exact or binned, got " ~ rank_method) }}
{%- endif %}
{%- endmacro %}

{% macro quadmix_qbar_sql(criteria) -%}
({% for c in criteria %}{% set col = sql_identifier(c.name) %}p.alpha_{{ col }} * s.s_{{ col }}{{ " + " if not loop.last }}{% endfor %})
{%- endmacro %}
