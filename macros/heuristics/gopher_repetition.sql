{#- Gopher repetition rules (Rae et al. 2021, table A1) as datatrove's GopherRepetitionFilter
    computes them. Line and paragraph duplicates are list expressions; n-gram repetition needs
    one row per word, so it is a relation-level query (gopher_ngram_signals). -#}

{#- datatrove: re.split(r"\n{2,}", text.strip()) -#}
{% macro gopher_paragraphs(text) -%}
regexp_split_to_array({{ hx_strip(text) }}, '\n{2,}')
{%- endmacro %}

{#- datatrove: re.split("\n+", text) -- not stripped, so a trailing newline gives an empty line. -#}
{% macro gopher_newline_runs(text) -%}
regexp_split_to_array({{ text }}, '\n+')
{%- endmacro %}

{% macro gopher_repetition_line_signals(text_length, paragraphs, lines) -%}
{{ hx_duplicate_count(paragraphs) }} / len({{ paragraphs }}) as gopher_dup_para_frac,
    {{ hx_duplicate_chars(paragraphs) }} / nullif({{ text_length }}, 0) as gopher_dup_para_char_frac,
    {{ hx_duplicate_count(lines) }} / len({{ lines }}) as gopher_dup_line_frac,
    {{ hx_duplicate_chars(lines) }} / nullif({{ text_length }}, 0) as gopher_dup_line_char_frac
{%- endmacro %}

{#- N-gram repetition, computed per document on lists (no row per word, no join):
    each n-gram is a 40-bit hash of its words' hashes packed with its 24-bit start position, so
    sorting the packed keys groups equal n-grams, first occurrence first. An (n+1)-gram can only
    repeat where its leading n-gram repeats, so level n+1 only looks at the positions in repeated
    runs of level n: on ordinary text the work shrinks fast after n=2.
    hx_ngram_key/hx_ngram_pos unpack; `s` is the sorted key list of the level. -#}
{% macro hx_ngram_key(packed) -%}
({{ packed }} >> 24)
{%- endmacro %}

{% macro hx_ngram_pos(packed) -%}
({{ packed }} & 16777215)::BIGINT
{%- endmacro %}

{#- Sorted packed keys of the n-grams starting at the candidate positions. -#}
{% macro hx_ngram_sorted_keys(n, hashes, candidates) -%}
list_sort(list_transform(list_filter({{ candidates }}, lambda p: p <= len({{ hashes }}) - {{ n - 1 }}),
  lambda p: ((hash({% for k in range(n) %}{{ hashes }}[p + {{ k }}]{{ ", " if not loop.last }}{% endfor %}) >> 24) << 24) | p::UBIGINT))
{%- endmacro %}

{#- Positions whose n-gram occurs more than once (the next level's candidates). -#}
{% macro hx_ngram_repeated_positions(s) -%}
list_transform(list_filter(range(1, len({{ s }}) + 1),
    lambda j: {{ hx_ngram_key(s ~ '[j]') }} = {{ hx_ngram_key(s ~ '[j - 1]') }}
           or {{ hx_ngram_key(s ~ '[j]') }} = {{ hx_ngram_key(s ~ '[j + 1]') }}),
  lambda j: {{ hx_ngram_pos(s ~ '[j]') }})
{%- endmacro %}

{#- Start positions (ascending) of n-grams that already occurred earlier. -#}
{% macro hx_ngram_repeat_starts(s) -%}
list_sort(list_transform(list_filter(range(2, len({{ s }}) + 1),
    lambda j: {{ hx_ngram_key(s ~ '[j]') }} = {{ hx_ngram_key(s ~ '[j - 1]') }}),
  lambda j: {{ hx_ngram_pos(s ~ '[j]') }}))
{%- endmacro %}

{#- Indexes in s where a run of equal n-grams begins. -#}
{% macro hx_ngram_run_starts(s) -%}
list_filter(range(1, len({{ s }}) + 1),
  lambda j: j = 1 or {{ hx_ngram_key(s ~ '[j]') }} != {{ hx_ngram_key(s ~ '[j - 1]') }})
{%- endmacro %}

{#- Counter.most_common(1) over the runs: highest count, ties to the earliest first occurrence,
    packed as count << 24 | (2^24 - 1 - first position) so list_max picks it. -#}
{% macro hx_ngram_most_common(s, runs) -%}
list_max(list_transform({{ runs }}, lambda r, i:
  ((coalesce({{ runs }}[i + 1], len({{ s }}) + 1) - r)::UBIGINT << 24)
  | (16777215 - {{ hx_ngram_pos(s ~ '[r]') }})::UBIGINT))
{%- endmacro %}

{#- len(" ".join(most common n-gram)) * its count; with no repeat at all the first n-gram wins.
    NULL when the document has fewer than n words (datatrove skips the rule). -#}
{% macro hx_ngram_top_chars(n, lengths, best) -%}
case when len({{ lengths }}) >= {{ n }} then
  greatest(1, ({{ best }} >> 24)::BIGINT)
  * (list_sum({{ lengths }}[
       case when ({{ best }} >> 24) > 1 then 16777215 - ({{ best }} & 16777215)::BIGINT else 1 end :
       case when ({{ best }} >> 24) > 1 then 16777215 - ({{ best }} & 16777215)::BIGINT else 1 end + {{ n - 1 }}])
     + {{ n - 1 }})
end
{%- endmacro %}

{#- Characters (spaces excluded) of the words covered by repeated n-grams: each repeat start
    covers its n words, up to the next repeat start. -#}
{% macro hx_ngram_repeat_chars(n, lengths, starts) -%}
coalesce(list_sum(list_transform({{ starts }}, lambda d, i:
  list_sum({{ lengths }}[d : least(d + {{ n - 1 }}, coalesce({{ starts }}[i + 1] - 1, d + {{ n - 1 }}))]))), 0)
{%- endmacro %}

{#- Top n-gram (n=2..4) and duplicated n-gram (n=5..10) character fractions per document.
    Top: datatrove takes Counter.most_common(1) -- the most frequent n-gram, ties going to the one
    seen first -- and counts len(" ".join(ngram)) * occurrences.
    Duplicated: the characters (spaces excluded) of words covered by an n-gram that already
    occurred earlier in the document. datatrove finds these greedily (after a hit it jumps n words
    and skips adding the n-grams it jumped over); the union of covered spans used here matches it
    except around overlapping repeats (see docs/HEURISTICS.md).
    Returns doc_id plus gopher_top_{n}_gram_char_frac / gopher_dup_{n}_gram_char_frac. -#}
{% macro gopher_ngram_signals(relation, id_column, words, text_length) -%}
with hx_ngram_level_1 as (
  select {{ id_column }} as doc_id, {{ text_length }} as text_length,
      list_transform({{ words }}, lambda w: hash(w)) as hashes,
      list_transform({{ words }}, lambda w: length(w)) as lengths,
      range(1, len({{ words }}) + 1) as repeated_1
    from {{ relation }}
)
{%- for n in range(2, 11) %},
hx_ngram_level_{{ n }} as (
  select * exclude (repeated_{{ n - 1 }}),
      {{ hx_ngram_sorted_keys(n, 'hashes', 'repeated_' ~ (n - 1)) }} as s{{ n }},
      {{ hx_ngram_repeated_positions('s' ~ n) }} as repeated_{{ n }},
      {%- if n <= 4 %}
      {{ hx_ngram_run_starts('s' ~ n) }} as runs{{ n }},
      {{ hx_ngram_most_common('s' ~ n, 'runs' ~ n) }} as best{{ n }},
      {{ hx_ngram_top_chars(n, 'lengths', 'coalesce(best' ~ n ~ ', 0::UBIGINT)') }} / nullif(text_length, 0) as gopher_top_{{ n }}_gram_char_frac
      {%- else %}
      {{ hx_ngram_repeat_starts('s' ~ n) }} as starts{{ n }},
      {{ hx_ngram_repeat_chars(n, 'lengths', 'starts' ~ n) }} / nullif(text_length, 0) as gopher_dup_{{ n }}_gram_char_frac
      {%- endif %}
    from hx_ngram_level_{{ n - 1 }}
)
{%- endfor %}
select doc_id,
    {%- for n in range(2, 5) %}
    gopher_top_{{ n }}_gram_char_frac,
    {%- endfor %}
    {%- for n in range(5, 11) %}
    gopher_dup_{{ n }}_gram_char_frac{{ "," if not loop.last }}
    {%- endfor %}
  from hx_ngram_level_10
{%- endmacro %}

{#- The first repetition rule a document breaks, in datatrove's order, or NULL. Reads the columns
    of gopher_repetition_line_signals and gopher_ngram_signals. Defaults are datatrove's. -#}
{% macro gopher_repetition_reason(text_length='text_length', dup_line_frac=0.3, dup_para_frac=0.3,
                                  dup_line_char_frac=0.2, dup_para_char_frac=0.2,
                                  top_n_grams=((2, 0.2), (3, 0.18), (4, 0.16)),
                                  dup_n_grams=((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))) -%}
case
      when coalesce({{ text_length }}, 0) = 0 then 'empty'
      when gopher_dup_para_frac > {{ dup_para_frac }} then 'dup_para_frac'
      when gopher_dup_para_char_frac > {{ dup_para_char_frac }} then 'dup_para_char_frac'
      when gopher_dup_line_frac > {{ dup_line_frac }} then 'dup_line_frac'
      when gopher_dup_line_char_frac > {{ dup_line_char_frac }} then 'dup_line_char_frac'
      {%- for n, frac in top_n_grams %}
      when gopher_top_{{ n }}_gram_char_frac > {{ frac }} then 'top_{{ n }}_gram'
      {%- endfor %}
      {%- for n, frac in dup_n_grams %}
      when gopher_dup_{{ n }}_gram_char_frac > {{ frac }} then 'duplicated_{{ n }}_n_grams'
      {%- endfor %}
    end
{%- endmacro %}
