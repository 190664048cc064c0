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

{#- N-gram repetition, computed per document on lists. Each lambda reads only its own element
    (no captured list): the n-grams come from zipping n shifted slices of the word list, so the
    work is one sort per document and n, linear otherwise.
    An n-gram is packed in one UHUGEINT: its 64-bit word-sequence hash, then 32 bits of
    (2^32 - 1 - start position), then 32 bits of its characters without separators. Sorting the
    packed values groups equal n-grams with the FIRST occurrence LAST in its run, so "the next
    element has the same hash" marks a repeat (an occurrence after the first). -#}
{% macro hx_ngram_hash(x) -%}(({{ x }}) >> 64){%- endmacro %}
{% macro hx_ngram_pos(x) -%}(4294967295 - ((({{ x }}) >> 32) & 4294967295::UHUGEINT)::BIGINT){%- endmacro %}
{% macro hx_ngram_chars(x) -%}((({{ x }}) & 4294967295::UHUGEINT)::BIGINT){%- endmacro %}

{% macro hx_ngrams(n, ws) -%}
case when len({{ ws }}) >= {{ n }} then list_transform(list_zip(
  {%- for k in range(1, n + 1) %}
    {{ ws }}[{{ k }}:len({{ ws }}) - {{ n - k }}],
  {%- endfor %}
    range(1, len({{ ws }}) - {{ n - 2 }})),
  lambda z: (hash({% for k in range(1, n + 1) %}z[{{ k }}].h{{ ", " if not loop.last }}{% endfor %})::UHUGEINT << 64)
            | ((4294967295 - z[{{ n + 1 }}])::UHUGEINT << 32)
            | ({% for k in range(1, n + 1) %}z[{{ k }}].l{{ " + " if not loop.last }}{% endfor %})::UHUGEINT)
else [] end
{%- endmacro %}

{#- Counter.most_common(1) of the sorted n-grams `s`: {cnt, q, c} of the most frequent, ties to
    the earliest first occurrence (largest q = 2^32 - 1 - position). Runs end where the next hash
    differs; a run's count is its end index minus the previous run's end index. -#}
{% macro hx_ngram_run_ends(s) -%}
list_filter(list_zip(range(1, len({{ s }}) + 1), {{ s }}, {{ s }}[2:]),
            lambda z: z[3] is null or {{ hx_ngram_hash('z[2]') }} != {{ hx_ngram_hash('z[3]') }})
{%- endmacro %}

{% macro hx_ngram_most_common(s) -%}
list_max(list_transform(
  list_zip({{ hx_ngram_run_ends(s) }},
           list_prepend(0, list_transform({{ hx_ngram_run_ends(s) }}, lambda z: z[1]))[:-2]),
  lambda z: {'cnt': z[1][1] - z[2], 'q': ((z[1][2] >> 32) & 4294967295::UHUGEINT)::BIGINT,
             'c': {{ hx_ngram_chars('z[1][2]') }}}))
{%- endmacro %}

{#- Every occurrence (first ones included) of the n-grams that occur more than once, from the
    sorted n-grams `s`, as {e: packed n-gram, f: is the first occurrence}: the input of the
    find_all_duplicate replay. -#}
{% macro hx_ngram_repeated(s) -%}
list_transform(
  list_filter(list_zip({{ s }}, {{ s }}[2:], list_prepend(null, {{ s }})[:-2]),
              lambda z: (z[2] is not null and {{ hx_ngram_hash('z[1]') }} = {{ hx_ngram_hash('z[2]') }})
                     or (z[3] is not null and {{ hx_ngram_hash('z[1]') }} = {{ hx_ngram_hash('z[3]') }})),
  lambda z: {'e': z[1], 'f': z[2] is null or {{ hx_ngram_hash('z[1]') }} != {{ hx_ngram_hash('z[2]') }}})
{%- endmacro %}

{#- datatrove's find_all_duplicate, replayed exactly: a scan over word positions that, where the
    n-gram starting there is already in its `unique` set, counts the n-gram's characters and jumps
    n words (the n-grams jumped over are NOT added to the set), else adds it and steps one.
    Only occurrences of repeated n-grams can change the outcome, so the replay is a list_reduce
    over those, in position order. State: nx, the first position the scan can land on; ch, the
    characters counted; pend, the hashes of n-grams whose first occurrence was jumped over and
    that the scan has not landed on since (not in the set yet: their next landed occurrence is
    a miss that adds them). pend stays tiny on real text, so each step is constant work. -#}
{% macro hx_ngram_duplicate_chars(n, repeated) -%}
list_reduce(
  list_sort(list_transform({{ repeated }},
    lambda r: {'p': {{ hx_ngram_pos('r.e') }}, 'k': {{ hx_ngram_hash('r.e') }}::UBIGINT,
               'c': {{ hx_ngram_chars('r.e') }}, 'f': r.f})),
  lambda acc, x: case
    when x.p < acc.nx then
      case when x.f then {'nx': acc.nx, 'ch': acc.ch, 'pend': list_append(acc.pend, x.k)} else acc end
    when x.f then acc
    when list_position(acc.pend, x.k) is not null then
      {'nx': acc.nx, 'ch': acc.ch,
       'pend': list_concat(acc.pend[:list_position(acc.pend, x.k) - 1], acc.pend[list_position(acc.pend, x.k) + 1:])}
    else {'nx': x.p + {{ n }}, 'ch': acc.ch + x.c, 'pend': acc.pend} end,
  {'nx': 0::BIGINT, 'ch': 0::BIGINT, 'pend': []::UBIGINT[]}).ch
{%- endmacro %}

{#- Top n-gram (n=2..4) and duplicated n-gram (n=5..10) character fractions per document.
    Top: datatrove takes Counter.most_common(1) -- the most frequent n-gram, ties going to the one
    seen first -- and counts len(" ".join(ngram)) * occurrences; NULL when the document has fewer
    than n words (datatrove skips the rule).
    Duplicated: the characters (separators excluded) that find_all_duplicate counts, replayed
    exactly (hx_ngram_duplicate_chars).
    Returns doc_id plus gopher_top_{n}_gram_char_frac / gopher_dup_{n}_gram_char_frac. -#}
{% macro gopher_ngram_signals(relation, id_column, words, text_length) -%}
with hx_ngram_words as (
  select {{ id_column }} as doc_id, {{ text_length }} as text_length,
      list_transform({{ words }}, lambda w: {'h': hash(w), 'l': length(w)::BIGINT}) as ws,
      true as repeats
    from {{ relation }}
)
{#- An n-gram can only repeat where its leading (n-1)-gram does: a document with no repeated
    (n-1)-gram skips level n (CASE evaluates a branch only for the rows that take it), and its
    most common n-gram is then the first one, seen once. -#}
{%- for n in range(2, 11) %},
hx_ngram_sorted_{{ n }} as (
  select doc_id, text_length, ws,
    {%- for m in range(2, n) %}
      {{ "gopher_top_" ~ m ~ "_gram_char_frac" if m <= 4 else "gopher_dup_" ~ m ~ "_gram_char_frac" }},
    {%- endfor %}
      case when repeats then list_sort({{ hx_ngrams(n, 'ws') | indent(8) }}) else [] end as s
    from {{ "hx_ngram_words" if n == 2 else "hx_ngram_level_" ~ (n - 1) }}
),
hx_ngram_level_{{ n }} as (
  select * exclude (s{{ ", best" if n <= 4 }}),
      len(list_filter(list_zip(s, s[2:]), lambda z: {{ hx_ngram_hash('z[1]') }} = {{ hx_ngram_hash('z[2]') }})) > 0
        as repeats,
    {%- if n <= 4 %}
      case when len(ws) < {{ n }} then null
           when len(s) > 0 then best.cnt * (best.c + {{ n - 1 }})
           else list_sum(list_transform(ws[1:{{ n }}], lambda w: w.l)) + {{ n - 1 }}
      end / nullif(text_length, 0) as gopher_top_{{ n }}_gram_char_frac
    from (select *, {{ hx_ngram_most_common('s') | indent(18) }} as best from hx_ngram_sorted_{{ n }})
    {%- else %}
      case when len(s) > 0 then {{ hx_ngram_duplicate_chars(n, hx_ngram_repeated('s')) | indent(8) }} else 0 end
        / nullif(text_length, 0) as gopher_dup_{{ n }}_gram_char_frac
    from hx_ngram_sorted_{{ n }}
    {%- endif %}
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
