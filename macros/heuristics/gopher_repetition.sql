{#- Gopher repetition rules (Rae et al. 2021, table A1) as datatrove's GopherRepetitionFilter
    computes them. Line and paragraph duplicates are list expressions; n-gram repetition needs
    one row per word, so it is a relation-level query (gopher_ngram_signals). -#}

{#- datatrove: re.split(r"\n{2,}", text.strip()), done with string_split on "\n\n" (a regular
    expression split cost about 3x as much, measured). A run of three or more newlines leaves
    empty pieces and pieces starting with "\n"; a run is maximal, so no real paragraph starts
    with one (ltrim) and none is empty except the one piece of an empty text (kept: the first). -#}
{% macro gopher_paragraphs(text) -%}
list_filter(
  list_transform(string_split({{ hx_strip(text) }}, chr(10) || chr(10)), lambda x: ltrim(x, chr(10))),
  lambda x, i: x <> '' or i = 1)
{%- endmacro %}

{#- datatrove: re.split("\n+", text) -- not stripped, so a leading newline gives an empty first
    line and a trailing one an empty last line. string_split on "\n" also leaves one empty piece
    per extra newline of a run: dropped, except the first piece, and the last is put back when the
    text ends with a newline. -#}
{% macro gopher_newline_runs(text) -%}
list_concat(list_filter(string_split({{ text }}, chr(10)), lambda x, i: x <> '' or i = 1),
            case when ends_with({{ text }}, chr(10)) then [''] else []::VARCHAR[] end)
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
        repeated n-grams only (the others are always new when the scan lands on them);
      - with stop_above, a document whose level-n fraction breaks its rule leaves the pipeline
        after level n (an anti join on the next level's candidates), as datatrove returns at the
        first broken rule.
    Word identity is therefore a 40-bit hash plus the length, n-gram identity a 64-bit hash of
    those; a collision would merge two n-grams (not seen on the corpus). -#}
{% macro hx_ngram_word_value(w) -%}
((hash({{ w }}) >> 24 << 24) | least(length({{ w }}), 16777215)::UBIGINT)
{%- endmacro %}
{% macro hx_ngram_len(v) -%}(({{ v }}) & 16777215::UBIGINT)::INTEGER{%- endmacro %}

{#- datatrove's find_all_duplicate, replayed exactly over the position-sorted occurrences of the
    repeated n-grams, {a: position << 32 | the n-gram's number within the document, c: its
    characters}: a scan that, where the n-gram starting at its position is already in its
    `unique` set, counts the n-gram's characters and jumps n words (the n-grams jumped over are
    NOT added), else adds it and steps one. The set is a bitstring over the n-gram numbers
    (`seen`, `groups` bits); nx is the first position the scan can land on. Occurrences of
    n-grams seen once never change the outcome: the scan adds them and steps one, as it does
    between occurrences. Position and number share one BIGINT because a two-field struct costs
    the ordered list aggregate and the replay less than four fields (0.56 s against 0.88 s for the
    corpus' lists, measured). list_reduce steps all the lists of a batch together, one interpreted
    step per element of the longest, so the caller orders the lists longest first (long lists
    share their steps) and, unless it stops documents level by level, runs every n in one
    list_reduce. -#}
{% macro hx_ngram_duplicate_chars(occurrences, n, groups) -%}
list_reduce({{ occurrences }},
  lambda acc, x: case
    when (x.a >> 32) < acc.nx then acc
    when get_bit(acc.seen, (x.a & 4294967295)::INTEGER) = 1
      then {'nx': (x.a >> 32) + {{ n }}, 'ch': acc.ch + x.c, 'seen': acc.seen}
    else {'nx': acc.nx, 'ch': acc.ch, 'seen': set_bit(acc.seen, (x.a & 4294967295)::INTEGER, 1)} end,
  {'nx': 0::BIGINT, 'ch': 0::BIGINT, 'seen': bitstring('0', ({{ groups }})::INTEGER)}).ch
{%- endmacro %}

{#- The characters datatrove counts for the most frequent n-gram: len(" ".join(ngram)) times its
    occurrences. -#}
{% macro hx_ngram_top_chars(best, n) -%}
{{ best }}.cnt * ({{ best }}.c + {{ n - 1 }})
{%- endmacro %}

{#- One row per document with repeated n-grams: their occurrences in position order, for the
    replay. -#}
{% macro hx_ngram_occurrence_lists(n) -%}
select dk, {{ n }} as n, list({'a': (p::BIGINT << 32) | g, 'c': c} order by p) as occ, max(g) + 1 as groups
        from hx_ngram_rep_{{ n }}
        group by dk
{%- endmacro %}

{#- The occurrences of level n that go on to level n + 1: all of them, or those of the documents
    not stopped at level n. -#}
{% macro hx_ngram_unstopped(n, stop) -%}
{%- if n in stop %}
    anti join hx_ngram_stop_{{ n }} using (dk)
{%- endif %}
{%- endmacro %}

{#- Top n-gram (n=2..4) and duplicated n-gram (n=5..10) character fractions per document.
    Top: datatrove takes Counter.most_common(1) -- the most frequent n-gram, ties going to the one
    seen first -- and counts len(" ".join(ngram)) * occurrences; NULL when the document has fewer
    than n words (datatrove skips the rule).
    Duplicated: the characters (separators excluded) that find_all_duplicate counts, replayed
    exactly (hx_ngram_duplicate_chars).
    `relation` must have one row per id_column value. Returns doc_id plus
    gopher_top_{n}_gram_char_frac / gopher_dup_{n}_gram_char_frac, one row per row of relation.
    stop_above: none computes every signal of every document. A list of (n, threshold) pairs stops
    a document at the first n, in ascending order, whose fraction is above its threshold, as
    datatrove stops at the first broken rule: its later signals are NULL, and its n-grams leave
    the pipeline there (each level is then decided before the next one starts; levels 5-10 replay
    one level at a time). -#}
{% macro gopher_ngram_signals(relation, id_column, words, text_length, stop_above=none) -%}
{%- set stop = dict(stop_above) if stop_above is not none else {} %}
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
{#- The per-document numbers without the word list: the stop rules and the final fractions read
    only these, and every scan of hx_ngram_docs pays for its list column (about 0.04 s a scan on
    the corpus, measured). -#}
hx_ngram_doc_facts as materialized (
  select doc_id, dk, text_length, n_words{% for n in range(2, 5) %}, first_chars_{{ n }}{% endfor %}
    from hx_ngram_docs
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
    from hx_ngram_rep_2{{ hx_ngram_unstopped(2, stop) }}
    where p + 3 <= len(vs)
),
{%- else %}
hx_ngram_cand_{{ n }} as {{ "not " if n >= 6 }}materialized (
  select dk, p, hash(k, w{{ n }}) as k, c + {{ hx_ngram_len('w' ~ n) }} as c
      {%- for j in range(n + 1, 11) %}, w{{ j }}{% endfor %}
    from hx_ngram_rep_{{ n - 1 }}{{ hx_ngram_unstopped(n - 1, stop) }}
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
{%- if n <= 4 %},
{#- Most frequent repeated n-gram per document: highest count, then earliest first occurrence. -#}
hx_ngram_top_{{ n }} as (
  select dk, max({'cnt': cnt, 'q': -first, 'c': c}) as best
    from hx_ngram_grp_{{ n }}
    group by dk
)
{%- elif stop %},
hx_ngram_dup_{{ n }} as materialized (
  select dk, {{ n }} as n, {{ hx_ngram_duplicate_chars('occ', 'n', 'groups') }} as ch
    from ({{ hx_ngram_occurrence_lists(n) }} order by len(occ) desc)
)
{%- endif %}
{%- if n in stop %},
{#- The documents whose level-n fraction breaks the rule: their n-grams stop here. -#}
hx_ngram_stop_{{ n }} as (
  select s.dk
    from {{ "hx_ngram_top_" ~ n if n <= 4 else "hx_ngram_dup_" ~ n }} s
    join hx_ngram_doc_facts d using (dk)
    where {{ hx_ngram_top_chars('s.best', n) if n <= 4 else 's.ch' }} / nullif(d.text_length, 0) > {{ stop[n] }}
)
{%- endif %}
{%- endfor %},
{%- if not stop %}
{#- Every n in one list_reduce: lists of similar length share its steps across levels. -#}
hx_ngram_dup as (
  select dk, n, {{ hx_ngram_duplicate_chars('occ', 'n', 'groups') }} as ch
    from (
      {%- for n in range(5, 11) %}
      {{ hx_ngram_occurrence_lists(n) }}
      {{- "\n      union all" if not loop.last }}
      {%- endfor %}
      order by len(occ) desc)
),
{%- else %}
hx_ngram_dup as (
  {%- for n in range(5, 11) %}
  select dk, n, ch from hx_ngram_dup_{{ n }}
  {{- "\n  union all" if not loop.last }}
  {%- endfor %}
),
{%- endif %}
hx_ngram_per_doc as (
  select dk,
      {%- for n in range(2, 5) %}
      max(best) filter (where n = {{ n }}) as best_{{ n }},
      {%- endfor %}
      {%- for n in range(5, 11) %}
      max(ch) filter (where n = {{ n }}) as dup_{{ n }}{{ "," if not loop.last }}
      {%- endfor %}
    from (
      {%- for n in range(2, 5) %}
      select dk, {{ n }} as n, best, null::BIGINT as ch from hx_ngram_top_{{ n }}
      union all
      {%- endfor %}
      select dk, n, null, ch from hx_ngram_dup)
    group by dk
),
hx_ngram_fracs as (
  select d.doc_id,
      {%- for n in range(2, 5) %}
      case when d.n_words < {{ n }} then null
           when r.best_{{ n }} is not null then {{ hx_ngram_top_chars('r.best_' ~ n, n) }}
           else d.first_chars_{{ n }} + {{ n - 1 }}
      end / nullif(d.text_length, 0) as f{{ n }},
      {%- endfor %}
      {%- for n in range(5, 11) %}
      coalesce(r.dup_{{ n }}, 0) / nullif(d.text_length, 0) as f{{ n }}{{ "," if not loop.last }}
      {%- endfor %}
    from hx_ngram_doc_facts d
    left join hx_ngram_per_doc r on r.dk = d.dk
)
{#- A signal after the level that stopped a document is NULL (its value would come from a
    pipeline that no longer holds the document's n-grams). -#}
select doc_id,
    {%- for n in range(2, 11) %}
    {%- set earlier = stop | dictsort | selectattr(0, 'lt', n) | list %}
    {% if earlier %}case when {% for m, t in earlier %}f{{ m }} > {{ t }}{{ " or " if not loop.last }}{% endfor %} then null else f{{ n }} end{% else %}f{{ n }}{% endif %}
      as {{ "gopher_top_" ~ n ~ "_gram_char_frac" if n <= 4 else "gopher_dup_" ~ n ~ "_gram_char_frac" }}{{ "," if not loop.last }}
    {%- endfor %}
  from hx_ngram_fracs
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
