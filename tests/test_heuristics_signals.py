"""Heuristic signals (macros/heuristics/) against plain-Python computations of the same rules.

The SQL is rendered by the project's engine (quadmix_wh.rendering.Renderer over this repository's
macros) and run in DuckDB on hand-made documents. Expected values come from straightforward
Python written here from the rule definitions (Gopher, C4, FineWeb as datatrove implements them),
on documents whose word tokenization is unambiguous (words, single punctuation marks, "...").
"""
from __future__ import annotations

import collections
import random
import re
import shutil
import string
from pathlib import Path

import duckdb
import pytest

from quadmix_wh.project import load_project
from quadmix_wh.rendering import Renderer

REPO = Path(__file__).resolve().parents[1]
FILTERS = ("gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality")


# --- running the macros -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def render():
    renderer = Renderer(load_project(REPO), {})
    return lambda call: renderer.env.from_string("{{ " + call + " }}").render()


def run(render, texts: dict, call: str = "heuristic_signals('docs')") -> dict[str, dict]:
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE docs (doc_id VARCHAR, text VARCHAR)")
        con.executemany("INSERT INTO docs VALUES (?, ?)", list(texts.items()))
        cur = con.execute(render(call))
        columns = [d[0] for d in cur.description]
        return {row[0]: dict(zip(columns, row)) for row in cur.fetchall()}
    finally:
        con.close()


# --- plain-Python reference -------------------------------------------------------------------

PUNCT = set(string.punctuation) | {"…", "。", "、"}  # plus the CJK marks used below
STOP_WORDS = {"the", "be", "to", "of", "and", "that", "have", "with"}
TERMINAL = (".", "!", "?")


def ref_words(text: str) -> list[str]:
    return re.findall(r"\w+|\.\.\.|…|[^\w\s]", text)


def ref_gopher_quality(text: str) -> dict:
    words = ref_words(text)
    real = [w for w in words if any(c not in PUNCT for c in w)]
    lines = text.splitlines()
    n = len(words)
    return {
        "gopher_word_count": len(real),
        "gopher_token_count": n,
        "gopher_mean_word_length": sum(map(len, real)) / len(real) if real else None,
        "gopher_hash_ratio": text.count("#") / n if n else None,
        "gopher_ellipsis_ratio": (text.count("...") + text.count("…")) / n if n else None,
        "gopher_bullet_lines_ratio": sum(l.lstrip().startswith(("•", "-")) for l in lines) / len(lines),
        "gopher_ellipsis_lines_ratio": sum(l.rstrip().endswith(("...", "…")) for l in lines) / len(lines),
        "gopher_alpha_words_ratio": sum(any(c.isalpha() for c in w) for w in words) / n if n else None,
        "gopher_stop_word_count": len(STOP_WORDS & set(words)),
    }


def ref_gopher_quality_reason(s: dict) -> str | None:
    rules = [
        (s["gopher_word_count"] < 50, "gopher_short_doc"),
        (s["gopher_word_count"] > 100000, "gopher_long_doc"),
        (lambda: s["gopher_mean_word_length"] < 3, "gopher_below_avg_threshold"),
        (lambda: s["gopher_mean_word_length"] > 10, "gopher_above_avg_threshold"),
        (lambda: s["gopher_hash_ratio"] > 0.1, "gopher_too_many_hashes"),
        (lambda: s["gopher_ellipsis_ratio"] > 0.1, "gopher_too_many_ellipsis"),
        (lambda: s["gopher_bullet_lines_ratio"] > 0.9, "gopher_too_many_bullets"),
        (lambda: s["gopher_ellipsis_lines_ratio"] > 0.3, "gopher_too_many_end_ellipsis"),
        (lambda: s["gopher_alpha_words_ratio"] < 0.8, "gopher_below_alpha_threshold"),
        (lambda: s["gopher_stop_word_count"] < 2, "gopher_enough_stop_words"),
    ]
    for broken, reason in rules:
        if broken() if callable(broken) else broken:
            return reason
    return None


def duplicates(items: list[str]) -> tuple[int, int]:
    seen, count, chars = set(), 0, 0
    for item in items:
        if item in seen:
            count, chars = count + 1, chars + len(item)
        seen.add(item)
    return count, chars


def top_ngram_chars(words: list[str], n: int) -> int | None:
    grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return None
    best, count = collections.Counter(grams).most_common(1)[0]
    return len(best) * count


