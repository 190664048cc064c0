"""Heuristic filters in SQL against datatrove's Python filters, on the same real documents.

    python -m bench.heuristics            # every document of ../shared/data/corpus
    python -m bench.heuristics --quick    # a seeded 5,000-document sample

Both sides run on ONE thread (DuckDB `SET threads = 1`; datatrove's filters are plain Python
loops). datatrove is the baseline measured in the same run: the printed ratio is
SQL documents/s over datatrove documents/s. Also printed: how often the keep/drop decisions agree,
per filter, and which reason pairs the disagreements come from.

datatrove (and spaCy, which its English word tokenizer uses: a blank pipeline, no model download)
is a benchmark-only dependency: `pip install datatrove spacy`.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import random
import sys
import time
from pathlib import Path

import duckdb
import jinja2
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
MACRO_DIR = REPO / "macros" / "heuristics"
CORPUS_DIR = Path("..") / "shared" / "data" / "corpus"
FILTERS = ("gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality")


def load_corpus(corpus_dir: Path, sample: int | None, seed: int) -> list[dict]:
    docs = []
    for path in sorted(corpus_dir.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                docs.append({"doc_id": str(record["id"]), "text": record["text"], "source": record["source"]})
    if sample and sample < len(docs):
        docs = random.Random(seed).sample(docs, sample)
    return docs


def render_heuristics_sql(relation: str) -> str:
    """The model's query, rendered with a plain Jinja environment from the macro files."""
    macros = "".join(p.read_text(encoding="utf-8") for p in sorted(MACRO_DIR.rglob("*.sql")))
    return jinja2.Environment().from_string(macros + f"{{{{ heuristic_signals('{relation}') }}}}").render()


def run_sql(docs: list[dict], threads: int) -> tuple[float, dict[str, dict]]:
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    table = pa.table({"doc_id": [d["doc_id"] for d in docs], "text": [d["text"] for d in docs]})
    con.register("docs_arrow", table)
    con.execute("CREATE TABLE documents AS SELECT * FROM docs_arrow")
    sql = render_heuristics_sql("documents")
    start = time.perf_counter()
    con.execute(f"CREATE TABLE heuristic_signals AS {sql}")
    seconds = time.perf_counter() - start
    columns = ["doc_id"] + [f"{f}_reason" for f in FILTERS]
    rows = con.execute(f"SELECT {', '.join(columns)} FROM heuristic_signals").fetchall()
    return seconds, {r[0]: dict(zip(columns[1:], r[1:])) for r in rows}


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


def run_datatrove(docs: list[dict]) -> tuple[dict[str, float], dict[str, dict]]:
    from datatrove.data import Document

    seconds, reasons = {}, collections.defaultdict(dict)
    for name, flt in datatrove_filters().items():
        # A fresh Document per call: C4QualityFilter rewrites doc.text in place.
        fresh = [Document(text=d["text"], id=d["doc_id"]) for d in docs]
        start = time.perf_counter()
        for doc in fresh:
            try:
                verdict = flt.filter(doc)
            except ZeroDivisionError:  # e.g. FineWeb's list ratio on a text with no words
                verdict = (False, "error")
            reasons[doc.id][f"{name}_reason"] = None if verdict is True else verdict[1]
        seconds[name] = time.perf_counter() - start
    return seconds, reasons


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 5,000-document sample")
    parser.add_argument("--sample", type=int, default=None, help="documents to sample (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    parser.add_argument("--show", type=int, default=4, help="disagreement examples to print per filter")
    args = parser.parse_args(argv)
    sample = args.sample or (5000 if args.quick else None)
    if not args.corpus.is_dir():
        sys.exit(f"corpus not found at {args.corpus} (run from the repository root)")
    docs = load_corpus(args.corpus, sample, args.seed)
    n_chars = sum(len(d["text"]) for d in docs)
    print(f"{len(docs)} documents, {n_chars / 1e6:.1f} M characters; one thread on each side")

    sql_seconds, sql_reasons = run_sql(docs, threads=1)
    dt_seconds, dt_reasons = run_datatrove(docs)
    by_source = {d["doc_id"]: d["source"] for d in docs}

    dt_total = sum(dt_seconds.values())
    print("\nthroughput (documents/s, 1 thread)")
    print(f"  SQL, all signals + 4 decisions in one query: {len(docs) / sql_seconds:10.0f}  ({sql_seconds:.1f} s)")
    for name in FILTERS:
        print(f"  datatrove {name:<18}               {len(docs) / dt_seconds[name]:10.0f}  ({dt_seconds[name]:.1f} s)")
    print(f"  datatrove, 4 filters one after another:     {len(docs) / dt_total:10.0f}  ({dt_total:.1f} s)")
    print(f"  ratio SQL / datatrove (4 filters):          {dt_total / sql_seconds:10.1f}x")

    print("\ndecision agreement (keep/drop)")
    for name in FILTERS:
        key = f"{name}_reason"
        pairs = collections.Counter()
        per_source = collections.Counter()
        agree = 0
        examples = []
        for doc_id, dt in dt_reasons.items():
            mine, theirs = sql_reasons[doc_id][key], dt[key]
            if (mine is None) == (theirs is None):
                agree += 1
            else:
                pairs[(theirs or "keep", mine or "keep")] += 1
                per_source[by_source[doc_id]] += 1
                examples.append(doc_id)
        reason_match = sum(sql_reasons[i][key] == dt[key] for i, dt in dt_reasons.items())
        print(f"  {name:<18} {agree / len(docs):7.2%}  ({len(docs) - agree} differ; same reason too: {reason_match / len(docs):.2%})")
        for (theirs, mine), count in pairs.most_common(6):
            print(f"      datatrove {theirs:<28} SQL {mine:<28} {count}")
        if per_source:
            print("      by source: " + ", ".join(f"{s} {c}" for s, c in per_source.most_common(6)))
        for doc_id in examples[: args.show]:
            print(f"      e.g. {doc_id}")


if __name__ == "__main__":
    main()
