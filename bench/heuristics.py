"""Heuristic filters in SQL (macros/heuristics/) against datatrove's Python filters, same documents.

    python -m bench.heuristics                 # every shippable document of ../shared/data/corpus
    python -m bench.heuristics --sample 3000   # a seeded sample
    python -m bench.heuristics --all-sources   # also the tests-and-benchmarks-only files
    python -m bench.heuristics --filters gopher_repetition   # time and compare only these filters

The SQL is rendered by the project's own engine (quadmix_wh.rendering.Renderer over the
repository's macros), exactly as models/scores/heuristic_signals.sql gets it.

Both sides run on ONE thread (DuckDB `SET threads = 1`; datatrove's filters are plain Python
loops), on the same documents, in the same process and run. Printed per filter: SQL documents/s
for the filter macro as datatrove runs its filter (stopping at the first broken rule) and with
all_signals=true (every signal of every document), datatrove documents/s for the filter, the
ratios, and how often the keep/drop decisions agree (plus the reason pairs of the
disagreements). The throughput table is printed on wall-clock time and on this process's CPU
time (which leaves out the time a shared machine gives the core to others), each for the best of
--repeat SQL runs (default 3: the steady state) and for the first SQL run alone (cold: it also
faults in fresh memory). datatrove runs once per filter: one pass over the corpus takes it
minutes, which amortizes its own warm-up (the spaCy pipeline is built before the timing). Also
printed: the SQL query that computes all four signal sets at once (what the model runs).

datatrove and spaCy (its English word tokenizer: a blank pipeline, no model download) are
benchmark-only dependencies, never the project's. Install them in a separate environment that
can also import the project, e.g.:

    python3.11 -m venv /tmp/dtvenv
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/dtvenv/lib/python3.11/site-packages/project.pth
    /tmp/dtvenv/bin/pip install datatrove spacy
    /tmp/dtvenv/bin/python -m bench.heuristics

Without datatrove the benchmark still times the SQL side and says why the comparison is missing.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import platform
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO.parent / "shared" / "data"
FILTERS = ("gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality")


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds and this process's CPU seconds (user + system) for one measurement.
    Both sides run on one thread of this process, so CPU time leaves out only the time the
    machine gave the core to someone else (one series of the same query: 6.2-10.5 s wall,
    5.8-7.3 s user). A shared host that slows the work itself shows in both clocks
    (docs/HEURISTICS.md)."""
    wall: float
    cpu: float


class Stopwatch:
    """with Stopwatch() as watch: ...; then watch.timing."""

    def __enter__(self) -> "Stopwatch":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.timing = Timing(time.perf_counter() - self._wall, time.process_time() - self._cpu)


