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

{#- N-gram repetition. The per-document list formulation (one sorted n-gram list per document
    and n, a list_reduce replay) spent its time in long documents: list_sort and list_reduce cost
    far more per element than DuckDB's vectorized operators, and list_reduce runs one interpreted
    step per element of the longest list in a batch. So the n-grams are rows here:
      - every word becomes a 64-bit value, its hash with the low 24 bits replaced by its length
        (capped at 2^24 - 1), so a row carries identity and characters in one column;
      - one row per word position p (two shifted unnests: the words at p and p+1) also carries
        the document's word list, which unnest passes on by reference; the positions that
        survive level 2 read their later words from it (vs[p + j]) and only then materialize
        them as columns;
      - level n keeps only the positions whose (n-1)-gram repeats (an n-gram can only repeat where
        its leading (n-1)-gram does), extends their key by one word (hash(key, next word)), and
        finds the repeated n-grams with a hash aggregate (count > 1) joined back (for n >= 5 an
        inner join that also brings the n-gram's number, materialized once for the next level
        and the replay);
      - top n-gram (n = 2..4): the most frequent repeated n-gram per document, ties to the earliest
        first occurrence; with no repeated n-gram it is the first n-gram, seen once;
      - duplicated n-grams (n = 5..10): find_all_duplicate replayed over the occurrences of the
        repeated n-grams only (the others are always new when the scan lands on them).
    Word identity is therefore a 40-bit hash plus the length, n-gram identity a 64-bit hash of
    those; a collision would merge two n-grams (not seen on the corpus). -#}
{% macro hx_ngram_word_value(w) -%}
((hash({{ w }}) >> 24 << 24) | least(length({{ w }}), 16777215)::UBIGINT)
{%- endmacro %}
{% macro hx_ngram_len(v) -%}(({{ v }}) & 16777215::UBIGINT)::INTEGER{%- endmacro %}

{#- datatrove's find_all_duplicate, replayed exactly over the position-sorted occurrences of the
    repeated n-grams, {p: position, j: position + n, g: the n-gram's number within the document,
    c: its characters}: a scan that, where the n-gram starting at its position is already in its
    `unique` set, counts the n-gram's characters and jumps n words (the n-grams jumped over are
    NOT added), else adds it and steps one. The set is a bitstring over the n-gram numbers
    (`seen`, `groups` bits); nx is the first position the scan can land on. Occurrences of
    n-grams seen once never change the outcome: the scan adds them and steps one, as it does
    between occurrences. list_reduce steps all the lists of a batch together, one interpreted
    step per element of the longest, so the caller orders the lists longest first (long lists
    share their steps) and runs every n in one list_reduce. -#}
{% macro hx_ngram_duplicate_chars(occurrences, groups) -%}
list_reduce({{ occurrences }},
  lambda acc, x: case
    when x.p < acc.nx then acc
    when get_bit(acc.seen, x.g) = 1 then {'nx': x.j, 'ch': acc.ch + x.c, 'seen': acc.seen}
    else {'nx': acc.nx, 'ch': acc.ch, 'seen': set_bit(acc.seen, x.g, 1)} end,
  {'nx': 0::BIGINT, 'ch': 0::BIGINT, 'seen': bitstring('0', ({{ groups }})::INTEGER)}).ch
{%- endmacro %}

