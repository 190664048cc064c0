{#- C4 line rules (Raffel et al. 2020) as datatrove's C4QualityFilter applies them with its default
    options: lines split with str.splitlines(), Wikipedia citations removed, and each line either
    dropped (no terminal punctuation, fewer than 3 words, a word over 1000 characters,
    "javascript", a policy phrase), kept, or fatal to the whole document ("lorem ipsum", "{").
    A document survives with at least 5 sentences in its kept lines. -#}

{% macro c4_citation_pattern() -%}
\[\p{Nd}*\]|\[edit\]|\[citation needed\]
{%- endmacro %}

{#- spaCy abbreviations whose final period does not end a sentence although a lowercase letter
    or digit precedes it (tokenizer exceptions of the blank English pipeline). -#}
{% macro c4_abbreviation_pattern() -%}
(?:^|[{{ hx_ws() }}])(?:\p{Ll}|[äöü]|[0-9]{1,2}[ap]\.m|Adm|Ak|Ala|Apr|Ariz|Ark|Aug|Bros|Calif|Co|Colo|Conn|Corp|Dec|Del|Dr|E\.g|Feb|Fla|Ga|Gen|Gov|I\.e|Ia|Id|Ill|Inc|Ind|Jan|Jr|Jul|Jun|Kan|Kans|Ky|La|Ltd|Mar|Mass|Md|Messrs|Mich|Minn|Miss|Mo|Mont|Mr|Mrs|Ms|Mt|Neb|Nebr|Nev|Nov|Oct|Okla|Ore|Pa|Prof|Rep|Rev|Sen|Sep|Sept|St|Tenn|Va|Wash|Wis|a\.m|co|e\.g|i\.e|p\.m|v\.s|vs)\.[{{ hx_ws() }}]+["'“‘(\[]*[\p{L}\p{N}]
{%- endmacro %}

{#- A sentence boundary as spaCy's sentencizer finds one: a "." split off the word before it (after
    a lowercase letter, digit, closing mark or two capitals), or "!"/"?", then whitespace and a word. -#}
{% macro c4_sentence_break_pattern() -%}
(?:[!?]|(?:[\p{Ll}\p{N}"'”’)\]]|\p{Lu}\p{Lu})\.)[!?.]*["'”’)\]]*[{{ hx_ws() }}]+["'“‘(\[]*[\p{L}\p{N}]
{%- endmacro %}

{% macro c4_sentence_count(line) -%}
greatest(1, 1 + len(regexp_extract_all({{ line }}, '{{ c4_sentence_break_pattern() | replace("'", "''") }}'))
              - len(regexp_extract_all({{ line }}, '{{ c4_abbreviation_pattern() | replace("'", "''") }}')))
{%- endmacro %}

{#- Per line: {line: the line as datatrove keeps it, verdict: kept | a drop reason}, in order. -#}
{% macro c4_line_verdicts(lines) -%}
list_transform(
  list_transform({{ lines }}, lambda l: {
    'stripped': {{ hx_strip('l') }},
    'line': regexp_replace({{ hx_strip('l') }}, '{{ c4_citation_pattern() }}', '', 'g')}),
  lambda x: {'line': x.line, 'verdict': case
    when length(x.stripped) > 1000
         and list_max(list_transform({{ hx_split_whitespace('x.stripped') }}, lambda w: length(w))) > 1000
      then 'too_long_word'
    when not regexp_matches(x.line, '[.?!"\x{27}]$') or ends_with(x.line, '...') then 'no_terminal_punct'
    when len({{ hx_split_whitespace('x.stripped') }}) < 3 then 'too_few_words'
    when contains(lower(x.line), 'lorem ipsum') then 'lorem_ipsum'
    when contains(lower(x.line), 'javascript') then 'javascript'
    when contains(x.line, '{') then 'curly_bracket'
    when regexp_matches(lower(x.line), 'terms of use|privacy policy|cookie policy|uses cookies|use of cookies|use cookies') then 'policy'
    else 'kept' end})
{%- endmacro %}

{#- Signals from the verdict list (a column made with c4_line_verdicts). -#}
{% macro c4_quality_signals(verdicts) -%}
len({{ verdicts }}) as c4_line_count,
    len(list_filter({{ verdicts }}, lambda x: x.verdict = 'kept')) as c4_kept_line_count,
    coalesce(list_sum(list_transform(list_filter({{ verdicts }}, lambda x: x.verdict = 'kept'),
                                     lambda x: {{ c4_sentence_count('x.line') }})), 0) as c4_sentence_count,
    list_filter({{ verdicts }}, lambda x: x.verdict in ('lorem_ipsum', 'curly_bracket'))[1].verdict as c4_fatal_line
{%- endmacro %}

{#- datatrove's reason names: the first fatal line, else too few sentences, else NULL (kept). -#}
{% macro c4_quality_reason(min_num_sentences=5) -%}
coalesce(c4_fatal_line, case when c4_sentence_count < {{ min_num_sentences }} then 'too_few_sentences' end)
{%- endmacro %}
