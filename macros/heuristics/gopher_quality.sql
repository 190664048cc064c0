{#- Gopher quality rules (Rae et al. 2021, table A1) as datatrove's GopherQualityFilter computes
    them. Inputs are columns: the text, its words (hx_words) and its lines (hx_splitlines). -#}

{#- Words with at least one character outside datatrove's punctuation set: the "words" the
    length rules count (a lone "," or "..." is a symbol). -#}
{% macro gopher_non_symbol_words(words) -%}
list_filter({{ words }}, lambda w: regexp_matches(w, '[^{{ hx_punctuation() }}]'))
{%- endmacro %}

{% macro gopher_word_count(words) -%}
len({{ gopher_non_symbol_words(words) }})
{%- endmacro %}

{% macro gopher_mean_word_length(words) -%}
list_avg(list_transform({{ gopher_non_symbol_words(words) }}, lambda w: length(w)))
{%- endmacro %}

{#- Ratios below divide by ALL words, symbols included, as datatrove does. -#}
{% macro gopher_hash_ratio(text, words) -%}
({{ hx_count(text, "'#'") }} / nullif(len({{ words }}), 0))
{%- endmacro %}

{% macro gopher_ellipsis_ratio(text, words) -%}
(({{ hx_count(text, "'...'") }} + {{ hx_count(text, "'…'") }}) / nullif(len({{ words }}), 0))
{%- endmacro %}

{% macro gopher_bullet_lines_ratio(lines) -%}
{{ hx_share(lines, "regexp_matches(x, '^[" ~ hx_ws() ~ "]*[•-]')") }}
{%- endmacro %}

{% macro gopher_ellipsis_lines_ratio(lines) -%}
{{ hx_share(lines, "regexp_matches(x, '(?:\\.\\.\\.|…)[" ~ hx_ws() ~ "]*$')") }}
{%- endmacro %}

{#- Share of words with an alphabetic character (str.isalpha is the Unicode letter classes). -#}
{% macro gopher_alpha_words_ratio(words) -%}
{{ hx_share(words, "regexp_matches(x, '\\p{L}')") }}
{%- endmacro %}

{#- Distinct stop words present; datatrove matches them case-sensitively. -#}
{% macro gopher_stop_word_count(words, stop_words=('the', 'be', 'to', 'of', 'and', 'that', 'have', 'with')) -%}
len(list_distinct(list_filter({{ words }}, lambda w: w in ('{{ stop_words | join("', '") }}'))))
{%- endmacro %}

{#- All signals as a select list, named gopher_*. -#}
{% macro gopher_quality_signals(text, words, lines) -%}
{{ gopher_word_count(words) }} as gopher_word_count,
    len({{ words }}) as gopher_token_count,
    {{ gopher_mean_word_length(words) }} as gopher_mean_word_length,
    {{ gopher_hash_ratio(text, words) }} as gopher_hash_ratio,
    {{ gopher_ellipsis_ratio(text, words) }} as gopher_ellipsis_ratio,
    {{ gopher_bullet_lines_ratio(lines) }} as gopher_bullet_lines_ratio,
    {{ gopher_ellipsis_lines_ratio(lines) }} as gopher_ellipsis_lines_ratio,
    {{ gopher_alpha_words_ratio(words) }} as gopher_alpha_words_ratio,
    {{ gopher_stop_word_count(words) }} as gopher_stop_word_count
{%- endmacro %}

{#- The first rule a document breaks, in datatrove's order and with its reason names; NULL when
    kept. Reads the columns gopher_quality_signals made. Defaults are datatrove's. -#}
{% macro gopher_quality_reason(min_doc_words=50, max_doc_words=100000, min_avg_word_length=3,
                               max_avg_word_length=10, max_symbol_word_ratio=0.1,
                               max_bullet_lines_ratio=0.9, max_ellipsis_lines_ratio=0.3,
                               min_alpha_words_ratio=0.8, min_stop_words=2) -%}
case
      when gopher_word_count < {{ min_doc_words }} then 'gopher_short_doc'
      when gopher_word_count > {{ max_doc_words }} then 'gopher_long_doc'
      when gopher_mean_word_length < {{ min_avg_word_length }} then 'gopher_below_avg_threshold'
      when gopher_mean_word_length > {{ max_avg_word_length }} then 'gopher_above_avg_threshold'
      when gopher_hash_ratio > {{ max_symbol_word_ratio }} then 'gopher_too_many_hashes'
      when gopher_ellipsis_ratio > {{ max_symbol_word_ratio }} then 'gopher_too_many_ellipsis'
      when gopher_bullet_lines_ratio > {{ max_bullet_lines_ratio }} then 'gopher_too_many_bullets'
      when gopher_ellipsis_lines_ratio > {{ max_ellipsis_lines_ratio }} then 'gopher_too_many_end_ellipsis'
      when gopher_alpha_words_ratio < {{ min_alpha_words_ratio }} then 'gopher_below_alpha_threshold'
      when gopher_stop_word_count < {{ min_stop_words }} then 'gopher_enough_stop_words'
    end
{%- endmacro %}
