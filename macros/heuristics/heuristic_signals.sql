{#- Every heuristic signal and the keep/drop decision of the four datatrove filters (default
    thresholds), one row per document of `relation`. Output columns: doc_id, text_length, the
    gopher_* / c4_* / fineweb_* signals, and per filter <filter>_reason (datatrove's reason name,
    NULL when kept) and <filter>_keep. -#}
{% macro heuristic_signals(relation, id_column='doc_id', text_column='text') -%}
with hx_pieces as (
  select {{ id_column }} as doc_id,
      coalesce({{ text_column }}, '') as text,
      length(coalesce({{ text_column }}, '')) as text_length,
      {{ hx_words('coalesce(' ~ text_column ~ ", '')") }} as words,
      {{ hx_splitlines('coalesce(' ~ text_column ~ ", '')") }} as lines
    from {{ relation }}
),
hx_line_signals as (
  select doc_id, text_length,
      {{ gopher_quality_signals('text', 'words', 'lines') }},
      {{ gopher_repetition_line_signals('text_length', gopher_paragraphs('text'), gopher_newline_runs('text')) }},
      {{ c4_quality_signals(c4_line_verdicts('lines')) }},
      {{ fineweb_quality_signals('text', 'words', fineweb_lines('text')) }}
    from hx_pieces
),
hx_ngram_signals as (
  {{ gopher_ngram_signals('hx_pieces', 'doc_id', 'words', 'text_length') | indent(2) }}
),
hx_signals as (
  select s.*, n.* exclude (doc_id)
    from hx_line_signals s
    join hx_ngram_signals n using (doc_id)
)
select *,
    {{ gopher_quality_reason() }} as gopher_quality_reason,
    {{ gopher_repetition_reason() }} as gopher_repetition_reason,
    {{ c4_quality_reason() }} as c4_quality_reason,
    {{ fineweb_quality_reason() }} as fineweb_quality_reason,
    gopher_quality_reason is null as gopher_quality_keep,
    gopher_repetition_reason is null as gopher_repetition_keep,
    c4_quality_reason is null as c4_quality_keep,
    fineweb_quality_reason is null as fineweb_quality_keep
  from hx_signals
{%- endmacro %}
