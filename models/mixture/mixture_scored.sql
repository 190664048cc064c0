{#- Every (param_set, labelled document) with its merged quality qbar, token rank rbar, expected
    copies s and drawn copies: the QuaDMix sampling function (macros/quadmix) as one query. -#}
{{ config(materialized='table') }}
{%- set qm = var('quadmix', {}) %}
{{ quadmix_mixture_query(
     scores=ref(qm.get('scores_model', 'quality_scores')),
     domains=ref(qm.get('domains_model', 'doc_domains')),
     documents=ref(qm.get('documents_model', 'documents')),
     params=ref('sampling_params'),
     criteria=qm.get('criteria', []),
     seed=qm.get('seed', 0),
     normalization=qm.get('normalization', 'percentile'),
     rank_method=qm.get('rank_method', 'exact'),
     bins=qm.get('bins', 16384),
     budget_tokens=qm.get('budget_tokens'),
     scores_format=qm.get('scores_format', 'long'),
     output='scored') }}