def dup_ngram_chars(words: list[str], n: int) -> int:
    seen, chars, i = set(), 0, 0
    while i < len(words) - n + 1:
        gram = tuple(words[i:i + n])
        if gram in seen:
            chars += sum(map(len, gram))
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


def ref_gopher_repetition(text: str) -> dict:
    paragraphs = re.split(r"\n{2,}", text.strip())
    lines = re.split(r"\n+", text)
    words = ref_words(text)
    out = {
        "gopher_dup_para_frac": duplicates(paragraphs)[0] / len(paragraphs),
        "gopher_dup_para_char_frac": duplicates(paragraphs)[1] / len(text),
        "gopher_dup_line_frac": duplicates(lines)[0] / len(lines),
        "gopher_dup_line_char_frac": duplicates(lines)[1] / len(text),
    }
    for n in (2, 3, 4):
        top = top_ngram_chars(words, n)
        out[f"gopher_top_{n}_gram_char_frac"] = None if top is None else top / len(text)
    for n in range(5, 11):
        out[f"gopher_dup_{n}_gram_char_frac"] = dup_ngram_chars(words, n) / len(text)
    return out


def ref_gopher_repetition_reason(s: dict) -> str | None:
    checks = [("gopher_dup_para_frac", 0.3, "dup_para_frac"), ("gopher_dup_para_char_frac", 0.2, "dup_para_char_frac"),
              ("gopher_dup_line_frac", 0.3, "dup_line_frac"), ("gopher_dup_line_char_frac", 0.2, "dup_line_char_frac")]
    checks += [(f"gopher_top_{n}_gram_char_frac", f, f"top_{n}_gram") for n, f in ((2, .2), (3, .18), (4, .16))]
    checks += [(f"gopher_dup_{n}_gram_char_frac", f, f"duplicated_{n}_n_grams")
               for n, f in ((5, .15), (6, .14), (7, .13), (8, .12), (9, .11), (10, .10))]
    for column, threshold, reason in checks:
        if s[column] is not None and s[column] > threshold:
            return reason
    return None


def ref_c4(text: str) -> tuple[int, str | None]:
    """(sentences in kept lines, reason) for documents whose sentences end in . ! or ? + space."""
    sentences = 0
    for line in text.splitlines():
        line = line.strip()
        words = line.split()
        if any(len(w) > 1000 for w in words):
            continue
        line = re.sub(r"\[\d*]|\[edit]|\[citation needed]", "", line)
        if not line.endswith((".", "?", "!", '"', "'")) or line.endswith("..."):
            continue
        if len(words) < 3:
            continue
        low = line.lower()
        if "lorem ipsum" in low:
            return sentences, "lorem_ipsum"
        if "javascript" in low:
            continue
        if "{" in line:
            return sentences, "curly_bracket"
        if any(p in low for p in ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                                  "use of cookies", "use cookies")):
            continue
        sentences += len(re.split(r"(?<=[.!?])\s+(?=\w)", line))
    return sentences, ("too_few_sentences" if sentences < 5 else None)


def ref_fineweb(text: str) -> tuple[dict, str | None]:
    lines = [l for l in text.split("\n") if l.strip() != ""]
    if not lines:
        return {"fineweb_line_count": 0}, "empty"
    words = ref_words(text)
    s = {
        "fineweb_line_count": len(lines),
        "fineweb_line_punct_ratio": sum(l.endswith(TERMINAL) for l in lines) / len(lines),
        "fineweb_short_line_ratio": sum(len(l) <= 30 for l in lines) / len(lines),
        "fineweb_char_dup_ratio": duplicates(lines)[1] / len(text.replace("\n", "")),
        "fineweb_list_ratio": text.count("\n") / len(words),
    }
    for column, broken, reason in (("fineweb_line_punct_ratio", lambda v: v < 0.12, "line_punct_ratio"),
                                   ("fineweb_short_line_ratio", lambda v: v > 0.67, "short_line_ratio"),
                                   ("fineweb_char_dup_ratio", lambda v: v > 0.01, "char_dup_ratio"),
                                   ("fineweb_list_ratio", lambda v: v > 0.3, "list_ratio")):
        if broken(s[column]):
            return s, reason
    return s, None


# --- documents --------------------------------------------------------------------------------

PROSE = (
    "The river runs through the old town and past the market square.\n"
    "Every morning the fishermen bring their catch to the stalls near the bridge.\n"
    "Children walk to school along the water, and their parents wave from the windows.\n"
    "In the afternoon the light turns golden and tourists take photographs of the towers.\n"
    "Local historians say that the first houses were built with stone from northern hills.\n"
    "\n"
    "Visitors often ask whether the town has changed much over the last century.\n"
    "Most residents answer that the streets have stayed the same, but the shops have not!\n"
)

