"""QuaDMix sampling at scale: the SQL sampling query against a vectorized NumPy/pandas baseline.

Synthetic scored documents (26 domains with skewed sizes, lognormal token lengths, three
criteria: edu (higher is better, clipped at 0 and 5), dclm (higher, a probability), perplexity
(lower, lognormal with rare outliers)) and one parameter set with its own row per domain.
For each size it measures, each in a fresh subprocess (so the peak RSS is its own):
  - the sampling query (output='mixture' then output='scored': every doc with qbar, rbar, s,
    copies, materialized as a table) from the prepared inputs table, rank_method exact, binned and
    sampled (its prepare statements included in its time), DuckDB with the given threads and
    memory_limit (spilling to a temporary folder);
  - the same computation in NumPy/pandas (sort-based token-weighted percentiles per domain,
    stable argsorts, cumulative sums, ties resolved to the run's end), with u given;
  - the per-document md5 uniform in Python (hashlib), which the baseline would also need;
  - building the prepared inputs from the warehouse layout (long quality_scores + doc_domains +
    documents), i.e. the mixture_inputs model (sizes <= 10M unless --inputs-at-all-sizes).
It prints times, peak RSS, the ratios to the baseline, the agreement of exact copies with the
baseline, and the rank error of the binned and sampled modes against the exact mode.

Usage: python -m bench.sampling [--quick] [--sizes 1M,10M,30M] [--threads 2] [--memory-limit 4GiB]
                                [--bins 1024] [--sample-docs 65536]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import numpy as np

DOMAINS = ["Adult", "Arts_and_Entertainment", "Autos_and_Vehicles", "Beauty_and_Fitness",
           "Books_and_Literature", "Business_and_Industrial", "Computers_and_Electronics", "Finance",
           "Food_and_Drink", "Games", "Health", "Hobbies_and_Leisure", "Home_and_Garden",
           "Internet_and_Telecom", "Jobs_and_Education", "Law_and_Government", "News",
           "Online_Communities", "People_and_Society", "Pets_and_Animals", "Real_Estate", "Science",
           "Sensitive_Subjects", "Shopping", "Sports", "Travel_and_Transportation"]
CRITERIA = [{"name": "edu", "direction": "higher"}, {"name": "dclm", "direction": "higher"},
            {"name": "perplexity", "direction": "lower"}]
SEED = 7
CHUNK = 5_000_000


# ---- data ------------------------------------------------------------------------------------

def _chunk_columns(rng, n: int) -> dict:
    weights = 1.0 / np.arange(1, len(DOMAINS) + 1) ** 0.8
    dom = rng.choice(len(DOMAINS), size=n, p=weights / weights.sum()).astype(np.int16)
    tokens = np.rint(rng.lognormal(np.log(400.0), 1.1, n)).astype(np.int64)
    tokens[rng.random(n) < 0.001] = 0                      # a few empty-after-cleaning docs
    shift = (dom % 7).astype(np.float64)
    edu = np.clip(rng.normal(0.9 + 0.15 * shift, 0.8, n), 0.0, 5.0).astype(np.float32)
    dclm = (1.0 / (1.0 + np.exp(-rng.normal(-1.5 + 0.1 * (dom % 5), 1.5, n)))).astype(np.float32)
    ppl = rng.lognormal(3.6 + 0.05 * shift, 0.6, n)
    ppl[rng.random(n) < 0.001] *= 100.0                     # rare garbage documents
    return {"dom": dom, "n_tokens": tokens, "edu": edu, "dclm": dclm, "perplexity": ppl.astype(np.float32)}


def generate(db_path: Path, n: int) -> None:
    """inputs(doc_id, domain, n_tokens, edu, dclm, perplexity) and params, written chunk by chunk."""
    import pyarrow as pa  # noqa: PLC0415
    from quadmix_wh.sampling.render import render_macro  # noqa: PLC0415
    doc_hash = render_macro("quadmix_doc_hash", id_sql="doc_id")
    rng = np.random.default_rng(SEED)
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE domain_names AS SELECT * FROM (VALUES "
                + ", ".join(f"({i}, '{d}')" for i, d in enumerate(DOMAINS)) + ") t(dom, domain)")
    con.execute("CREATE TABLE inputs (doc_id VARCHAR, doc_hash UBIGINT, domain VARCHAR, n_tokens BIGINT, "
                "edu DOUBLE, dclm DOUBLE, perplexity DOUBLE)")
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        cols = _chunk_columns(rng, size)
        con.register("chunk", pa.table({"i": np.arange(start, start + size, dtype=np.int64), **cols}))
        con.execute(f"INSERT INTO inputs SELECT doc_id, {doc_hash}, domain, n_tokens, edu, dclm, perplexity "
                    "FROM (SELECT 'doc-' || lpad(CAST(c.i AS VARCHAR), 9, '0') AS doc_id, c.*, d.domain "
                    "FROM chunk c JOIN domain_names d USING (dom)) ORDER BY i")
        con.unregister("chunk")
    rows = []
    prng = np.random.default_rng(SEED + 1)
    for domain in ["*"] + DOMAINS:
        alpha = prng.dirichlet(np.ones(len(CRITERIA)))
        rows.append(("bench", domain, *alpha.tolist(), float(10 ** prng.uniform(0.5, 2.0)),
                     float(prng.uniform(0.2, 0.8)), float(prng.uniform(0.5, 2.0)), float(prng.uniform(0.0, 0.05))))
    cols = ", ".join(["param_set VARCHAR", "domain VARCHAR"] + [f"alpha_{c['name']} DOUBLE" for c in CRITERIA]
                     + ['"lambda" DOUBLE', "omega DOUBLE", "eta DOUBLE", "epsilon DOUBLE"])
    con.execute(f"CREATE TABLE params ({cols})")
    con.executemany(f"INSERT INTO params VALUES ({', '.join(['?'] * (len(CRITERIA) + 6))})", rows)
    con.close()


def generate_long_layout(db_path: Path) -> None:
    """The warehouse layout the default project has: long quality_scores, doc_domains, documents."""
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE documents AS SELECT doc_id, n_tokens FROM inputs")
    con.execute("CREATE TABLE doc_domains AS SELECT doc_id, domain, 1.0 AS confidence FROM inputs")
    con.execute("CREATE TABLE quality_scores AS " + " UNION ALL ".join(
        f"SELECT doc_id, '{c['name']}' AS criterion, {c['name']} AS value FROM inputs" for c in CRITERIA))
    con.close()


# ---- workers (each runs in its own process) ----------------------------------------------------

class _SpillWatch:
    """Polls the DuckDB temp folder: the largest number of bytes it held (spilling evidence)."""

    def __init__(self, folder: Path):
        self.folder, self.peak, self._stop = folder, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.05):
            try:
                size = sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())
            except OSError:
                continue
            self.peak = max(self.peak, size)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _duckdb_connect(args):
    tmp = Path(args.tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(args.db, config={"threads": args.threads, "memory_limit": args.memory_limit,
                                           "temp_directory": str(tmp), "preserve_insertion_order": False})


def _timed_ctas(con, table: str, statements, tmp: Path) -> dict:
    """Time everything that builds `table` from a query, or from MixtureStatements: the prepare
    statements (rank_method 'sampled'), the CREATE TABLE AS of the select, and the cleanup."""
    if isinstance(statements, str):
        from quadmix_wh.sampling.api import MixtureStatements  # noqa: PLC0415
        statements = MixtureStatements("", statements, "")
    with _SpillWatch(tmp) as spill:
        wall, cpu = time.perf_counter(), time.process_time()
        if statements.prepare:
            con.execute(statements.prepare)
        prepared = time.perf_counter() - wall
        con.execute(f"CREATE TEMP TABLE {table} AS {statements.select}")
        if statements.cleanup:
            con.execute(statements.cleanup)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"seconds": wall, "cpu_seconds": cpu, "prepare_seconds": prepared, "spill_peak_mb": spill.peak / 2 ** 20}


def worker_sample(args) -> dict:
    """The sampling query twice: output='mixture' (the training mixture, copies > 0) and
    output='scored' (every doc with qbar, rbar, s, copies), each materialized as a table."""
    from quadmix_wh.sampling.api import mixture_statements  # noqa: PLC0415
    con = _duckdb_connect(args)
    # The inputs are read once before timing (the baseline also starts from data in memory).
    con.execute("SELECT count(*), sum(n_tokens), sum(edu + dclm + perplexity), max(doc_id), max(doc_hash), "
                "max(domain) FROM inputs").fetchall()
    common = {"params_table": "params", "inputs_table": "inputs", "seed": args.seed, "criteria": CRITERIA,
              "rank_method": args.rank_method, "bins": args.bins, "sample_docs": args.sample_docs,
              "check_inputs": False}
    result = {"mixture": _timed_ctas(con, "mix", mixture_statements(**common, output="mixture"), Path(args.tmp))}
    result["mixture"]["peak_rss_mb"] = _peak_rss_mb()
    result["scored"] = _timed_ctas(con, "scored", mixture_statements(**common, output="scored"), Path(args.tmp))
    result["scored"]["peak_rss_mb"] = _peak_rss_mb()
    result["rows"], result["copies"] = con.execute("SELECT count(*), sum(copies) FROM mix").fetchone()
    if args.out:
        con.execute(f"COPY (SELECT CAST(substr(doc_id, 5) AS BIGINT) AS i, rbar, copies FROM scored) "
                    f"TO '{args.out}' (FORMAT parquet)")
    return result


def worker_inputs(args) -> dict:
    from quadmix_wh.sampling.api import inputs_sql  # noqa: PLC0415
    con = _duckdb_connect(args)
    result = _timed_ctas(con, "prepared", inputs_sql(criteria=CRITERIA), Path(args.tmp))
    result["peak_rss_mb"] = _peak_rss_mb()
    result["rows"] = con.execute("SELECT count(*) FROM prepared").fetchone()[0]
    return result


def _share_at_or_below(dom: np.ndarray, value: np.ndarray, tokens: np.ndarray, dom_tokens: np.ndarray) -> np.ndarray:
    """Token-weighted share of same-domain docs with value <= own value (ties: the run's end)."""
    order = np.argsort(value, kind="stable")
    order = order[np.argsort(dom[order], kind="stable")]          # radix sort on the int16 domain
    d, v = dom[order], value[order]
    cum = np.cumsum(tokens[order], dtype=np.float64)
    starts = np.empty(len(d), dtype=bool)
    starts[0] = True
    np.not_equal(d[1:], d[:-1], out=starts[1:])
    before = np.maximum.accumulate(np.where(starts, cum - tokens[order], 0.0))
    run_end = np.empty(len(d), dtype=bool)
    run_end[-1] = True
    run_end[:-1] = starts[1:] | (v[1:] != v[:-1])
    end_index = np.where(run_end, np.arange(len(d)), len(d))
    end_index = np.minimum.accumulate(end_index[::-1])[::-1]
    total = dom_tokens[d]
    share = np.where(total > 0, (cum[end_index] - before) / np.where(total > 0, total, 1.0), 0.0)
    out = np.empty(len(d), dtype=np.float64)
    out[order] = share
    return out


def numpy_mixture(dom, tokens, scores: dict, params: dict, u) -> tuple:
    """SPEC §2 vectorized: returns (rbar, s, copies)."""
    dom_tokens = np.bincount(dom, weights=tokens, minlength=len(DOMAINS)).astype(np.float64)
    p = {k: v[dom] for k, v in params.items()}                   # per-doc parameters
    qbar = np.zeros(len(dom))
    for c in CRITERIA:
        oriented = -scores[c["name"]] if c["direction"] == "higher" else scores[c["name"]]
        qbar += p[f"alpha_{c['name']}"] * _share_at_or_below(dom, oriented, tokens, dom_tokens)
    rbar = _share_at_or_below(dom, qbar, tokens, dom_tokens)
    with np.errstate(over="ignore"):
        boosted = (2.0 / (1.0 + np.exp(-p["lambda"] * (p["omega"] - rbar)))) ** p["eta"] + p["epsilon"]
    s = np.where(rbar <= p["omega"], boosted, p["epsilon"])
    whole = np.floor(s)
    copies = whole.astype(np.int64) + (u < s - whole)
    return rbar, s, copies


def numpy_uniform(doc_hash: np.ndarray, seed: int) -> np.ndarray:
    """The draw's uniform (docs/SAMPLING.md) vectorized: uint64 arithmetic wraps like the SQL."""
    z = doc_hash ^ np.uint64((seed * 0x9E3779B97F4A7C15) % 2 ** 64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(12)).astype(np.float64) / float(2 ** 52)


def worker_numpy(args) -> dict:
    import pandas as pd  # noqa: PLC0415
    con = _duckdb_connect(args)
    frame = con.execute("SELECT CAST(substr(doc_id, 5) AS BIGINT) AS i, doc_hash, domain, n_tokens, edu, dclm, "
                        "perplexity FROM inputs").df()                    # loading is not timed
    params = con.execute("SELECT * FROM params").df()
    con.close()
    wall, cpu = time.perf_counter(), time.process_time()
    codes = pd.Categorical(frame["domain"], categories=DOMAINS).codes.astype(np.int16)
    own = params.set_index("domain")
    table = {f: np.array([own.loc[d, f] if d in own.index else own.loc["*", f] for d in DOMAINS])
             for f in [f"alpha_{c['name']}" for c in CRITERIA] + ["lambda", "omega", "eta", "epsilon"]}
    u = numpy_uniform(frame["doc_hash"].to_numpy(np.uint64), args.seed)
    rbar, _s, copies = numpy_mixture(codes, frame["n_tokens"].to_numpy(), {c["name"]: frame[c["name"]].to_numpy()
                                     for c in CRITERIA}, table, u)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if args.out:
        pd.DataFrame({"i": frame["i"].to_numpy(), "rbar": rbar, "copies": copies}).to_parquet(args.out)
    return {"seconds": wall, "cpu_seconds": cpu, "peak_rss_mb": _peak_rss_mb(), "copies": int(copies.sum())}


def worker_hashlib(args) -> dict:
    """md5 of every doc_id in Python (what the baseline would need for doc_hash; SQL: mixture_inputs)."""
    ids = [f"doc-{i:09d}" for i in range(args.n)]
    start = time.perf_counter()
    hashes = [int.from_bytes(hashlib.md5(d.encode()).digest()[8:16], "little") for d in ids]
    return {"seconds": time.perf_counter() - start, "n": len(hashes)}


WORKERS = {"sample": worker_sample, "inputs": worker_inputs, "numpy": worker_numpy, "hashlib": worker_hashlib}


def run_worker(kind: str, **options) -> dict:
    cmd = [sys.executable, "-m", "bench.sampling", "--worker", kind]
    for key, value in options.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"worker {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- comparisons -------------------------------------------------------------------------------

def compare(a: Path, b: Path) -> dict:
    """Per-document differences between two (i, rbar, copies) Parquet files."""
    con = duckdb.connect()
    row = con.execute(f"""
        SELECT count(*), max(abs(a.rbar - b.rbar)), avg(abs(a.rbar - b.rbar)),
               quantile_cont(abs(a.rbar - b.rbar), 0.99),
               count(*) FILTER (WHERE a.copies <> b.copies), sum(a.copies), sum(b.copies)
        FROM '{a}' a FULL JOIN '{b}' b USING (i)""").fetchone()
    return {"docs": row[0], "max_rank_error": row[1], "mean_rank_error": row[2], "p99_rank_error": row[3],
            "docs_with_other_copies": row[4], "copies_a": row[5], "copies_b": row[6]}


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if text[-1] in "KM" else text) * scale)


