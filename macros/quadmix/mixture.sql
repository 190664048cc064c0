{#-
  quadmix_mixture_query: the whole QuaDMix sampling function as ONE query, for any number of
  parameter sets at once (one row per (param_set, domain) in `params`).

  Arguments (relations are SQL text: a ref(), a table name):
    scores, domains, documents, params  input relations (see docs/SAMPLING.md for their columns)
    criteria       list of {name, direction: higher|lower}; order fixes the qbar summation order
    seed           integer seed of the draw
    normalization  percentile (default) | minmax | zscore
    rank_method    exact (default) | binned (approximate, see normalize.sql / rank.sql)
    bins           number of bins for rank_method='binned'
    budget_tokens  none, or the expected total tokens per parameter set
    scores_format  long (default: doc_id, criterion, value) | wide (one column per criterion)
    output         'mixture': param_set, doc_id, copies, tokens (only copies > 0 unless
                   include_zero) | 'scored': every (param_set, doc) with domain, n_tokens,
                   qbar, rbar, s (expected copies), copies, tokens.
-#}
{% macro quadmix_mixture_query(scores, domains, documents, params, criteria, seed,
                               normalization='percentile', rank_method='exact', bins=16384,
                               budget_tokens=none, scores_format='long', output='mixture',
                               include_zero=false) -%}
{%- if not criteria %}{{ exceptions.raise_compiler_error("quadmix: no criteria configured (vars.quadmix.criteria)") }}{% endif %}
{%- for c in criteria %}
  {%- if c.direction not in ('higher', 'lower') %}
    {{- exceptions.raise_compiler_error("quadmix: criterion " ~ c.name ~ ": direction must be 'higher' or 'lower', got " ~ c.direction) }}
  {%- endif %}
{%- endfor %}
WITH
{{ quadmix_scores_cte(scores, criteria, scores_format) }},
{{ quadmix_docs_cte(domains, documents, criteria) }},
{{ quadmix_sigma_ctes(criteria, normalization, rank_method, bins) }},
{{ quadmix_params_cte(params, criteria) }},
{{ quadmix_rank_ctes(criteria, seed, rank_method, bins) }},
{{ quadmix_draw_ctes(budget_tokens) }}
{%- if output == 'scored' %}
SELECT param_set, doc_id, domain, n_tokens, qbar, rbar, s, copies, copies * n_tokens AS tokens
FROM qm_drawn
{%- elif output == 'mixture' %}
SELECT param_set, doc_id, copies, copies * n_tokens AS tokens
FROM qm_drawn
{%- if not include_zero %}
WHERE copies > 0
{%- endif %}
{%- else %}
{{ exceptions.raise_compiler_error("quadmix: output must be 'mixture' or 'scored', got " ~ output) }}
{%- endif %}
{%- endmacro %}