{#- Top n-gram (n=2..4) and duplicated n-gram (n=5..10) character fractions per document.
    Top: datatrove takes Counter.most_common(1) -- the most frequent n-gram, ties going to the one
    seen first -- and counts len(" ".join(ngram)) * occurrences; NULL when the document has fewer
    than n words (datatrove skips the rule).
    Duplicated: the characters (separators excluded) that find_all_duplicate counts, replayed
    exactly (hx_ngram_duplicate_chars).
    `relation` must have one row per id_column value. Returns doc_id plus
    gopher_top_{n}_gram_char_frac / gopher_dup_{n}_gram_char_frac, one row per row of relation. -#}
{% macro gopher_ngram_signals(relation, id_column, words, text_length) -%}
with hx_ngram_docs as materialized (
  select {{ id_column }} as doc_id, hash({{ id_column }}) as dk, {{ text_length }} as text_length,
      list_transform({{ words }}, lambda w: {{ hx_ngram_word_value('w') }}) as vs,
      len(vs) as n_words,
      {#- the characters of the first n-gram (no separators), element by element: a slice copies -#}
      {%- for n in range(2, 5) %}
      {% for j in range(1, n + 1) %}{{ hx_ngram_len('vs[' ~ j ~ ']') }}{{ " + " if not loop.last }}{% endfor %} as first_chars_{{ n }}{{ "," if not loop.last }}
      {%- endfor %}
    from {{ relation }}
),
{#- One row per position p (0-based) that starts a 2-gram, with the 2-gram's key and characters.
    dk (the id's hash) stands for the document in the row pipeline: narrower than the id, and it
    seeds every key. The rows also carry the document's word list vs, which the unnest passes on
    by reference (not copied per row): the levels read the later words of a position as vs[p + j]
    only on the rows that survive the level-2 filter, far cheaper than unnesting ten shifted
    copies of every list. -#}
hx_ngram_keys_2 as not materialized (
  select dk, p, vs, hash(hash(dk, w1), w2) as k, {{ hx_ngram_len('w1') }} + {{ hx_ngram_len('w2') }} as c
    from (select dk, vs, unnest(range(len(vs) - 1))::INTEGER as p, unnest(vs[:-2]) as w1, unnest(vs[2:]) as w2
            from hx_ngram_docs)
)
{%- for n in range(2, 11) %},
{#- Level n: the positions whose (n-1)-gram repeats (every position for n = 2) that start an
    n-gram, with the n-gram's key and characters (cand); the repeated n-grams, with their count,
    first position and, for the replay, their number in the document (grp); the occurrences of
    repeated n-grams (rep). -#}
{%- if n == 2 %}
hx_ngram_cand_2 as not materialized (
  select * from hx_ngram_keys_2
),
{%- elif n == 3 %}
hx_ngram_cand_3 as materialized (
  select dk, p, hash(k, vs[p + 3]) as k, c + {{ hx_ngram_len('vs[p + 3]') }} as c
      {%- for j in range(4, 11) %}, vs[p + {{ j }}] as w{{ j }}{% endfor %}
    from hx_ngram_rep_2
    where p + 3 <= len(vs)
),
{%- else %}
hx_ngram_cand_{{ n }} as {{ "not " if n >= 6 }}materialized (
  select dk, p, hash(k, w{{ n }}) as k, c + {{ hx_ngram_len('w' ~ n) }} as c
      {%- for j in range(n + 1, 11) %}, w{{ j }}{% endfor %}
    from hx_ngram_rep_{{ n - 1 }}
    where w{{ n }} is not null
),
{%- endif %}
hx_ngram_grp_{{ n }} as materialized (
  select k, any_value(dk) as dk, count(*) as cnt, min(p) as first
    {%- if n <= 4 %}, any_value(c) as c{% endif %}
    {%- if n >= 5 %},
      (row_number() over (partition by any_value(dk) order by min(p)) - 1)::INTEGER as g
    {%- endif %}
    from hx_ngram_cand_{{ n }}
    group by k
    having count(*) > 1
),
{%- if n <= 4 %}
hx_ngram_rep_{{ n }} as not materialized (
  select *
    from hx_ngram_cand_{{ n }}
    semi join hx_ngram_grp_{{ n }} using (k)
)
{%- else %}
hx_ngram_rep_{{ n }} as materialized (
  select c.*, g.g
    from hx_ngram_cand_{{ n }} c
    join hx_ngram_grp_{{ n }} g using (k)
)
{%- endif %}
{%- endfor %},
{#- Most frequent repeated n-gram per document: highest count, then earliest first occurrence. -#}
hx_ngram_top as (
  {%- for n in range(2, 5) %}
  select dk, {{ n }} as n, max({'cnt': cnt, 'q': -first, 'c': c}) as best
    from hx_ngram_grp_{{ n }}
    group by dk
  {{- "\n  union all" if not loop.last }}
  {%- endfor %}
),
hx_ngram_dup_lists as (
  {%- for n in range(5, 11) %}
  select dk, {{ n }} as n, list({'p': p, 'j': p + {{ n }}, 'g': g, 'c': c} order by p) as occ,
      max(g) + 1 as groups
    from hx_ngram_rep_{{ n }}
    group by dk
  {{- "\n  union all" if not loop.last }}
  {%- endfor %}
),
hx_ngram_dup as (
  select dk, n, {{ hx_ngram_duplicate_chars('occ', 'groups') }} as ch
    from (select * from hx_ngram_dup_lists order by len(occ) desc)
),
hx_ngram_per_doc as (
  select dk,
      {%- for n in range(2, 5) %}
      max(best) filter (where n = {{ n }}) as best_{{ n }},
      {%- endfor %}
      {%- for n in range(5, 11) %}
      max(ch) filter (where n = {{ n }}) as dup_{{ n }}{{ "," if not loop.last }}
      {%- endfor %}
    from (select dk, n, best, null::BIGINT as ch from hx_ngram_top
          union all
          select dk, n, null, ch from hx_ngram_dup)
    group by dk
)
select d.doc_id,
    {%- for n in range(2, 5) %}
    case when d.n_words < {{ n }} then null
         when r.best_{{ n }} is not null then r.best_{{ n }}.cnt * (r.best_{{ n }}.c + {{ n - 1 }})
         else d.first_chars_{{ n }} + {{ n - 1 }}
    end / nullif(d.text_length, 0) as gopher_top_{{ n }}_gram_char_frac,
    {%- endfor %}
    {%- for n in range(5, 11) %}
    coalesce(r.dup_{{ n }}, 0) / nullif(d.text_length, 0) as gopher_dup_{{ n }}_gram_char_frac{{ "," if not loop.last }}
    {%- endfor %}
  from hx_ngram_docs d
  left join hx_ngram_per_doc r on r.dk = d.dk
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
