{#- Entry points. Each filter macro is a full query over `relation` (a table name or a
    parenthesised subquery with an id and a text column) that returns doc_id, text_length, that
    filter's signals, <filter>_reason (datatrove's reason name for the first rule broken, NULL when
    kept) and <filter>_keep. heuristic_signals() computes all four in one query. NULL text is read
    as the empty string. Thresholds are datatrove's defaults (docs/HEURISTICS.md). -#}

{% macro hx_documents(relation, id_column, text_column) -%}
select {{ id_column }} as doc_id,
      coalesce({{ text_column }}, '') as text,
      length(coalesce({{ text_column }}, '')) as text_length
    from {{ relation }}
{%- endmacro %}

{% macro gopher_quality_filter(relation, id_column='doc_id', text_column='text') -%}
with hx_docs as (
  {{ hx_documents(relation, id_column, text_column) }}
),
hx_pieces as (
  select doc_id, text, text_length, {{ hx_words('text') }} as words, {{ hx_splitlines('text') }} as lines
    from hx_docs
),
hx_signals as (
  select doc_id, text_length, {{ gopher_quality_signals('text', 'words', 'lines') }}
    from hx_pieces
)
select *,
    {{ gopher_quality_reason() }} as gopher_quality_reason,
    gopher_quality_reason is null as gopher_quality_keep
  from hx_signals
{%- endmacro %}

{% macro gopher_repetition_filter(relation, id_column='doc_id', text_column='text') -%}
with hx_docs as (
  {{ hx_documents(relation, id_column, text_column) }}
),
hx_pieces as (
  select doc_id, text, text_length, {{ hx_words('text') }} as words
    from hx_docs
),
hx_line_signals as (
  select doc_id, text_length,
      {{ gopher_repetition_line_signals('text_length', 'paragraphs', 'newline_runs') }}
    from (select *, {{ gopher_paragraphs('text') }} as paragraphs, {{ gopher_newline_runs('text') }} as newline_runs
            from hx_pieces)
),
hx_ngram_signals as (
  {{ gopher_ngram_signals('hx_pieces', 'doc_id', 'words', 'text_length') | indent(2) }}
)
select s.*, n.* exclude (doc_id),
    {{ gopher_repetition_reason() }} as gopher_repetition_reason,
    gopher_repetition_reason is null as gopher_repetition_keep
  from hx_line_signals s
  join hx_ngram_signals n using (doc_id)
{%- endmacro %}

{% macro c4_quality_filter(relation, id_column='doc_id', text_column='text') -%}
with hx_docs as (
  {{ hx_documents(relation, id_column, text_column) }}
),
hx_verdicts as (
  select doc_id, text_length, {{ c4_line_verdicts(hx_splitlines('text')) }} as verdicts
    from hx_docs
),
hx_signals as (
  select doc_id, text_length, {{ c4_quality_signals('verdicts') }}
    from hx_verdicts
)
select *,
    {{ c4_quality_reason() }} as c4_quality_reason,
    c4_quality_reason is null as c4_quality_keep
  from hx_signals
{%- endmacro %}

{% macro fineweb_quality_filter(relation, id_column='doc_id', text_column='text') -%}
with hx_docs as (
  {{ hx_documents(relation, id_column, text_column) }}
),
hx_pieces as (
  select doc_id, text, text_length, {{ hx_words('text') }} as words, {{ fineweb_lines('text') }} as fw_lines
    from hx_docs
),
hx_signals as (
  select doc_id, text_length, {{ fineweb_quality_signals('text', 'words', 'fw_lines') }}
    from hx_pieces
)
select *,
    {{ fineweb_quality_reason() }} as fineweb_quality_reason,
    fineweb_quality_reason is null as fineweb_quality_keep
  from hx_signals
{%- endmacro %}

{#- Every heuristic signal and the keep/drop decision of the four filters, one row per document
    of `relation`: doc_id, text_length, the gopher_* / c4_* / fineweb_* signals, and per filter
    <filter>_reason and <filter>_keep. Words and lines are split once and shared. -#}
{% macro heuristic_signals(relation, id_column='doc_id', text_column='text') -%}
with hx_docs as (
  {{ hx_documents(relation, id_column, text_column) }}
),
{#- materialized: the line signals and the n-gram signals both read the words; inlined, DuckDB
    split every text twice (about 10% of the query's time on the corpus, measured) -#}
hx_pieces as materialized (
  select doc_id, text, text_length, {{ hx_words('text') }} as words, {{ hx_splitlines('text') }} as lines
    from hx_docs
),
hx_lists as (
  select *,
      {{ c4_line_verdicts('lines') }} as verdicts,
      {{ fineweb_lines('text') }} as fw_lines,
      {{ gopher_paragraphs('text') }} as paragraphs,
      {{ gopher_newline_runs('text') }} as newline_runs
    from hx_pieces
),
hx_line_signals as (
  select doc_id, text_length,
      {{ gopher_quality_signals('text', 'words', 'lines') }},
      {{ gopher_repetition_line_signals('text_length', 'paragraphs', 'newline_runs') }},
      {{ c4_quality_signals('verdicts') }},
      {{ fineweb_quality_signals('text', 'words', 'fw_lines') }}
    from hx_lists
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