def bench_size(n: int, args, workdir: Path) -> dict:
    db = workdir / f"bench_{n}.duckdb"
    start = time.perf_counter()
    generate(db, n)
    print(f"\n== {n:,} documents (generated in {time.perf_counter() - start:.1f} s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall times > cpu / threads mean contention)",
          flush=True)
    common = {"db": db, "threads": args.threads, "memory_limit": args.memory_limit, "seed": SEED,
              "tmp": workdir / "duckdb_tmp"}
    keep = n <= args.compare_up_to
    res = {"n": n}
    res["binned"] = run_worker("sample", **common, rank_method="binned", bins=args.bins,
                               out=workdir / "binned.parquet" if keep else None)
    res["sampled"] = run_worker("sample", **common, rank_method="sampled", bins=args.bins,
                                sample_docs=args.sample_docs, out=workdir / "sampled.parquet" if keep else None)
    res["exact"] = run_worker("sample", **common, rank_method="exact", bins=args.bins,
                              out=workdir / "exact.parquet" if keep else None)
    if n <= args.numpy_up_to:
        res["numpy"] = run_worker("numpy", **common, out=workdir / "numpy.parquet" if keep else None)
    if n <= args.hashlib_up_to:
        res["hashlib"] = run_worker("hashlib", n=n, seed=SEED)
    if keep and "numpy" in res:
        res["exact_vs_numpy"] = compare(workdir / "exact.parquet", workdir / "numpy.parquet")
    if keep:
        res["binned_vs_exact"] = compare(workdir / "binned.parquet", workdir / "exact.parquet")
        res["sampled_vs_exact"] = compare(workdir / "sampled.parquet", workdir / "exact.parquet")
    if n <= args.inputs_up_to:
        generate_long_layout(db)
        res["inputs"] = run_worker("inputs", **common)
    db.unlink()
    _print_size(res)
    return res


