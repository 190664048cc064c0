{#-
  quadmix_mixture_query: the whole QuaDMix sampling function as ONE query, for any number of
  parameter sets at once (one row per (param_set, domain) in `params`).

  Arguments (relations are SQL text: a ref(), a table name):
    inputs         a prepared relation (doc_id, doc_hash, domain, n_tokens, <criterion>...),
                   e.g. the mixture_inputs model (quadmix_inputs_query); or none, and then:
    scores, domains, documents   the raw input relations (see docs/SAMPLING.md)
    params         (param_set, domain, alpha_<criterion>..., lambda, omega, eta, epsilon)
    criteria       list of {name, direction: higher|lower}; order fixes the qbar summation order
    seed           integer seed of the draw
    normalization  percentile (default) | minmax | zscore
    rank_method    exact (default, window sorts) | binned (approximate, binned.sql); 'sampled'
                   (sampled.sql) is not one query: it prepares temp tables first
    bins           number of bins per group for rank_method='binned' (1 .. 2^20)
    check_inputs   check every prepared input row (default); false when `inputs` was built by
                   quadmix_inputs_query, which checks them already
    budget_tokens  none, or the expected total tokens per parameter set
    scores_format  long (default: doc_id, criterion, value) | wide (one column per criterion)
    output         'mixture': param_set, doc_id, copies, tokens (only copies > 0 unless
                   include_zero) | 'scored': every (param_set, doc) with domain, n_tokens,
                   qbar, rbar, s (expected copies), copies, tokens.
-#}
{% macro quadmix_mixture_query(scores=none, domains=none, documents=none, params=none, criteria=none, seed=0,
                               normalization='percentile', rank_method='exact', bins=1024,
                               budget_tokens=none, scores_format='long', output='mixture',
                               include_zero=false, inputs=none, check_inputs=true) -%}
{%- if not criteria %}{{ exceptions.raise_compiler_error("quadmix: no criteria configured (vars.quadmix.criteria)") }}{% endif %}
{%- for c in criteria %}
  {%- if c.direction not in ('higher', 'lower') %}
    {{- exceptions.raise_compiler_error("quadmix: criterion " ~ c.name ~ ": direction must be 'higher' or 'lower', got " ~ c.direction) }}
  {%- endif %}
{%- endfor %}
{%- if rank_method == 'sampled' %}{{ exceptions.raise_compiler_error("quadmix: rank_method 'sampled' builds temp tables before its query: use quadmix_sampled_prepare and quadmix_sampled_query (build_mixture() does, and so does the mixture_scored model)") }}{% endif %}
{%- if (bins | int) < 1 or (bins | int) > 1048576 %}{{ exceptions.raise_compiler_error("quadmix: bins must be in 1 .. 1048576, got " ~ bins) }}{% endif %}
{%- if params is none %}{{ exceptions.raise_compiler_error("quadmix: params relation missing") }}{% endif %}
WITH
{%- if inputs is none %}
{%- if scores is none or domains is none or documents is none %}{{ exceptions.raise_compiler_error("quadmix: give inputs, or scores, domains and documents") }}{% endif %}
{{ quadmix_scores_cte(scores, criteria, scores_format) }},
{{ quadmix_docs_cte(domains, documents, criteria) }},
{{ quadmix_oriented_docs_cte('qm_inputs', criteria) }},
{%- else %}
{{ quadmix_oriented_docs_cte(inputs, criteria) }},
{%- endif %}
{{ quadmix_sigma_ctes(criteria, normalization, rank_method, bins, check_inputs and inputs is not none) }},
{{ quadmix_params_cte(params, criteria) }},
{{ quadmix_rank_ctes(criteria, rank_method, bins) }},
{{ quadmix_draw_ctes(seed, budget_tokens, materialize=(output == 'mixture' and not include_zero)) }}
{{ quadmix_mixture_output(output, include_zero) }}
{%- endmacro %}

{#- The final SELECT over qm_drawn, qm_param_sets and qm_domains (shared by every rank method). -#}
{% macro quadmix_mixture_output(output='mixture', include_zero=false) -%}
{%- if output == 'scored' %}
SELECT ps.param_set, d.doc_id, dm.domain, d.n_tokens, d.qbar, d.rbar, d.s, d.copies, d.copies * d.n_tokens AS tokens
FROM qm_drawn AS d
JOIN qm_param_sets AS ps ON ps.ps_id = d.ps_id
JOIN qm_domains AS dm ON dm.dom_id = d.dom_id
{%- elif output == 'mixture' %}
SELECT ps.param_set, d.doc_id, d.copies, d.copies * d.n_tokens AS tokens
FROM qm_drawn AS d
JOIN qm_param_sets AS ps ON ps.ps_id = d.ps_id
{%- if not include_zero %}
WHERE d.copies > 0
{%- endif %}
{%- else %}
{{ exceptions.raise_compiler_error("quadmix: output must be 'mixture' or 'scored', got " ~ output) }}
{%- endif %}
{%- endmacro %}
