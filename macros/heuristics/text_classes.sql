{#- Character classes shared by the heuristic signals, written as RE2 class bodies (no brackets)
    so callers can negate or combine them. They copy datatrove's definitions character for
    character, because the filters' decisions depend on exactly which characters count. -#}

{#- Python's str.isspace() characters: str.strip()/str.split() (used by the filters) treat all of
    them as whitespace, while RE2's \s only knows the ASCII ones. -#}
{% macro hx_ws() -%}
\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}
{%- endmacro %}

{#- Python's str.splitlines() boundaries (single characters; \r\n is handled by the caller). -#}
{% macro hx_line_breaks() -%}
\n\r\x{0b}\x{0c}\x{1c}-\x{1e}\x{85}\x{2028}\x{2029}
{%- endmacro %}

{#- datatrove.utils.text.PUNCTUATION_SET: a "word" made only of these is a symbol, not a word. -#}
{% macro hx_punctuation() -%}
\x{0}-\x{8}\x{b}-\x{1f}\x{21}-\x{2f}\x{3a}-\x{40}\x{5b}-\x{60}\x{7b}-\x{9f}\x{ab}\x{b4}\x{bb}\x{589}\x{61d}-\x{61f}\x{6d4}\x{700}-\x{702}\x{7f9}\x{837}\x{839}\x{83d}-\x{83e}\x{964}-\x{965}\x{104a}-\x{104b}\x{1362}\x{1367}-\x{1368}\x{166e}\x{1735}-\x{1736}\x{17d4}-\x{17d6}\x{17d9}-\x{17da}\x{1803}\x{1809}\x{1944}-\x{1945}\x{1aa8}-\x{1aab}\x{1b5a}-\x{1b5b}\x{1b5e}-\x{1b5f}\x{1b7d}-\x{1b7e}\x{1c3b}-\x{1c3c}\x{1c7e}-\x{1c7f}\x{2013}-\x{2014}\x{2019}\x{201c}-\x{201e}\x{2026}\x{203c}-\x{203d}\x{2047}-\x{2049}\x{2236}\x{2501}\x{25ba}\x{2e2e}\x{2e3c}\x{2e53}-\x{2e54}\x{3001}-\x{3002}\x{3008}-\x{300d}\x{3010}-\x{3011}\x{a4ff}\x{a60e}-\x{a60f}\x{a6f3}\x{a6f7}\x{a876}-\x{a877}\x{a8ce}-\x{a8cf}\x{a92f}\x{a9c8}-\x{a9c9}\x{aa5d}-\x{aa5f}\x{aaf0}-\x{aaf1}\x{abeb}\x{fe52}\x{fe56}-\x{fe57}\x{ff01}\x{ff05}\x{ff08}-\x{ff09}\x{ff0c}\x{ff0e}\x{ff11}\x{ff1a}-\x{ff1b}\x{ff1f}\x{ff5e}\x{ff61}\x{10a56}-\x{10a57}\x{10f55}-\x{10f59}\x{10f86}-\x{10f89}\x{11047}-\x{11048}\x{110be}-\x{110c1}\x{11141}-\x{11143}\x{111c5}-\x{111c6}\x{111cd}\x{111de}-\x{111df}\x{11238}-\x{11239}\x{1123b}-\x{1123c}\x{112a9}\x{1144b}-\x{1144c}\x{115c2}-\x{115c3}\x{115c9}-\x{115d7}\x{11641}-\x{11642}\x{1173c}-\x{1173e}\x{11944}\x{11946}\x{11a42}-\x{11a43}\x{11a9b}-\x{11a9c}\x{11c41}-\x{11c42}\x{11ef7}-\x{11ef8}\x{11f43}-\x{11f44}\x{16a6e}-\x{16a6f}\x{16af5}\x{16b37}-\x{16b38}\x{16b44}\x{16e98}\x{1bc9f}\x{1da88}
{%- endmacro %}

{#- datatrove.utils.text.TERMINAL_PUNCTUATION: FineWeb's line-ending marks. -#}
{% macro hx_terminal_punctuation() -%}
\x{21}\x{2e}\x{3f}\x{589}\x{61d}-\x{61f}\x{6d4}\x{700}-\x{702}\x{7f9}\x{837}\x{839}\x{83d}-\x{83e}\x{964}-\x{965}\x{104a}-\x{104b}\x{1362}\x{1367}-\x{1368}\x{166e}\x{1735}-\x{1736}\x{17d4}-\x{17d6}\x{17d9}-\x{17da}\x{1803}\x{1809}\x{1944}-\x{1945}\x{1aa8}-\x{1aab}\x{1b5a}-\x{1b5b}\x{1b5e}-\x{1b5f}\x{1b7d}-\x{1b7e}\x{1c3b}-\x{1c3c}\x{1c7e}-\x{1c7f}\x{203c}-\x{203d}\x{2047}-\x{2049}\x{2e2e}\x{2e3c}\x{2e53}-\x{2e54}\x{3002}\x{a4ff}\x{a60e}-\x{a60f}\x{a6f3}\x{a6f7}\x{a876}-\x{a877}\x{a8ce}-\x{a8cf}\x{a92f}\x{a9c8}-\x{a9c9}\x{aa5d}-\x{aa5f}\x{aaf0}-\x{aaf1}\x{abeb}\x{fe52}\x{fe56}-\x{fe57}\x{ff01}\x{ff0e}\x{ff1f}\x{ff61}\x{10a56}-\x{10a57}\x{10f55}-\x{10f59}\x{10f86}-\x{10f89}\x{11047}-\x{11048}\x{110be}-\x{110c1}\x{11141}-\x{11143}\x{111c5}-\x{111c6}\x{111cd}\x{111de}-\x{111df}\x{11238}-\x{11239}\x{1123b}-\x{1123c}\x{112a9}\x{1144b}-\x{1144c}\x{115c2}-\x{115c3}\x{115c9}-\x{115d7}\x{11641}-\x{11642}\x{1173c}-\x{1173e}\x{11944}\x{11946}\x{11a42}-\x{11a43}\x{11a9b}-\x{11a9c}\x{11c41}-\x{11c42}\x{11ef7}-\x{11ef8}\x{11f43}-\x{11f44}\x{16a6e}-\x{16a6f}\x{16af5}\x{16b37}-\x{16b38}\x{16b44}\x{16e98}\x{1bc9f}\x{1da88}
{%- endmacro %}
