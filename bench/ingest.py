"""Benchmark: `ingest_source` vs DuckDB's own `read_json` on the same JSON Lines files.

    python -m bench.ingest            # >= 1,000,000 documents (about 1 GB of JSON Lines)
    python -m bench.ingest --quick    # 100,000 documents
    python -m bench.ingest --docs 2000000 --gzip

The corpus is built from the development corpus at ../shared/data/corpus (relative to the
repository root) by repeating every document with a unique id and a perturbed text (a window
of the original starting at a copy-dependent offset), written once to bench/out/ingest/ and
reused. Both readers run in the same process on the same files against a file-backed DuckDB
database; the baseline only parses and stores, it does no validation, quarantine or dedup.
"""

from __future__ import annotations

import argparse
import gzip
import json
import pathlib
import time

import duckdb

from quadmix_wh.ingest import ingest_source

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / ".." / "shared" / "data" / "corpus"
OUT = REPO_ROOT / "bench" / "out" / "ingest"
SHARDS = 8
WINDOW = 1500  # characters kept per perturbed copy: keeps 1M documents near 1 GB


def load_seed_documents() -> list[dict]:
    docs = []
    for path in sorted(CORPUS.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            docs.extend(json.loads(line) for line in handle)
    if not docs:
        raise SystemExit(f"no corpus found at {CORPUS}")
    return docs


def perturbed(doc: dict, copy: int) -> dict:
    text = doc["text"]
    start = (copy * 7919) % max(1, len(text) - WINDOW) if len(text) > WINDOW else 0
    return {"id": f"{doc['id']}~{copy}", "text": text[start : start + WINDOW] or text,
            "source": doc["source"], "license": doc.get("license"), "meta": doc.get("meta", {})}


def build_corpus(n_docs: int, compress: bool) -> list[pathlib.Path]:
    folder = OUT / f"{n_docs}{'-gz' if compress else ''}"
    suffix = ".jsonl.gz" if compress else ".jsonl"
    files = [folder / f"part-{i:02d}{suffix}" for i in range(SHARDS)]
    if (folder / "DONE").exists():
        return files
    folder.mkdir(parents=True, exist_ok=True)
    seeds = load_seed_documents()
    opener = (lambda p: gzip.open(p, "wt", encoding="utf-8", compresslevel=1)) if compress else (
        lambda p: open(p, "w", encoding="utf-8"))
    handles = [opener(p) for p in files]
    for i in range(n_docs):
        doc = perturbed(seeds[i % len(seeds)], i // len(seeds))
        handles[i % SHARDS].write(json.dumps(doc, ensure_ascii=False) + "\n")
    for handle in handles:
        handle.close()
    (folder / "DONE").write_text("ok\n")
    return files


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run_baseline(con, files) -> int:
    names = [str(p) for p in files]
    con.execute("CREATE OR REPLACE TABLE baseline AS SELECT * FROM read_json(?, format='newline_delimited')",
                [names])
    return con.execute("SELECT count(*) FROM baseline").fetchall()[0][0]


def run_ingest(con, files) -> int:
    spec = {"source_name": "bench", "name": "docs", "format": "jsonl",
            "path": [p.relative_to(REPO_ROOT).as_posix() for p in files]}
    report = ingest_source(con, spec, REPO_ROOT, "docs")
    assert report.rows_quarantined == 0, report.by_reason
    return report.rows_loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 documents")
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--gzip", action="store_true", help="gzip the shards (level 1)")
    args = parser.parse_args()
    n_docs = 100_000 if args.quick else args.docs

    build_s, files = timed(lambda: build_corpus(n_docs, args.gzip))
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    print(f"corpus: {n_docs:,} docs in {len(files)} files, {megabytes:,.1f} MB on disk (built/reused in {build_s:.1f}s)")

    db = OUT / "bench.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    print(f"duckdb threads: {con.execute('SELECT current_setting(' + repr('threads') + ')').fetchall()[0][0]}")
    base_s, base_rows = timed(lambda: run_baseline(con, files))
    ours_s, our_rows = timed(lambda: run_ingest(con, files))
    assert base_rows == our_rows == n_docs, (base_rows, our_rows)
    for label, seconds in (("read_json (baseline)", base_s), ("ingest_source", ours_s)):
        print(f"{label:22s} {seconds:7.2f} s  {n_docs / seconds:12,.0f} docs/s  {megabytes / seconds:8.1f} MB/s")
    print(f"ratio ingest_source / read_json throughput: {base_s / ours_s:.2f}x")
    con.close()
    db.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
