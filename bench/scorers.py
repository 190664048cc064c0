"""Scorer throughput: scoring through a SQL model (`score()` in a model, quadmix-wh run) against a
direct batched loop over the same model, on the same documents, in the same process.

    python -m bench.scorers [--quick] [--docs N] [--reps R] [--checkpoint DIR]

Paths timed (best of R repetitions each, interleaved so that load from other processes hits
every path alike, after a warm-up that loads the model):
  sql        `quadmix-wh run` of a model `select * from {{ score('edu', ref('documents')) }}` on a
             fresh warehouse: streams the documents out of DuckDB, scores them in length-sorted
             batches, appends each chunk to the score cache, then runs the model's SQL. The time
             is the model node's own (cache fill + SQL), not the documents' ingestion.
  direct     a plain loop over the same tokenizer and model: the same head-of-document encoding
             (quadmix_wh.scoring.hf_common.encode_head), length-sorted batches of the same size,
             padding, forward pass, logits to Python floats. overhead = sql / direct - 1.
  direct_hf  the textbook loop: tokenizer(batch, truncation=True, max_length=..., padding=True),
             which tokenizes each document whole before truncating.
  udf        the per-row scalar (Arrow) UDF `score_edu(text)` in a plain SELECT, for reference: what
             DuckDB's 2,048-row UDF batches cost compared with the batched path.
On a CUDA device (torch.cuda.is_available()) it also measures tokens/s of a BERT-base-sized
classifier (random weights) in bf16, through the SQL path and the direct loop.

Documents: the demo corpus shipped in data/demo/ (a seeded sample across its sources).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CHECKPOINT = REPO / "data" / "scorers" / "edu"
SEED = 11


def demo_documents(n: int) -> list[tuple[str, str]]:
    docs = []
    for path in sorted((REPO / "data" / "demo").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                docs.append((str(row["id"]), row["text"]))
    rng = random.Random(SEED)
    rng.shuffle(docs)
    if n > len(docs):  # repeat (with distinct ids) to reach the asked size
        docs = [(f"{doc_id}#{k}", text) for k in range(n // len(docs) + 1) for doc_id, text in docs]
    return docs[:n]


# -- the SQL path ---------------------------------------------------------------------------------

PROJECT_YML = """\
name: bench_scorers
warehouse: {path: bench.duckdb, threads: %(threads)d}
models:
  bench_scorers:
    +materialized: table
"""
UDF_YML = """\
name: edu
loader: hf_regression
checkpoint: %(checkpoint)s
settings: {max_length: %(max_length)d, batch_size: %(batch_size)d, chunk_size: %(chunk_size)d, device: %(device)s}
"""


def write_project(root: Path, docs, checkpoint: Path, settings: dict, threads: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    (root / "models").mkdir(parents=True)
    (root / "udfs").mkdir()
    (root / "project.yml").write_text(PROJECT_YML % {"threads": threads})
    (root / "udfs" / "edu.yml").write_text(UDF_YML % {"checkpoint": checkpoint.resolve().as_posix(), **settings})
    pq.write_table(pa.table({"doc_id": [d for d, _ in docs], "text": [t for _, t in docs]}), root / "docs.parquet")
    (root / "models" / "documents.sql").write_text("select doc_id, text from read_parquet('docs.parquet')\n")
    (root / "models" / "scored.sql").write_text("select * from {{ score('edu', ref('documents')) }}\n")


def run_sql_path(root: Path) -> float:
    """A fresh warehouse, `run`; returns the `scored` node's seconds."""
    from quadmix_wh.project import load_project
    from quadmix_wh.runner import RunOptions, execute
    for name in ("bench.duckdb", "bench.duckdb.wal"):
        (root / name).unlink(missing_ok=True)
    cwd = os.getcwd()
    os.chdir(root)  # read_parquet('docs.parquet') is relative to the project
    try:
        results = execute(load_project(root), "run", RunOptions())
    finally:
        os.chdir(cwd)
    by_name = {r.name: r for r in results.results}
    if by_name["scored"].status != "success":
        raise SystemExit(f"the SQL path failed: {by_name['scored'].message}")
    return by_name["scored"].seconds


def sql_scores(root: Path) -> dict[str, float]:
    import duckdb
    con = duckdb.connect(str(root / "bench.duckdb"), read_only=True)
    try:
        return dict(con.execute("select doc_id, score from scored").fetchall())
    finally:
        con.close()


