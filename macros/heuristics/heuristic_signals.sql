{#- Entry points. Each filter macro is a full query over `relation` (a table name or a
    parenthesised subquery with an id and a text column) that returns doc_id, text_length, that
    filter's signals, <filter>_reason (datatrove's reason name for the first rule broken, NULL when
    kept) and <filter>_keep. heuristic_signals() computes all four in one query. NULL text is read
    as the empty string. Thresholds are datatrove's defaults (docs/HEURISTICS.md).
    Like datatrove, the FineWeb and Gopher repetition filters split a text into words only when
    their line rules keep it (the split is most of their cost, and FineWeb's line rules drop most
    of the corpus' characters), and Gopher repetition stops a document's n-grams at the first
    n-gram rule it breaks; a signal datatrove would not have computed is NULL. With
    all_signals=true they compute every signal of every document, as heuristic_signals() does. -#}

{% macro hx_documents(relation, id_column, text_column) -%}
select {{ id_column }} as doc_id,
      coalesce({{ text_column }}, '') as text,
      length(coalesce({{ text_column }}, '')) as text_length
    from {{ relation }}
{%- endmacro %}

{#- all_signals is accepted for a uniform interface: every Gopher quality rule reads the words, so
    every signal is computed either way. -#}
{% macro gopher_quality_filter(relation, id_column='doc_id', text_column='text', all_signals=false) -%}
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

{#- The n-gram rules are checked in ascending n, as datatrove's defaults order them; a document's
    n-grams stop at the first rule it breaks. The thresholds default to datatrove's. -#}
{% macro gopher_repetition_filter(relation, id_column='doc_id', text_column='text', all_signals=false,
                                  dup_line_frac=0.3, dup_para_frac=0.3, dup_line_char_frac=0.2, dup_para_char_frac=0.2,
                                  top_n_grams=((2, 0.2), (3, 0.18), (4, 0.16)),
                                  dup_n_grams=((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))) -%}
{%- set line_rules = {'dup_line_frac': dup_line_frac, 'dup_para_frac': dup_para_frac,
                      'dup_line_char_frac': dup_line_char_frac, 'dup_para_char_frac': dup_para_char_frac} %}
with hx_docs as (
  {{ hx_documents(relation, id_column, text_column) }}
),
hx_line_signals as materialized (
  select doc_id, text, text_length,
      {{ gopher_repetition_line_signals('text_length', 'paragraphs', 'newline_runs') }}
    from (select *, {{ gopher_paragraphs('text') }} as paragraphs, {{ gopher_newline_runs('text') }} as newline_runs
            from hx_docs)
),
hx_pieces as (
  select doc_id, text_length, {{ hx_words('text') }} as words
    from hx_line_signals
  {%- if not all_signals %}
    where {{ gopher_repetition_reason(top_n_grams=(), dup_n_grams=(), **line_rules) }} is null
  {%- endif %}
),
hx_ngram_signals as (
  {{ gopher_ngram_signals('hx_pieces', 'doc_id', 'words', 'text_length',
                          stop_above=none if all_signals else (top_n_grams | list) + (dup_n_grams | list)) | indent(2) }}
)
select s.* exclude (text), n.* exclude (doc_id),
    {{ gopher_repetition_reason(top_n_grams=top_n_grams, dup_n_grams=dup_n_grams, **line_rules) }} as gopher_repetition_reason,
    gopher_repetition_reason is null as gopher_repetition_keep
  from hx_line_signals s
  left join hx_ngram_signals n using (doc_id)
{%- endmacro %}

{#- all_signals is accepted for a uniform interface: the C4 signals come from one pass over the
    lines, computed either way. -#}
{% macro c4_quality_filter(relation, id_column='doc_id', text_column='text', all_signals=false) -%}
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

{% macro fineweb_quality_filter(relation, id_column='doc_id', text_column='text', all_signals=false) -%}
with hx_docs as (
  {{ hx_documents(relation, id_column, text_column) }}
),
hx_line_signals as (
  select doc_id, text, text_length, {{ fineweb_line_signals('text', 'fw_lines') }}
    from (select *, {{ fineweb_lines('text') }} as fw_lines from hx_docs)
),
hx_signals as (
  select * exclude (text),
      {%- if all_signals %}
      {{ fineweb_list_ratio('text', hx_words('text')) }} as fineweb_list_ratio
      {%- else %}
      {#- CASE evaluates its THEN branch on the selected rows only: no word split for the others -#}
      case when {{ fineweb_quality_reason(new_line_ratio=none) }} is null
           then {{ fineweb_list_ratio('text', hx_words('text')) }} end as fineweb_list_ratio
      {%- endif %}
    from hx_line_signals
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
