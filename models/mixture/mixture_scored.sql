{#- Every (param_set, labelled document) with its merged quality qbar, token rank rbar, expected
    copies s and drawn copies: the QuaDMix sampling function (macros/quadmix) as one query.
    rank_method 'sampled' first builds its per-subset histograms as temp tables (pre_hook, on the
    build's connection) and drops them after (post_hook); see docs/SAMPLING.md. -#}
{%- set qm = var('quadmix', {}) %}
{%- set raw = {'scores': ref(qm.get('scores_model', 'quality_scores')),
               'domains': ref(qm.get('domains_model', 'doc_domains')),
               'documents': ref(qm.get('documents_model', 'documents'))} %}
{%- if qm.get('rank_method', 'exact') == 'sampled' %}
{%- if qm.get('normalization', 'percentile') != 'percentile' %}
  {{- exceptions.raise_compiler_error("quadmix: rank_method 'sampled' estimates percentiles; it needs normalization 'percentile'") }}
{%- endif %}
{%- set prefix = 'qm_mixture_scored_' %}
{{ config(materialized='table',
          pre_hook=quadmix_sampled_prepare(
            prefix=prefix, params=ref('sampling_params'), criteria=qm.get('criteria', []),
            scores=raw.scores, domains=raw.domains, documents=raw.documents,
            bins=qm.get('bins', 1024), sample_docs=qm.get('sample_docs', 65536),
            scores_format=qm.get('scores_format', 'long')),
          post_hook=quadmix_sampled_cleanup(prefix)) }}
{{ quadmix_sampled_query(
     prefix=prefix,
     criteria=qm.get('criteria', []),
     seed=qm.get('seed', 0),
     bins=qm.get('bins', 1024),
     budget_tokens=qm.get('budget_tokens'),
     output='scored') }}
{%- else %}
{{ config(materialized='table') }}
{{ quadmix_mixture_query(
     scores=raw.scores,
     domains=raw.domains,
     documents=raw.documents,
     params=ref('sampling_params'),
     criteria=qm.get('criteria', []),
     seed=qm.get('seed', 0),
     normalization=qm.get('normalization', 'percentile'),
     rank_method=qm.get('rank_method', 'exact'),
     bins=qm.get('bins', 16384),
     budget_tokens=qm.get('budget_tokens'),
     scores_format=qm.get('scores_format', 'long'),
     output='scored') }}
{%- endif %}