FILLER = ("Bright lanterns hang above narrow lanes where merchants sell spices, woven baskets, copper "
          "kettles, painted tiles, dried fruit, warm bread, fresh cheese, honey cakes and river fish "
          "every single evening").split()

QUALITY_DOCS = {
    "prose": PROSE,
    "short": "Too short a text to keep, with the words of it.",
    "tiny_words": " ".join(["a", "to", "of", "be", "is", "it", "an", "the", "or"] * 8) + ".",
    "long_words": " ".join(["extraordinarily", "incomprehensibility", "internationalization",
                            "counterrevolutionaries", "the", "of"] * 12) + ".",
    "hashes": PROSE + " ".join(f"#tag{i}" for i in range(20)) + "\n",
    "ellipsis": "Well... " * 20 + PROSE,
    "bullets": "".join(f"- item {i} with the list of things to bring and pack\n" for i in range(12)),
    "end_ellipsis": PROSE + "".join(f"and then the story goes on {i}...\n" for i in range(6)),
    "numbers": PROSE + " ".join(str(1000 + 7 * i) for i in range(90)) + "\n",
    "no_stop_words": " ".join(FILLER * 3) + ".",
    "russian": ("Река течёт через старый город и мимо рыночной площади. Каждое утро рыбаки "
                "приносят улов к прилавкам у моста. Дети идут в школу вдоль воды, а родители машут "
                "им из окон. ") * 3,
    "chinese": "这是一个关于河流和城市的测试文本。" * 10,
}


def test_gopher_quality_signals_match_python(render):
    got = run(render, QUALITY_DOCS)
    for doc_id, text in QUALITY_DOCS.items():
        expected = ref_gopher_quality(text)
        for column, value in expected.items():
            assert got[doc_id][column] == pytest.approx(value), (doc_id, column)


def test_gopher_quality_decisions_and_reasons(render):
    got = run(render, QUALITY_DOCS)
    expected_reasons = {
        "prose": None, "short": "gopher_short_doc", "tiny_words": "gopher_below_avg_threshold",
        "long_words": "gopher_above_avg_threshold", "hashes": "gopher_too_many_hashes",
        "ellipsis": "gopher_too_many_ellipsis", "bullets": "gopher_too_many_bullets",
        "end_ellipsis": "gopher_too_many_end_ellipsis", "numbers": "gopher_below_alpha_threshold",
        "no_stop_words": "gopher_enough_stop_words",
        # the stop words are English: non-English prose fails the last rule, as in datatrove
        "russian": "gopher_enough_stop_words", "chinese": "gopher_short_doc",
    }
    for doc_id, reason in expected_reasons.items():
        assert ref_gopher_quality_reason(ref_gopher_quality(QUALITY_DOCS[doc_id])) == reason, doc_id
        assert got[doc_id]["gopher_quality_reason"] == reason, doc_id
        assert got[doc_id]["gopher_quality_keep"] is (reason is None), doc_id


REPETITION_DOCS = {
    "prose": PROSE,
    # 3 paragraphs, one a copy: 1/3 of the paragraphs are duplicates
    "dup_paras": "First paragraph about the river.\n\nFirst paragraph about the river.\n\nAnother one.",
    # 1 duplicate in 5 paragraphs (0.2), but it holds most of the characters
    "dup_para_chars": (PROSE.split("\n\n")[0] + "\n\nA note.\n\n" + PROSE.split("\n\n")[0]
                       + "\n\nThe end of it all.\n\nOne more."),
    # one paragraph whose lines repeat: 2 duplicate lines of 5
    "dup_lines": "alpha line one\nbeta line two\nalpha line one\ngamma line three\nalpha line one",
    # 1 duplicate line in 4 (0.25) carrying most characters
    "dup_line_chars": "A very long line that carries most of the characters of the document here\n"
                      "short\nA very long line that carries most of the characters of the document here\nend",
    "top_2": "la la " * 40,
    "repeated_sentence": ("Local historians say that the first houses were built with stone from the hills. "
                          + " ".join(FILLER) + ". ") * 2,
    "russian": QUALITY_DOCS["russian"],
    "chinese": QUALITY_DOCS["chinese"],
}