def _print_size(res: dict) -> None:
    base = res["numpy"]["seconds"] if "numpy" in res else float("nan")
    if "numpy" in res:
        print(f"  {'NumPy baseline (sorts; u from doc_hash)':<44} {base:7.2f} s (cpu {res['numpy']['cpu_seconds']:6.2f})"
              f"  peak RSS {res['numpy']['peak_rss_mb']:6.0f} MB")
    for mode in ("sampled", "binned", "exact"):
        for output in ("mixture", "scored"):
            r = res[mode][output]
            print(f"  {f'SQL {mode:<7} output={output}':<44} {r['seconds']:7.2f} s (cpu {r['cpu_seconds']:6.2f})"
                  f"  peak RSS {r['peak_rss_mb']:6.0f} MB  spilled {r['spill_peak_mb']:5.0f} MB"
                  f"  {base / r['seconds']:5.2f}x faster than NumPy"
                  + (f" (cpu time {res['numpy']['cpu_seconds'] / r['cpu_seconds']:.2f}x)" if "numpy" in res else ""))
    if "inputs" in res:
        r = res["inputs"]
        print(f"  {'mixture_inputs (pivot, 2 joins on doc_id, md5)':<44} {r['seconds']:7.2f} s (cpu {r['cpu_seconds']:6.2f})"
              f"  peak RSS {r['peak_rss_mb']:6.0f} MB  spilled {r['spill_peak_mb']:5.0f} MB")
    if "hashlib" in res:
        print(f"  {'  its md5 in Python (hashlib), for scale':<44} {res['hashlib']['seconds']:7.2f} s")
    if "exact_vs_numpy" in res:
        c = res["exact_vs_numpy"]
        print(f"  exact vs NumPy: {c['docs_with_other_copies']} of {c['docs']:,} docs with other copies, "
              f"max |rbar diff| {c['max_rank_error']:.2e}")
    for mode in ("binned", "sampled"):
        if f"{mode}_vs_exact" not in res:
            continue
        c = res[f"{mode}_vs_exact"]
        print(f"  {mode} rank error |rbar - exact rbar|: max {c['max_rank_error']:.2e}, p99 {c['p99_rank_error']:.2e}, "
              f"mean {c['mean_rank_error']:.2e}; docs with other copies {c['docs_with_other_copies']:,} "
              f"({c['docs_with_other_copies'] / c['docs']:.3%}); copies {c['copies_a']:,} vs {c['copies_b']:,} exact")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1M documents only")
    parser.add_argument("--sizes", default="1M,10M,30M")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="4GiB")
    parser.add_argument("--bins", type=int, default=None, help="bins of the binned and sampled modes (default: the API's)")
    parser.add_argument("--sample-docs", type=int, default=None,
                        help="documents per domain of the sampled mode's subset (default: the API's)")
    parser.add_argument("--compare-up-to", type=parse_size, default=parse_size("30M"),
                        help="compare results (rank error, agreement) up to this size")
    parser.add_argument("--hashlib-up-to", type=parse_size, default=parse_size("10M"))
    parser.add_argument("--inputs-up-to", type=parse_size, default=parse_size("10M"))
    parser.add_argument("--numpy-up-to", type=parse_size, default=parse_size("30M"),
                        help="run the NumPy baseline up to this size (it needs ~250 bytes per document)")
    # worker mode (internal)
    parser.add_argument("--worker", choices=sorted(WORKERS))
    for name in ("db", "tmp", "out", "rank-method"):
        parser.add_argument(f"--{name}")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--n", type=int)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))
        return
    from quadmix_wh.sampling.api import DEFAULT_BINS, DEFAULT_SAMPLE_DOCS  # noqa: PLC0415
    args.bins = DEFAULT_BINS if args.bins is None else args.bins
    args.sample_docs = DEFAULT_SAMPLE_DOCS if args.sample_docs is None else args.sample_docs
    sizes = [1_000_000] if args.quick else [parse_size(s) for s in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="qwh_bench_sampling_"))
    print(f"bench.sampling: DuckDB {duckdb.__version__}, threads={args.threads}, memory_limit={args.memory_limit}, "
          f"bins={args.bins}, sample_docs={args.sample_docs}, {os.cpu_count()} CPUs; temp folder {workdir}")
    try:
        results = [bench_size(n, args, workdir) for n in sizes]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nsummary (output='mixture')")
    for r in results:
        sa, b, e = (r[m]["mixture"]["seconds"] for m in ("sampled", "binned", "exact"))
        n = r["numpy"]["seconds"] if "numpy" in r else float("nan")
        print(f"  {r['n']:>11,} docs: sampled {sa:6.2f} s, binned {b:6.2f} s, exact {e:6.2f} s, NumPy {n:6.2f} s  "
              f"(sampled {n / sa:.2f}x, binned {n / b:.2f}x, exact {n / e:.2f}x faster than NumPy)")
    for a, b in zip(results, results[1:]):
        grow = b["n"] / a["n"]
        ratio = {m: b[m]["mixture"]["seconds"] / a[m]["mixture"]["seconds"] for m in ("sampled", "binned", "exact")}
        ratio["numpy"] = (b["numpy"]["seconds"] / a["numpy"]["seconds"] if "numpy" in a and "numpy" in b
                          else float("nan"))
        print(f"  growth {a['n']:,} -> {b['n']:,} ({grow:.0f}x docs): sampled {ratio['sampled']:.1f}x time, "
              f"binned {ratio['binned']:.1f}x, exact {ratio['exact']:.1f}x, NumPy {ratio['numpy']:.1f}x")


if __name__ == "__main__":
    main()
