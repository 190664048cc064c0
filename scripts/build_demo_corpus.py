"""Build the demo corpus shipped in data/demo/ from the shippable rows of the shared corpus.

Usage (from the repository root):

    python scripts/build_demo_corpus.py            # reads ../shared/data/corpus
    python scripts/build_demo_corpus.py --corpus PATH --out data/demo

Deterministic: documents are chosen in the order of the SHA-256 of their id until a per-source
character budget is spent, files are written sorted by id as gzip with a zero timestamp, so the
same input always gives byte-identical files.

Only files whose licence allows shipping are read (see ../shared/data/README.md); news_bbc,
code_c and forum_toxic are research/test-only and are never included. Part of the reference
text (encyclopedic, literature, tech docs, academic) is held out as the proxy-model evaluation
target, data/demo/target/target_reference.jsonl.gz, disjoint from the training candidates.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import pathlib

# Character budgets per source: (training candidates, held-out target). A few MB gzipped in all.
BUDGETS = {
    "web": (3_000_000, 0),
    "qa_forum": (400_000, 0),
    "synthetic_topics": (1_500_000, 0),
    "fortunes": (700_000, 0),
    "reviews": (1_800_000, 0),
    "code_python": (1_000_000, 0),
    "encyclopedic": (1_000_000, 800_000),
    "literature_speeches": (800_000, 600_000),
    "tech_docs": (1_000_000, 600_000),
    "academic": (500_000, 250_000),
}
NOT_SHIPPABLE = {"news_bbc", "code_c", "forum_toxic"}
# Very long documents would eat a whole budget; the demo wants many documents per domain.
MAX_DOC_CHARS = 60_000

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def read_documents(path: pathlib.Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def hash_order(docs: list[dict]) -> list[dict]:
    return sorted(docs, key=lambda d: hashlib.sha256(d["id"].encode()).hexdigest())


def take_budget(docs: list[dict], budget: int) -> tuple[list[dict], list[dict]]:
    """Documents (in the given order) that fit the character budget, and the rest."""
    chosen, rest, used = [], [], 0
    for doc in docs:
        size = len(doc["text"])
        if size <= MAX_DOC_CHARS and used + size <= budget:
            chosen.append(doc)
            used += size
        else:
            rest.append(doc)
    return chosen, rest


def split_source(docs: list[dict], candidate_budget: int, target_budget: int):
    ordered = hash_order(docs)
    target, rest = take_budget(ordered, target_budget)
    candidates, _ = take_budget(rest, candidate_budget)
    return candidates, target


def write_jsonl_gz(path: pathlib.Path, docs: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    # mtime=0 and no file name in the header keep the bytes reproducible.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        for doc in sorted(docs, key=lambda d: d["id"]):
            record = {k: doc[k] for k in ("id", "text", "source", "license", "meta") if k in doc}
            gz.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def build(corpus: pathlib.Path, out: pathlib.Path) -> dict[str, tuple[int, int]]:
    counts, target_docs = {}, []
    for name, (candidate_budget, target_budget) in BUDGETS.items():
        assert name not in NOT_SHIPPABLE
        docs = read_documents(corpus / f"{name}.jsonl.gz")
        candidates, target = split_source(docs, candidate_budget, target_budget)
        write_jsonl_gz(out / f"{name}.jsonl.gz", candidates)
        target_docs.extend(target)
        counts[name] = (len(candidates), len(target))
    write_jsonl_gz(out / "target" / "target_reference.jsonl.gz", target_docs)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=REPO_ROOT / ".." / "shared" / "data" / "corpus")
    parser.add_argument("--out", type=pathlib.Path, default=REPO_ROOT / "data" / "demo")
    args = parser.parse_args()
    counts = build(args.corpus, args.out)
    for name, (n_candidates, n_target) in counts.items():
        print(f"{name:22s} candidates={n_candidates:6d} target={n_target:5d}")
    total = sum(p.stat().st_size for p in args.out.rglob("*.jsonl.gz"))
    print(f"total size on disk: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
