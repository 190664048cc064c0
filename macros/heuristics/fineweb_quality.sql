{#- FineWeb's own line rules (Penedo et al. 2024) as datatrove's FineWebQualityFilter computes them
    over the non-blank lines of text.split("\n"). -#}

{% macro fineweb_lines(text) -%}
list_filter(string_split({{ text }}, chr(10)), lambda l: regexp_matches(l, '[^{{ hx_ws() }}]'))
{%- endmacro %}

{#- The line signals. fineweb_char_dup_ratio's denominator is len(text.replace("\n", "")). -#}
{% macro fineweb_line_signals(text, lines) -%}
len({{ lines }}) as fineweb_line_count,
    {{ hx_share(lines, "regexp_matches(x, '[" ~ hx_terminal_punctuation() ~ "]$')") }} as fineweb_line_punct_ratio,
    {{ hx_share(lines, "length(x) <= 30") }} as fineweb_short_line_ratio,
    {{ hx_duplicate_chars(lines) }} / nullif(length(replace({{ text }}, chr(10), '')), 0) as fineweb_char_dup_ratio
{%- endmacro %}

{#- The one signal that needs the words: newlines per word. -#}
{% macro fineweb_list_ratio(text, words) -%}
{{ hx_count(text, "chr(10)") }} / nullif(len({{ words }}), 0)
{%- endmacro %}

{% macro fineweb_quality_signals(text, words, lines) -%}
{{ fineweb_line_signals(text, lines) }},
    {{ fineweb_list_ratio(text, words) }} as fineweb_list_ratio
{%- endmacro %}

{#- new_line_ratio=none leaves the list rule out: the reason from the line rules alone. -#}
{% macro fineweb_quality_reason(line_punct_thr=0.12, short_line_thr=0.67, char_duplicates_ratio=0.01,
                                new_line_ratio=0.3) -%}
case
      when fineweb_line_count = 0 then 'empty'
      when fineweb_line_punct_ratio < {{ line_punct_thr }} then 'line_punct_ratio'
      when fineweb_short_line_ratio > {{ short_line_thr }} then 'short_line_ratio'
      when fineweb_char_dup_ratio > {{ char_duplicates_ratio }} then 'char_dup_ratio'
      {%- if new_line_ratio is not none %}
      when fineweb_list_ratio > {{ new_line_ratio }} then 'list_ratio'
      {%- endif %}
    end
{%- endmacro %}
