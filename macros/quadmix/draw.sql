{#-
  Expected copies and the draw (SPEC §2 steps 4-5).

  s = S(rbar) with the (param set, domain) parameters, optionally rescaled per parameter set so
  that Σ s · n_tokens = budget_tokens. The expected total is summed in fixed point (2^-32 token
  units, HUGEINT) so it is exact and does not depend on the order threads add rows; with an
  expected total of 0 nothing is rescaled.
  copies = floor(s) + [u < s - floor(s)], u from the document's doc_hash and the seed
  (uniform.sql), its mixing steps computed as columns.
  materialize=true (the 'mixture' output, filtered on copies > 0): DuckDB 2.0.0 fails with
  "INTERNAL Error: dict-surviving cache ..." (and invalidates the database) when that filter is
  pushed into this plan after the exact mode's window; materializing qm_drawn first avoids it
  and is no slower (measured at 10M documents).
-#}
{% macro quadmix_draw_ctes(seed, budget_tokens=none, materialize=false) -%}
qm_expected AS (
  SELECT r.ps_id, r.doc_id, r.doc_hash, r.dom_id, r.n_tokens, r.qbar, r.rbar,
    {{ quadmix_sampling_function('r.rbar', 'p."lambda"', 'p.omega', 'p.eta', 'p.epsilon') }} AS s_raw
  FROM qm_ranked AS r JOIN qm_params AS p ON p.ps_id = r.ps_id AND p.dom_id = r.dom_id
),
{%- if budget_tokens is not none %}
qm_scale AS (
  SELECT ps_id,
    sum(round(s_raw * n_tokens * 4294967296.0)::HUGEINT) / 4294967296.0 AS expected_tokens
  FROM qm_expected GROUP BY ps_id
),
qm_scaled AS (
  SELECT e.*, CASE WHEN sc.expected_tokens > 0 THEN e.s_raw * ({{ sql_number(budget_tokens) }} / sc.expected_tokens)
                   ELSE e.s_raw END AS s
  FROM qm_expected AS e JOIN qm_scale AS sc ON sc.ps_id = e.ps_id
),
{%- else %}
qm_scaled AS (
  SELECT *, s_raw AS s FROM qm_expected
),
{%- endif %}
qm_u AS (
  SELECT * EXCLUDE (z1), {{ quadmix_mix_step('z1', 27, 10723151780598845931) }} AS z2
  FROM (
    SELECT * EXCLUDE (z0), {{ quadmix_mix_step('z0', 30, 13787848793156543929) }} AS z1
    FROM (SELECT *, xor(doc_hash, {{ quadmix_seed_key(seed) }}) AS z0 FROM qm_scaled)
  )
),
qm_drawn AS {{ 'MATERIALIZED ' if materialize }}(
  SELECT ps_id, doc_id, dom_id, n_tokens, qbar, rbar, s,
    CAST(floor(s) AS BIGINT) + CASE WHEN {{ quadmix_u_from_z2('z2') }} < s - floor(s) THEN 1 ELSE 0 END AS copies
  FROM qm_u
)
{%- endmacro %}
