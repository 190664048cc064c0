{#- Words as datatrove's English tokenizer (a blank spaCy "en" pipeline) sees them, approximated
    with one RE2 pattern so it runs inside DuckDB. spaCy splits on whitespace, then peels
    punctuation off both ends of each chunk and splits a few infixes; the alternatives below, tried
    left to right, mimic that for the cases that move the Gopher/FineWeb ratios (see
    docs/HEURISTICS.md for what differs):
      URLs whole; numbers with inner . , / : ("3.5", "1,000", "1/2"); words with inner dots
      ("e.g", "file.py"), letters including combining marks (Devanagari and Arabic vowel signs)
      and zero-width (non-)joiners, as spaCy keeps them inside a word; the clitics 's 't 'd 'm 're
      've 'll as their own token (a quote before any other word is a quote); wikitext "@-@";
      quote pairs ''; dot runs "..." and "…" as one token; hyphen runs as one token; any other
      single character. -#}
{% macro hx_word_pattern() -%}
https?://[^{{ hx_ws() }}]+|\p{N}+(?:[.,/:]\p{N}+)+|[\p{L}\p{N}\p{M}_\x{200c}\x{200d}]+(?:\.[\p{L}\p{N}\p{M}_\x{200c}\x{200d}]+)*|[\x{27}\x{2019}](?:[sSdDmMtT]|re|RE|ve|VE|ll|LL)\b|\x{27}\x{27}|@[-.,]@|\.\.+|\x{2026}+|-+|[^{{ hx_ws() }}\p{L}\p{N}\p{M}_]
{%- endmacro %}

{% macro hx_words(text) -%}
regexp_extract_all({{ text }}, '{{ hx_word_pattern() }}')
{%- endmacro %}