def run_udf_path(root: Path) -> float:
    from quadmix_wh import warehouse
    from quadmix_wh.project import load_project
    project = load_project(root)
    con = warehouse.connect(project)
    try:
        con.execute("create or replace temp table bench_docs as select * from read_parquet(?)",
                    [str(root / "docs.parquet")])
        start = time.perf_counter()
        con.execute("create or replace temp table udf_out as select doc_id, score_edu(text).score as score "
                    "from bench_docs").fetchall()
        return time.perf_counter() - start
    finally:
        warehouse.close(con)


# -- the direct loops -----------------------------------------------------------------------------

class Direct:
    """The same checkpoint loaded with transformers, outside quadmix-wh's scorer classes."""

    def __init__(self, checkpoint: Path, device: str, max_length: int, batch_size: int):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(str(checkpoint), local_files_only=True)
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        self.model = AutoModelForSequenceClassification.from_pretrained(
            str(checkpoint), local_files_only=True, dtype=dtype).to(device).eval()
        self.device, self.max_length, self.batch_size = device, max_length, batch_size
        self.pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0

    def _batches(self, texts):
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        return [order[s:s + self.batch_size] for s in range(0, len(order), self.batch_size)]

    def _forward(self, ids, mask):
        with self.torch.inference_mode():
            return self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits

    def same_encoding(self, texts) -> list[float]:
        from quadmix_wh.scoring.hf_common import encode_head
        torch, out = self.torch, [0.0] * len(texts)
        for batch in self._batches(texts):
            seqs = encode_head(self.tok, [texts[i] for i in batch], self.max_length)
            width = max(len(s) for s in seqs)
            ids = torch.full((len(seqs), width), self.pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, seq in enumerate(seqs):
                ids[row, :len(seq)] = torch.tensor(seq)
                mask[row, :len(seq)] = 1
            for i, value in zip(batch, self._forward(ids, mask)[:, 0].float().cpu().tolist()):
                out[i] = value
        return out

    def textbook(self, texts) -> list[float]:
        out = [0.0] * len(texts)
        for batch in self._batches(texts):
            enc = self.tok([texts[i] for i in batch], truncation=True, max_length=self.max_length,
                           padding=True, return_tensors="pt")
            for i, value in zip(batch, self._forward(enc["input_ids"], enc["attention_mask"])[:, 0]
                                .float().cpu().tolist()):
                out[i] = value
        return out

    def n_tokens(self, texts) -> int:
        from quadmix_wh.scoring.hf_common import encode_head
        return sum(len(s) for s in encode_head(self.tok, texts, self.max_length))


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def sync(device: str) -> None:
    if device == "cuda":
        import torch
        torch.cuda.synchronize()


def compare(label: str, checkpoint: Path, docs, settings: dict, reps: int, threads: int, with_udf: bool) -> dict:
    texts = [t for _, t in docs]
    device = settings["device"]
    direct = Direct(checkpoint, device, settings["max_length"], settings["batch_size"])
    tokens = direct.n_tokens(texts)
    with tempfile.TemporaryDirectory(prefix="qwh_bench_scorers_") as tmp:
        root = Path(tmp) / "project"
        write_project(root, docs, checkpoint, settings, threads)
        # Warm-up: load the scorer once per process (as a warehouse run does), and the direct model.
        warm = docs[: min(len(docs), 4 * settings["batch_size"])]
        warm_root = Path(tmp) / "warm"
        write_project(warm_root, warm, checkpoint, settings, threads)
        run_sql_path(warm_root)
        direct.same_encoding([t for _, t in warm])
        times: dict[str, list[float]] = {"sql": [], "direct": [], "direct_hf": []}
        for _ in range(reps):  # interleaved, so machine load hits every path alike
            sync(device)
            times["sql"].append(run_sql_path(root))
            sync(device)
            seconds, same = timed(lambda: direct.same_encoding(texts))
            sync(device)
            times["direct"].append(seconds)
            seconds, _ = timed(lambda: direct.textbook(texts))
            sync(device)
            times["direct_hf"].append(seconds)
        via_sql = sql_scores(root)
        max_diff = max(abs(via_sql[d] - s) for (d, _), s in zip(docs, same))
        if with_udf:
            times["udf"] = [run_udf_path(root)]
    best = {k: min(v) for k, v in times.items()}
    return {"label": label, "docs": len(docs), "tokens": tokens, "times": times, "best": best,
            "overhead": best["sql"] / best["direct"] - 1.0, "max_abs_diff_sql_vs_direct": max_diff}


def report(result: dict) -> None:
    n, tokens = result["docs"], result["tokens"]
    print(f"\n{result['label']}: {n} documents, {tokens:,} tokens scored (after truncation)")
    print(f"  {'path':<10} {'best s':>9} {'docs/s':>10} {'tokens/s':>12}   all runs (s)")
    for path, best in result["best"].items():
        runs = ", ".join(f"{t:.2f}" for t in result["times"][path])
        print(f"  {path:<10} {best:>9.3f} {n / best:>10,.0f} {tokens / best:>12,.0f}   {runs}")
    print(f"  overhead of the SQL path over the direct loop: {result['overhead'] * 100:+.1f}% "
          f"(target <= +10%)  {'OK' if result['overhead'] <= 0.10 else 'OVER TARGET'}")
    print(f"  SQL path vs textbook HF loop: {(result['best']['sql'] / result['best']['direct_hf'] - 1) * 100:+.1f}%")
    if "udf" in result["best"]:
        print(f"  scalar UDF in a SELECT (2,048-row batches): "
              f"{result['best']['udf'] / result['best']['sql']:.2f}x the SQL path's time")
    print(f"  largest |score(sql) - score(direct)|: {result['max_abs_diff_sql_vs_direct']:.2e}")


def bert_base_checkpoint(directory: Path, tokenizer_from: Path) -> Path:
    """A BERT-base-sized (12 layers, 768 wide, 12 heads) regression classifier, random weights."""
    import torch
    from transformers import AutoTokenizer
    from quadmix_wh.scoring import build
    torch.manual_seed(SEED)
    tok = AutoTokenizer.from_pretrained(str(tokenizer_from), local_files_only=True)
    model = build.bert_classifier(len(tok), 1, hidden=768, layers=12, heads=12, intermediate=3072,
                                  max_positions=512, pad_token_id=tok.pad_token_id)
    return build.save_checkpoint(model, tok, directory)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer documents and repetitions")
    parser.add_argument("--docs", type=int, default=None, help="documents (default 2048, quick 512)")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per path (default 5, quick 5)")
    parser.add_argument("--threads", type=int, default=2, help="torch and DuckDB threads")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                        help="an hf_regression checkpoint (default: the project's edu scorer)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    n_docs = args.docs or (512 if args.quick else 2048)
    reps = args.reps or 5  # best of 5, interleaved: on a shared machine one quiet run per path is enough
    if not (args.checkpoint / "config.json").is_file():
        raise SystemExit(f"{args.checkpoint}: no checkpoint; run `python scripts/train_scorers.py` first")
    import torch
    torch.set_num_threads(args.threads)
    os.environ.setdefault("QUADMIX_WH_PROGRESS", "0")  # progress lines would go into the timings' output
    print(f"bench.scorers: torch {torch.__version__}, {args.threads} threads, checkpoint "
          f"{args.checkpoint.relative_to(REPO) if args.checkpoint.is_relative_to(REPO) else args.checkpoint}")
    docs = demo_documents(n_docs)
    cpu_settings = {"max_length": 256, "batch_size": 64, "chunk_size": 4096, "device": "cpu"}
    results = [compare("CPU, edu regressor (2-layer BERT, width 128), fp32, max_length 256", args.checkpoint,
                       docs, cpu_settings, reps, args.threads, with_udf=True)]
    report(results[0])
    if torch.cuda.is_available():
        with tempfile.TemporaryDirectory(prefix="qwh_bench_bert_base_") as tmp:
            checkpoint = bert_base_checkpoint(Path(tmp) / "bert_base", args.checkpoint)
            gpu_docs = demo_documents(20_000 if args.quick else 100_000)
            gpu_settings = {"max_length": 512, "batch_size": 256, "chunk_size": 16384, "device": "cuda"}
            results.append(compare(f"GPU {torch.cuda.get_device_name()}: BERT-base-sized classifier, bf16, "
                                   f"max_length 512 (random weights)", checkpoint, gpu_docs, gpu_settings,
                                   reps, args.threads, with_udf=False))
            report(results[-1])
            print(f"  reference: FineWeb-Edu annotation ran at about 0.7M tokens/s per H100; aim past 1M")
    else:
        print("\nGPU: skipped the bf16 BERT-base tokens/s measurement: no CUDA device present "
              "(torch.cuda.is_available() is False)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