def test_gopher_repetition_signals_match_python(render):
    got = run(render, REPETITION_DOCS)
    for doc_id, text in REPETITION_DOCS.items():
        for column, value in ref_gopher_repetition(text).items():
            assert got[doc_id][column] == pytest.approx(value), (doc_id, column)


def test_paragraphs_and_newline_runs_split_as_python_re_split(render):
    """gopher_paragraphs and gopher_newline_runs split with string_split, not a regular expression:
    element for element they must equal datatrove's re.split(r"\n{2,}", text.strip()) and
    re.split("\n+", text), on texts full of newline runs of every length, at both ends too."""
    pieces = ["a", "bb", "a", " ", "\t", "\n", "\n\n", "\n\n\n", "\n\n\n\n\n", "\r\n", "\u2028", " \n"]
    rng = random.Random(7)
    texts = ["", "\n", "\n\n", "\n\n\n", "a", "a\n", "\na", "  \n\n  ", "a\n\n\nb\n\n"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 25))) for _ in range(400)]
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (i INTEGER, text VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
        rows = con.execute(f"SELECT i, {render('gopher_paragraphs(' + chr(39) + 'text' + chr(39) + ')')}, "
                           f"{render('gopher_newline_runs(' + chr(39) + 'text' + chr(39) + ')')} FROM t").fetchall()
    finally:
        con.close()
    assert len(rows) == len(texts)
    for i, paragraphs, lines in rows:
        assert paragraphs == re.split(r"\n{2,}", texts[i].strip()), repr(texts[i])
        assert lines == re.split(r"\n+", texts[i]), repr(texts[i])


def test_gopher_repetition_decisions_and_reasons(render):
    got = run(render, REPETITION_DOCS)
    expected_reasons = {
        "prose": None, "dup_paras": "dup_para_frac", "dup_para_chars": "dup_para_char_frac",
        "dup_lines": "dup_line_frac", "dup_line_chars": "dup_line_char_frac", "top_2": "top_2_gram",
        "repeated_sentence": "duplicated_5_n_grams", "russian": "duplicated_5_n_grams", "chinese": "top_2_gram",
    }
    for doc_id, reason in expected_reasons.items():
        assert ref_gopher_repetition_reason(ref_gopher_repetition(REPETITION_DOCS[doc_id])) == reason, doc_id
        assert got[doc_id]["gopher_repetition_reason"] == reason, doc_id
        assert got[doc_id]["gopher_repetition_keep"] is (reason is None), doc_id


def test_ngram_fractions_on_seeded_documents_with_repeated_phrases(render):
    """Random documents built from repeated phrases: every n-gram signal and the decision."""
    rng = random.Random(7)
    vocab = [w.strip(",.") for w in PROSE.split()] + FILLER
    texts = {}
    for i in range(30):
        words = [rng.choice(vocab) for _ in range(rng.randrange(5, 150))]
        for _ in range(rng.randrange(0, 4)):  # copy a phrase of 2..15 words somewhere later
            start = rng.randrange(len(words))
            phrase = words[start:start + rng.randrange(2, 16)]
            at = rng.randrange(start, len(words) + 1)
            words[at:at] = phrase
        texts[f"r{i}"] = " ".join(words)
    got = run(render, texts)
    for doc_id, text in texts.items():
        expected = ref_gopher_repetition(text)
        for n in range(2, 11):
            column = f"gopher_top_{n}_gram_char_frac" if n <= 4 else f"gopher_dup_{n}_gram_char_frac"
            assert got[doc_id][column] == pytest.approx(expected[column]), (doc_id, column, text)
        assert got[doc_id]["gopher_repetition_reason"] == ref_gopher_repetition_reason(expected), doc_id


def _long_repetitive_documents(seed: int, count: int) -> dict[str, str]:
    """Code-like documents of a few thousand words from a small vocabulary, with many copied
    phrases: thousands of repeated n-grams, first occurrences jumped over by the
    find_all_duplicate scan, and lists of very different lengths in one batch."""
    rng = random.Random(seed)
    vocab = ["def", "return", "(", ")", ":", "self", "x", "=", "+", "1", "if", "else", "for", "in",
             "range", "n", ",", "print", "value", "None"]
    texts = {}
    for i in range(count):
        words = [rng.choice(vocab) for _ in range(rng.randrange(200, 4000))]
        for _ in range(rng.randrange(5, 60)):
            start = rng.randrange(len(words))
            phrase = words[start:start + rng.randrange(3, 25)]
            at = rng.randrange(len(words) + 1)
            words[at:at] = phrase
        texts[f"long{i}"] = " ".join(words)
    texts["short"] = "one two three four five six"
    texts["words_once"] = " ".join(f"w{i}" for i in range(300))
    return texts


def test_ngram_fractions_on_long_repetitive_documents(render):
    texts = _long_repetitive_documents(11, 12)
    got = run(render, texts, "gopher_repetition_filter('docs', all_signals=true)")
    for doc_id, text in texts.items():
        expected = ref_gopher_repetition(text)
        for n in range(2, 11):
            column = f"gopher_top_{n}_gram_char_frac" if n <= 4 else f"gopher_dup_{n}_gram_char_frac"
            assert got[doc_id][column] == pytest.approx(expected[column]), (doc_id, column)
        assert got[doc_id]["gopher_repetition_reason"] == ref_gopher_repetition_reason(expected), doc_id


def test_ngram_fractions_where_repeats_reach_the_end_of_the_document(render):
    """Level 3 reads the third word of a repeated 2-gram from the document's word list (vs[p + 3])
    and later levels from materialized columns: repeated n-grams that end at the last word, and
    documents shorter than the n-grams, must neither read past the end nor lose an occurrence."""
    texts = {
        "one": "a", "two": "a b", "abab": "a b a b", "aba": "a b a", "aaa": "a a a",
        "aaaa": "a a a a", "xyxyxy": "x y x y x y", "tail": "p q r s t u v w p q",
        "tail5": "p q r s t u v w x y z p q r s t", "run11": " ".join(["z"] * 11),
        "period10": " ".join("abcdefghij") * 2 + " a b c",
    }
    got = run(render, texts, "gopher_repetition_filter('docs', all_signals=true)")
    for doc_id, text in texts.items():
        expected = ref_gopher_repetition(text)
        for n in range(2, 11):
            column = f"gopher_top_{n}_gram_char_frac" if n <= 4 else f"gopher_dup_{n}_gram_char_frac"
            if expected[column] is None:
                assert got[doc_id][column] is None, (doc_id, column)
            else:
                assert got[doc_id][column] == pytest.approx(expected[column]), (doc_id, column)


GOPHER_REPETITION_RULES = ["gopher_dup_para_frac", "gopher_dup_para_char_frac", "gopher_dup_line_frac",
                           "gopher_dup_line_char_frac"] + [f"gopher_top_{n}_gram_char_frac" for n in (2, 3, 4)] \
    + [f"gopher_dup_{n}_gram_char_frac" for n in range(5, 11)]


def stopped_at_first_broken_rule(signals: dict, reason: str | None) -> dict:
    """What datatrove computes: the signals up to the rule that decides, none after it (the
    paragraph and line signals are always there: the word split comes after them)."""
    if reason is None or reason == "empty":
        return dict(signals) if reason is None else {**signals, **{c: None for c in GOPHER_REPETITION_RULES[4:]}}
    deciding = next(c for c in GOPHER_REPETITION_RULES
                    if (reason.startswith("dup_") and c == f"gopher_{reason}")
                    or (reason.startswith("top_") and c == f"gopher_{reason}_char_frac")
                    or (reason.startswith("duplicated_") and c == f"gopher_dup_{reason.split('_')[1]}_gram_char_frac"))
    after = GOPHER_REPETITION_RULES[max(GOPHER_REPETITION_RULES.index(deciding) + 1, 4):]
    return {**signals, **{c: None for c in after}}


def test_gopher_repetition_filter_stops_where_datatrove_stops(render):
    """By default the filter splits words only for documents the paragraph and line rules keep and
    stops a document's n-grams at the first n-gram rule it breaks: every signal up to the deciding
    rule equals the reference, every later one is NULL, and the decision is the all-signals one."""
    texts = {**REPETITION_DOCS, **_long_repetitive_documents(3, 30),
             "para_then_ngrams": "x y z w\n\nx y z w\n\nx y z w\n\nq r s t u v"}
    stopped = run(render, texts, "gopher_repetition_filter('docs')")
    complete = run(render, texts, "gopher_repetition_filter('docs', all_signals=true)")
    reasons = collections.Counter()
    for doc_id, text in texts.items():
        expected = ref_gopher_repetition(text)
        reason = ref_gopher_repetition_reason(expected)
        reasons[reason] += 1
        assert stopped[doc_id]["gopher_repetition_reason"] == reason == complete[doc_id]["gopher_repetition_reason"]
        for column, value in stopped_at_first_broken_rule(expected, reason).items():
            if value is None:
                assert stopped[doc_id][column] is None, (doc_id, column)
            else:
                assert stopped[doc_id][column] == pytest.approx(value), (doc_id, column)
    # the documents reach every kind of stop: a line rule, a top n-gram rule, a duplicated n-gram rule, none
    assert {"dup_para_frac", "top_2_gram", "duplicated_5_n_grams", None} <= set(reasons), reasons


def test_gopher_repetition_filter_takes_other_thresholds(render):
    """Thresholds passed to the filter move both its stops and its decisions: the same as the
    reason macro with those thresholds applied to every signal."""
    texts = {**REPETITION_DOCS, **_long_repetitive_documents(5, 20)}
    custom = "top_n_grams=((2, 0.3), (3, 0.3), (4, 0.3)), dup_n_grams=((5, 0.3), (10, 0.05)), dup_line_frac=0.5"
    stopped = run(render, texts, f"gopher_repetition_filter('docs', {custom})")
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE docs (doc_id VARCHAR, text VARCHAR)")
        con.executemany("INSERT INTO docs VALUES (?, ?)", list(texts.items()))
        expected = dict(con.execute(
            f"SELECT doc_id, {render('gopher_repetition_reason(' + custom + ')')} FROM "
            f"({render('gopher_repetition_filter(' + chr(39) + 'docs' + chr(39) + ', all_signals=true)')})").fetchall())
    finally:
        con.close()
    assert {d: r["gopher_repetition_reason"] for d, r in stopped.items()} == expected
    assert len(set(expected.values())) >= 3, expected


def test_ngram_signals_keep_documents_apart_and_do_not_depend_on_threads(render):
    """N-grams are keyed by document: two documents with the same text do not make each other's
    n-grams repeat. Results are the same with one and with two DuckDB threads."""
    texts = _long_repetitive_documents(5, 6)
    texts["twin_a"] = texts["twin_b"] = " ".join(f"w{i}" for i in range(40))
    results = []
    for threads in (1, 2):
        con = duckdb.connect()
        try:
            con.execute(f"SET threads = {threads}")
            con.execute("CREATE TABLE docs (doc_id VARCHAR, text VARCHAR)")
            con.executemany("INSERT INTO docs VALUES (?, ?)", list(texts.items()))
            for call in ("gopher_repetition_filter('docs')", "gopher_repetition_filter('docs', all_signals=true)"):
                results.append(sorted(con.execute(render(call)).fetchall()))
        finally:
            con.close()
    assert results[:2] == results[2:]
    got = run(render, texts, "gopher_repetition_filter('docs', all_signals=true)")
    for doc_id in ("twin_a", "twin_b"):
        assert got[doc_id]["gopher_dup_5_gram_char_frac"] == 0
        assert got[doc_id]["gopher_top_2_gram_char_frac"] == pytest.approx(len("w0 w1") / len(texts[doc_id]))


C4_DOCS = {
    "prose": PROSE,
    "lorem": PROSE + "Lorem ipsum dolor sit amet, consectetur.\n",
    "curly": PROSE + "The value of the field is {x} in this line.\n",
    # a "{" on a line that is dropped anyway (no terminal punctuation) is harmless
    "curly_dropped_line": PROSE + "function body { return x }\n",
    # 4 sentences plus a javascript line: too few
    "javascript": "".join(PROSE.splitlines(keepends=True)[:4]) + "Please enable JavaScript to view the page.\n",
    "policy": "".join(PROSE.splitlines(keepends=True)[:4]) + "Read our privacy policy before you go.\n",
    "citations": "".join(PROSE.splitlines(keepends=True)[:4]) + "The bridge is old.[1]\n",
    "two_sentences_a_line": "The sun rose. The birds sang.\nThe town woke up. People went out.\nThen it rained!\n",
    "few_words": "Yes.\nNo way.\nOkay then.\nFine, fine.\nSure thing!\nGood night.\n",
    "no_punct": "a line without an end\nanother line without one\n",
    "long_word": "".join(PROSE.splitlines(keepends=True)[:4]) + "x" * 1001 + " is a long word.\n",
}


def test_c4_sentences_and_decisions(render):
    got = run(render, C4_DOCS)
    expected_reasons = {
        "prose": None, "lorem": "lorem_ipsum", "curly": "curly_bracket", "curly_dropped_line": None,
        "javascript": "too_few_sentences", "policy": "too_few_sentences", "citations": None,
        "two_sentences_a_line": None, "few_words": "too_few_sentences", "no_punct": "too_few_sentences",
        "long_word": "too_few_sentences",
    }
    for doc_id, text in C4_DOCS.items():
        sentences, reason = ref_c4(text)
        assert reason == expected_reasons[doc_id], doc_id
        assert got[doc_id]["c4_quality_reason"] == reason, doc_id
        assert got[doc_id]["c4_quality_keep"] is (reason is None), doc_id
        if reason not in ("lorem_ipsum", "curly_bracket"):
            assert got[doc_id]["c4_sentence_count"] == sentences, doc_id
    assert got["javascript"]["c4_kept_line_count"] == 4
    assert got["javascript"]["c4_line_count"] == 5


FINEWEB_DOCS = {
    "prose": PROSE,
    "blank": "\n \n\t\n",
    "no_punct": "".join(f"a heading line number {i} without a full stop\n" for i in range(10)),
    "short_lines": "".join(f"Short line {i}.\n" for i in range(10)) + PROSE.splitlines()[0] + "\n",
    "dup_line": PROSE + PROSE.splitlines()[0] + "\n",
    "list": "".join(f"Supercalifragilisticexpialidocious{i}.\n" for i in range(10)),
}


def test_fineweb_signals_and_decisions(render):
    got = run(render, FINEWEB_DOCS)
    expected_reasons = {"prose": None, "blank": "empty", "no_punct": "line_punct_ratio",
                        "short_lines": "short_line_ratio", "dup_line": "char_dup_ratio", "list": "list_ratio"}
    for doc_id, text in FINEWEB_DOCS.items():
        signals, reason = ref_fineweb(text)
        assert reason == expected_reasons[doc_id], doc_id
        assert got[doc_id]["fineweb_quality_reason"] == reason, doc_id
        assert got[doc_id]["fineweb_quality_keep"] is (reason is None), doc_id
        for column, value in signals.items():
            assert got[doc_id][column] == pytest.approx(value), (doc_id, column)
    # the filter splits words only for the documents its line rules keep, as datatrove does
    stopped = run(render, FINEWEB_DOCS, "fineweb_quality_filter('docs')")
    for doc_id, reason in expected_reasons.items():
        assert stopped[doc_id]["fineweb_quality_reason"] == reason, doc_id
        if reason in (None, "list_ratio"):
            assert stopped[doc_id]["fineweb_list_ratio"] == pytest.approx(got[doc_id]["fineweb_list_ratio"]), doc_id
        else:
            assert stopped[doc_id]["fineweb_list_ratio"] is None, doc_id


def test_edge_cases_never_crash_and_drop(render):
    huge = " ".join(f"w{i}" for i in range(100_001))  # one line, 100,001 distinct words
    texts = {"empty": "", "null": None, "spaces": "   \n\t \u3000 \n", "huge": huge,
             "nbsp_only": "\u00a0\u2003\u00a0"}
    got = run(render, texts)
    for doc_id in texts:
        for name in FILTERS:
            # datatrove's repetition filter only rejects the empty string: whitespace has no
            # duplicate and no n-gram, so it passes
            kept = name == "gopher_repetition" and doc_id in ("spaces", "nbsp_only", "huge")
            assert got[doc_id][f"{name}_keep"] is kept, (doc_id, name)
    assert got["empty"]["gopher_repetition_reason"] == "empty"
    assert got["null"]["gopher_repetition_reason"] == "empty" and got["null"]["text_length"] == 0
    assert got["spaces"]["fineweb_quality_reason"] == "empty"
    assert got["spaces"]["gopher_quality_reason"] == "gopher_short_doc"
    assert got["huge"]["gopher_word_count"] == 100_001
    assert got["huge"]["gopher_quality_reason"] == "gopher_long_doc"
    assert got["huge"]["c4_line_count"] == 1 and got["huge"]["c4_quality_reason"] == "too_few_sentences"
    for column, value in ref_gopher_repetition(huge).items():
        assert got["huge"][column] == pytest.approx(value), column


def test_each_filter_macro_matches_the_all_in_one_query(render):
    """With all_signals=true each filter macro returns exactly heuristic_signals()' columns; by
    default the same decisions, a signal being NULL only where the filter had already decided."""
    texts = {**QUALITY_DOCS, **REPETITION_DOCS, **C4_DOCS, **FINEWEB_DOCS}
    texts = {f"{i}": t for i, t in enumerate(texts.values())}
    everything = run(render, texts)
    skipped = collections.Counter()
    for name in FILTERS:
        complete = run(render, texts, f"{name}_filter('docs', all_signals=true)")
        stopped = run(render, texts, f"{name}_filter('docs')")
        assert set(complete) == set(stopped) == set(everything)
        for doc_id in everything:
            assert list(complete[doc_id]) == list(stopped[doc_id])
            for column, value in complete[doc_id].items():
                assert everything[doc_id][column] == pytest.approx(value), (name, doc_id, column)
                if stopped[doc_id][column] is None and value is not None:
                    assert everything[doc_id][f"{name}_reason"] is not None, (name, doc_id, column)
                    skipped[name] += 1
                else:
                    assert stopped[doc_id][column] == pytest.approx(value), (name, doc_id, column)
    # only the filters whose word split or n-grams come after rules that can decide skip anything
    assert set(skipped) == {"gopher_repetition", "fineweb_quality"}, skipped


def test_custom_id_and_text_columns(render):
    con = duckdb.connect()
    con.execute("CREATE TABLE pages (page_no INTEGER, body VARCHAR)")
    con.execute("INSERT INTO pages VALUES (1, ?), (2, 'tiny')", [PROSE])
    rows = con.execute(render("heuristic_signals('pages', id_column='page_no', text_column='body')")
                       + " ORDER BY doc_id").fetchall()
    con.close()
    assert [r[0] for r in rows] == [1, 2]


# --- the model, through the CLI ---------------------------------------------------------------

def _documents_model(texts: dict[str, str]) -> str:
    rows = ",\n  ".join("('{}', '{}')".format(k, v.replace("'", "''")) for k, v in texts.items())
    return f"select * from (values\n  {rows}\n) as t(doc_id, text)\n"


def test_heuristic_signals_model_runs_incrementally(tmp_path):
    from test_engine_support import cli, query, write_project

    root = write_project(tmp_path / "p", {"models/documents.sql": _documents_model({"a": PROSE, "b": "tiny"})})
    shutil.copytree(REPO / "macros" / "heuristics", root / "macros" / "heuristics")
    (root / "models" / "heuristic_signals.sql").write_text(
        (REPO / "models" / "scores" / "heuristic_signals.sql").read_text(encoding="utf-8"))
    cli(root, "run")
    assert query(root, "select doc_id, gopher_quality_keep, c4_quality_keep, fineweb_quality_keep, "
                       "gopher_repetition_keep from heuristic_signals order by doc_id") == [
        ("a", True, True, True, True), ("b", False, False, False, True)]
    (root / "models" / "documents.sql").write_text(
        _documents_model({"a": PROSE, "b": "tiny", "c": QUALITY_DOCS["bullets"]}))
    cli(root, "run")
    assert query(root, "select doc_id, gopher_quality_reason from heuristic_signals order by doc_id") == [
        ("a", None), ("b", "gopher_short_doc"), ("c", "gopher_too_many_bullets")]


# spaCy's blank English tokenizer (datatrove's word tokenizer) on these, written out by hand
SPACY_TOKENS = {
    "hindi": ("नमस्ते दुनिया, यह एक परीक्षण है।", ["नमस्ते", "दुनिया", ",", "यह", "एक", "परीक्षण", "है", "।"]),
    "zwnj": ("ویکی\u200cپدیا", ["ویکی\u200cپدیا"]),
    "clitics": ("It's 'Eight' they'll go.", ["It", "'s", "'", "Eight", "'", "they", "'ll", "go", "."]),
    "ellipsis": ("Wait... what?", ["Wait", "...", "what", "?"]),
    "url": ("See https://example.com/a?b=1 now.", ["See", "https://example.com/a?b=1", "now", "."]),
    "numbers": ("Pi is 3.14 and 1,000 more.", ["Pi", "is", "3.14", "and", "1,000", "more", "."]),
}
SYMBOLS = {",", ".", "?", "'", "...", "।"}


def test_word_tokens_follow_spacy_on_marks_clitics_urls_and_numbers(render):
    got = run(render, {k: text for k, (text, _) in SPACY_TOKENS.items()})
    for doc_id, (_, tokens) in SPACY_TOKENS.items():
        words = [t for t in tokens if t not in SYMBOLS]
        assert got[doc_id]["gopher_token_count"] == len(tokens), doc_id
        assert got[doc_id]["gopher_word_count"] == len(words), doc_id
        assert got[doc_id]["gopher_mean_word_length"] == pytest.approx(sum(map(len, words)) / len(words)), doc_id