def shippable_sources(data_dir: Path) -> set[str]:
    """File stems whose 'may ship inside the product' column in the data README starts with yes."""
    ship = set()
    for line in (data_dir / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[0].startswith("corpus/"):
            if cells[-1].lower().startswith("yes"):
                ship.add(Path(cells[0]).name.split(".")[0])
    return ship


def load_corpus(data_dir: Path, sample: int | None, seed: int, all_sources: bool) -> list[dict]:
    keep = None if all_sources else shippable_sources(data_dir)
    docs = []
    for path in sorted((data_dir / "corpus").glob("*.jsonl.gz")):
        if keep is not None and path.name.split(".")[0] not in keep:
            continue
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                docs.append({"doc_id": str(record["id"]), "text": record["text"], "source": record["source"]})
    if sample and sample < len(docs):
        docs = random.Random(seed).sample(docs, sample)
    return docs


def render(call: str) -> str:
    """Render a macro call with the project's engine (the repository's project and macros)."""
    from quadmix_wh.project import load_project
    from quadmix_wh.rendering import Renderer

    renderer = Renderer(load_project(REPO), {})
    return renderer.env.from_string("{{ " + call + " }}").render()


def run_sql(docs: list[dict], threads: int, repeat: int, filters: tuple[str, ...] = FILTERS
            ) -> tuple[dict[str, Timing], dict[str, Timing], dict[str, dict]]:
    """Timings per query (wall and CPU): the best of `repeat` runs and the first run alone, and
    each document's reasons: from the all-in-one query when every filter runs, else (a subset, no
    all-in-one query) from each filter's own query. The first run of a query in a fresh process
    also pays for faulting in the memory DuckDB's allocator has not mapped yet (0.5-2 s of system
    time on the corpus, measured); the best of several is the steady state of a warehouse process
    that filters batch after batch."""
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    table = pa.table({"doc_id": [d["doc_id"] for d in docs], "text": [d["text"] for d in docs]})
    con.register("docs_arrow", table)
    con.execute("CREATE TABLE documents AS SELECT * FROM docs_arrow")
    con.unregister("docs_arrow")
    # Each filter twice: as datatrove runs it (its default: stop at the first broken rule, see
    # macros/heuristics/heuristic_signals.sql) and computing every signal (all_signals=true).
    queries = {name: render(f"{name}_filter('documents')") for name in filters}
    queries.update({f"{name}_all": render(f"{name}_filter('documents', all_signals=true)") for name in filters})
    everything = tuple(filters) == FILTERS
    if everything:
        queries["all"] = render("heuristic_signals('documents')")
    seconds, first = {}, {}
    for name, sql in queries.items():
        runs = []
        for _ in range(repeat):
            con.execute("DROP TABLE IF EXISTS out")
            with Stopwatch() as watch:
                con.execute(f"CREATE TABLE out AS {sql}")
            runs.append(watch.timing)
        seconds[name] = Timing(min(r.wall for r in runs), min(r.cpu for r in runs))
        first[name] = runs[0]
        if not everything:
            con.execute(f"DROP TABLE IF EXISTS out_{name}")
            con.execute(f"ALTER TABLE out RENAME TO out_{name}")
    if not everything:
        reasons = collections.defaultdict(dict)
        for name in filters:
            for doc_id, reason in con.execute(f"SELECT doc_id, {name}_reason FROM out_{name}").fetchall():
                reasons[doc_id][f"{name}_reason"] = reason
        con.close()
        return seconds, first, dict(reasons)
    columns = ["doc_id"] + [f"{f}_reason" for f in FILTERS]
    rows = con.execute(f"SELECT {', '.join(columns)} FROM out").fetchall()
    # Each filter's own query, both ways, must decide exactly as the all-in-one query does.
    for name in FILTERS:
        for variant in (name, f"{name}_all"):
            con.execute("DROP TABLE IF EXISTS one")
            con.execute(f"CREATE TABLE one AS {queries[variant]}")
            differ = con.execute(f"SELECT count(*) FROM one JOIN out USING (doc_id) "
                                 f"WHERE one.{name}_reason IS DISTINCT FROM out.{name}_reason").fetchall()[0][0]
            if differ:
                sys.exit(f"BUG: {variant} and heuristic_signals() disagree on {differ} documents")
    con.close()
    return seconds, first, {r[0]: dict(zip(columns[1:], r[1:])) for r in rows}


def datatrove_filters():
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return {
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "c4_quality": C4QualityFilter(),
        "fineweb_quality": FineWebQualityFilter(),
    }


def datatrove_unavailable() -> str | None:
    """Why the datatrove side cannot run here, or None when it can."""
    try:
        import datatrove  # noqa: F401
    except ImportError as exc:
        return (f"datatrove is not importable ({exc}); it is a benchmark-only dependency: "
                "install it with spaCy in a separate venv (see this module's docstring)")
    try:
        import spacy  # noqa: F401
    except ImportError as exc:
        return f"spaCy is not importable ({exc}); datatrove's English word tokenizer needs it"
    return None


def run_datatrove(docs: list[dict], filters: tuple[str, ...] = FILTERS) -> tuple[dict[str, Timing], dict[str, dict]]:
    from datatrove.data import Document
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    load_word_tokenizer("en").word_tokenize("warm up")  # build the spaCy pipeline outside the timing
    seconds, reasons = {}, collections.defaultdict(dict)
    for name, flt in datatrove_filters().items():
        if name not in filters:
            continue
        # A fresh Document per call: C4QualityFilter rewrites doc.text in place.
        fresh = [Document(text=d["text"], id=d["doc_id"]) for d in docs]
        with Stopwatch() as watch:
            for doc in fresh:
                try:
                    verdict = flt.filter(doc)
                except ZeroDivisionError:  # FineWeb's list ratio on a text whose lines hold no word
                    verdict = (False, "error:ZeroDivisionError")
                reasons[doc.id][f"{name}_reason"] = None if verdict is True else verdict[1]
        seconds[name] = watch.timing
    return seconds, reasons


def tokenizer_check(docs: list[dict], dt_reasons: dict[str, dict]) -> dict[str, float]:
    """Gopher quality and repetition decisions of the SQL rules fed with spaCy's own tokens
    (datatrove's word tokenizer) instead of hx_words: what is left is not tokenization."""
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    tokenizer = load_word_tokenizer("en")
    con = duckdb.connect()
    con.register("fed", pa.table({"doc_id": [d["doc_id"] for d in docs], "text": [d["text"] for d in docs],
                                  "words": [tokenizer.word_tokenize(d["text"]) for d in docs]}))
    con.execute("CREATE TABLE t AS SELECT doc_id, text, length(text) AS text_length, words, "
                + render("hx_splitlines('text')") + " AS lines FROM fed")
    sql = f"""
        WITH s AS (SELECT doc_id, text_length, {render("gopher_quality_signals('text', 'words', 'lines')")},
                     {render("gopher_repetition_line_signals('text_length', gopher_paragraphs('text'), gopher_newline_runs('text'))")}
                   FROM t),
        n AS ({render("gopher_ngram_signals('t', 'doc_id', 'words', 'text_length')")})
        SELECT doc_id, {render("gopher_quality_reason()")}, {render("gopher_repetition_reason()")}
        FROM (SELECT s.*, n.* EXCLUDE (doc_id) FROM s JOIN n USING (doc_id))"""
    rows = con.execute(sql).fetchall()
    con.close()
    result = {}
    for k, name in ((1, "gopher_quality"), (2, "gopher_repetition")):
        same = sum((r[k] is None) == (dt_reasons[r[0]][f"{name}_reason"] is None) for r in rows)
        result[name] = same / len(rows)
    return result


def agreement(docs, sql_reasons, dt_reasons, show: int, filters: tuple[str, ...] = FILTERS) -> dict[str, dict]:
    by_id = {d["doc_id"]: d for d in docs}
    report = {}
    for name in filters:
        key = f"{name}_reason"
        pairs, per_source, examples = collections.Counter(), collections.Counter(), []
        agree = same_reason = 0
        for doc_id, dt in dt_reasons.items():
            mine, theirs = sql_reasons[doc_id][key], dt[key]
            same_reason += mine == theirs
            if (mine is None) == (theirs is None):
                agree += 1
            else:
                pairs[(theirs or "keep", mine or "keep")] += 1
                per_source[by_id[doc_id]["source"]] += 1
                examples.append(doc_id)
        report[name] = {
            "agree": agree / len(dt_reasons), "differ": len(dt_reasons) - agree,
            "same_reason": same_reason / len(dt_reasons),
            "kept_datatrove": sum(dt[key] is None for dt in dt_reasons.values()),
            "kept_sql": sum(sql_reasons[i][key] is None for i in dt_reasons),
            "pairs": [[t, m, c] for (t, m), c in pairs.most_common(8)],
            "by_source": dict(per_source.most_common()),
            "examples": examples[:show],
        }
    return report


def print_throughput(n: int, sql_seconds: dict[str, float], dt_seconds: dict[str, float],
                     filters: tuple[str, ...]) -> None:
    """One table of documents/s and ratios, from seconds on one clock."""
    print(f"  {'filter':<20}{'SQL':>10}{'all signals':>13}{'datatrove':>12}{'ratio':>9}{'all signals':>13}")
    for name in filters:
        sql_rate, all_signals_rate = n / sql_seconds[name], n / sql_seconds[f"{name}_all"]
        if name in dt_seconds:
            dt_rate = n / dt_seconds[name]
            print(f"  {name:<20}{sql_rate:10.0f}{all_signals_rate:13.0f}{dt_rate:12.0f}"
                  f"{sql_rate / dt_rate:8.1f}x{all_signals_rate / dt_rate:12.1f}x")
        else:
            print(f"  {name:<20}{sql_rate:10.0f}{all_signals_rate:13.0f}{'-':>12}{'-':>9}{'-':>13}")
    all_rate = n / sql_seconds["all"] if "all" in sql_seconds else None  # None: a --filters subset
    if all_rate is not None and dt_seconds:
        dt_all = n / sum(dt_seconds.values())
        print(f"  {'all four':<20}{'':>10}{all_rate:13.0f}{dt_all:12.0f}{'':>9}{all_rate / dt_all:12.1f}x"
              "   (SQL: heuristic_signals(), one query; datatrove: the 4 filters one after another)")
    elif all_rate is not None:
        print(f"  {'all four':<20}{'':>10}{all_rate:13.0f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=None, help="documents to sample (default: all)")
    parser.add_argument("--quick", action="store_true", help="same as --sample 3000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the shared data folder")
    parser.add_argument("--all-sources", action="store_true",
                        help="also the files that may not ship (tests and benchmarks only)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="SQL timings: best of this many runs (the first run is printed too)")
    parser.add_argument("--show", type=int, default=4, help="disagreement examples to print per filter")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    parser.add_argument("--filters", nargs="+", choices=FILTERS, default=list(FILTERS),
                        help="time and compare only these filters (default: all four, plus the all-in-one query)")
    parser.add_argument("--tokens-check", action="store_true",
                        help="also run the Gopher rules in SQL on spaCy's tokens (separates tokenizer from rule differences)")
    args = parser.parse_args(argv)
    sample = args.sample or (3000 if args.quick else None)
    filters = tuple(name for name in FILTERS if name in args.filters)
    if not (args.data / "corpus").is_dir():
        sys.exit(f"corpus not found at {args.data / 'corpus'} (the shared folder sits beside the repository)")
    docs = load_corpus(args.data, sample, args.seed, args.all_sources)
    n_chars = sum(len(d["text"]) for d in docs)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}; {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"duckdb {duckdb.__version__}")
    print(f"{len(docs)} documents ({'all sources' if args.all_sources else 'shippable sources'}), "
          f"{n_chars / 1e6:.1f} M characters; one thread on each side")

    sql_seconds, sql_first, sql_reasons = run_sql(docs, threads=1, repeat=args.repeat, filters=filters)
    why_not = datatrove_unavailable()
    if why_not:
        print(f"\nNO DATATROVE COMPARISON: {why_not}")
        dt_seconds, dt_reasons = {}, {}
    else:
        dt_seconds, dt_reasons = run_datatrove(docs, filters)

    n = len(docs)
    print("\nthroughput, documents/s on 1 thread. SQL: the filter macro, which stops at the first broken")
    print("rule as datatrove does (no word split after a line rule drops a text, no n-grams after the")
    print("first broken n-gram rule); 'all signals': the same macro with all_signals=true")
    runs = [(sql_seconds, f"best of {args.repeat} SQL runs")]
    if args.repeat > 1:  # with one run, the first run is the best run
        runs.append((sql_first, "first SQL run"))
    for clock, label in (("wall", "wall-clock time"), ("cpu", "process CPU time (user + system)")):
        for timings, which in runs:
            print(f"\n  on {label}, {which}")
            print_throughput(n, {k: getattr(t, clock) for k, t in timings.items()},
                             {k: getattr(t, clock) for k, t in dt_seconds.items()}, filters)

    report = {}
    if dt_reasons:
        report = agreement(docs, sql_reasons, dt_reasons, args.show, filters)
        print("\ndecision agreement (keep/drop) with datatrove")
        for name in filters:
            r = report[name]
            print(f"  {name:<18} {r['agree']:8.2%}  ({r['differ']} differ; same reason too: {r['same_reason']:.2%}; "
                  f"kept: datatrove {r['kept_datatrove']}, SQL {r['kept_sql']})")
            for theirs, mine, count in r["pairs"]:
                print(f"      datatrove {theirs:<28} SQL {mine:<28} {count}")
            if r["by_source"]:
                print("      by source: " + ", ".join(f"{s} {c}" for s, c in r["by_source"].items()))
            for doc_id in r["examples"]:
                print(f"      e.g. {doc_id}")
    if dt_reasons and args.tokens_check and not {"gopher_quality", "gopher_repetition"} <= set(filters):
        print("\n--tokens-check needs both Gopher filters in --filters; skipped")
    elif dt_reasons and args.tokens_check:
        report["with_spacy_tokens"] = tokenizer_check(docs, dt_reasons)
        print("\nSQL rules fed with spaCy's tokens (datatrove's tokenizer) instead of hx_words:")
        for name, rate in report["with_spacy_tokens"].items():
            print(f"  {name:<18} {rate:8.2%} agreement")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "when": when, "documents": n, "characters": n_chars, "all_sources": args.all_sources,
            "sql_repeat": args.repeat,
            "sql_docs_per_s": {k: n / v.wall for k, v in sql_seconds.items()},
            "sql_first_run_docs_per_s": {k: n / v.wall for k, v in sql_first.items()},
            "datatrove_docs_per_s": {k: n / v.wall for k, v in dt_seconds.items()},
            "sql_docs_per_cpu_s": {k: n / v.cpu for k, v in sql_seconds.items()},
            "datatrove_docs_per_cpu_s": {k: n / v.cpu for k, v in dt_seconds.items()},
            "datatrove_missing": why_not, "agreement": report}, indent=2))


if __name__ == "__main__":
    main()
