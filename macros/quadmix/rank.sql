{#-
  Merged quality and its token-weighted rank (SPEC §2 steps 2-3), per parameter set.

  qbar = Σ_n alpha_n · s_n, summed left to right in the configured criterion order.
  rbar(x) = (tokens of same-domain docs with qbar <= qbar(x)) / (all tokens of the domain)
    Tie convention: documents with equal qbar share the HIGHEST cumulative value (the window
    frame RANGE ... CURRENT ROW includes all peers), exactly as the spec's "<=" reads.
    rbar is in [0, 1]; the best document's rbar is its own token share (> 0 unless it has 0
    tokens); a zero-token document gets the rank of the tokens at or below its quality.
    A domain with 0 tokens in total gets rbar = 0 for every document (defined, not NaN).
  rank_method='binned': qbar in [0, 1] is cut into `bins` equal-width bins and rbar is the
    cumulative token share up to and including the doc's bin (GROUP BY + join, no sort).
  u (the per-document uniform) is computed here once per document, before the fan-out over
  parameter sets, so many parameter sets cost one md5 per document.
-#}
{% macro quadmix_rank_ctes(criteria, seed, rank_method='exact', bins=16384) -%}
qm_sigma_u AS (
  SELECT *, {{ quadmix_uniform('doc_id', seed) }} AS u FROM qm_sigma
),
qm_quality AS (
  SELECT p.param_set, s.doc_id, s.domain, s.n_tokens, s.u, dm.dom_tokens,
    {% for c in criteria %}{% set col = sql_identifier(c.name) %}p.alpha_{{ col }} * s.s_{{ col }}{{ " + " if not loop.last }}{% endfor %} AS qbar,
    p."lambda", p.omega, p.eta, p.epsilon
  FROM qm_sigma_u AS s
  JOIN qm_params AS p ON p.domain = s.domain
  JOIN qm_domains AS dm ON dm.domain = s.domain
),
{%- if rank_method == 'binned' %}
qm_quality_binned AS (
  SELECT *, {{ quadmix_bin('qbar', '0.0', '1.0', bins) }} AS qbin FROM qm_quality
),
qm_rank_cdf AS (
  SELECT param_set, domain, qbin, sum(t) OVER (PARTITION BY param_set, domain ORDER BY qbin) AS cum
  FROM (SELECT param_set, domain, qbin, sum(n_tokens::DOUBLE) AS t FROM qm_quality_binned GROUP BY ALL)
),
qm_ranked AS (
  SELECT q.*, CASE WHEN q.dom_tokens = 0 THEN 0.0 ELSE c.cum / q.dom_tokens END AS rbar
  FROM qm_quality_binned AS q
  JOIN qm_rank_cdf AS c ON c.param_set = q.param_set AND c.domain = q.domain AND c.qbin = q.qbin
)
{%- elif rank_method == 'exact' %}
qm_ranked AS (
  SELECT *,
    CASE WHEN dom_tokens = 0 THEN 0.0
         ELSE sum(n_tokens::DOUBLE) OVER (PARTITION BY param_set, domain ORDER BY qbar
                                          RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) / dom_tokens
    END AS rbar
  FROM qm_quality
)
{%- else %}
  {{ exceptions.raise_compiler_error("quadmix: rank_method must be exact or binned, got " ~ rank_method) }}
{%- endif %}
{%- endmacro %}
