"""Scoring through SQL models on a tiny project the test writes: every document scored once,
re-runs incremental, interrupted runs resume without redoing committed chunks, a changed
checkpoint rescores, and `quadmix-wh scorers` reports versions, cache contents and evaluation."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import torch
from test_engine_support import cli, query, statuses, write_project
from test_scoring_support import checkpoints, sample_texts  # noqa: F401 - fixture

from quadmix_wh.project import load_project
from quadmix_wh.scoring import ScoreCache, load_declarations, output_types
from quadmix_wh.scoring.batching import score_texts
from quadmix_wh.scoring.fingerprint import checkpoint_hash
from quadmix_wh.scoring.loaders import load_scorer

REPO = Path(__file__).resolve().parent.parent

EDU_YML = """\
name: edu
loader: hf_regression
checkpoint: ckpt/edu
outputs: {score: DOUBLE, int_score: INTEGER}
settings: {max_length: 64, batch_size: %(batch)d, chunk_size: %(chunk)d, device: cpu}
"""
Q_YML = """\
name: q
loader: fasttext
checkpoint: ckpt/q.bin
settings: {positive_label: __label__hq, max_length: 100, chunk_size: %(chunk)d}
"""
MODELS = {
    "models/documents.sql": "select doc_id, text from {{ ref('docs') }}",
    "models/scorer_evaluation.sql": "select * from {{ scorer_evaluation() }}",
}
SCORED_BOTH = """\
select e.doc_id, e.score, e.int_score, q.prob, e.null_reason
  from {{ score('edu', ref('documents')) }} e
  join {{ score('q', ref('documents')) }} q using (doc_id)
 order by e.doc_id
"""
SCORED_EDU = "select * from {{ score('edu', ref('documents')) }} order by doc_id\n"


def write_docs(root: Path, texts: list) -> None:
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    with (root / "seeds" / "docs.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc_id", "text"])
        for i, text in enumerate(texts):
            writer.writerow([f"d{i:04d}", "" if text is None else text])


def make_project(tmp_path: Path, checkpoints, texts, scored=SCORED_BOTH, chunk=8, batch=4, evaluation=True) -> Path:
    files = {**MODELS, "models/scored.sql": scored, "udfs/edu.yml": EDU_YML % {"batch": batch, "chunk": chunk}}
    if "'q'" in scored:
        files["udfs/q.yml"] = Q_YML % {"chunk": chunk}
    root = write_project(tmp_path / "p", files)
    shutil.copytree(checkpoints.regression, root / "ckpt" / "edu")
    shutil.copy(checkpoints.fasttext, root / "ckpt" / "q.bin")
    write_docs(root, texts)
    if evaluation:
        write_evaluation(root)
    return root


def write_evaluation(root: Path) -> None:
    """An evaluation file like scripts/train_scorers.py writes, for the checkpoints as they are now."""
    report = {"artifacts": {"edu": {"checkpoint": "ckpt/edu", "weights_sha256": checkpoint_hash(root / "ckpt/edu")}},
              "metrics": [{"scorer": "edu", "metric": "heldout_spearman", "value": 0.8125, "baseline": 0.0,
                           "n_heldout": 123, "detail": "test"}]}
    path = root / "data" / "scorers" / "evaluation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report))


def scored_counts(output: str, scorer: str) -> list[tuple[int, int]]:
    """(done, total) of each progress line `scoring <scorer>: done/total documents committed`."""
    return [(int(a), int(b)) for a, b in re.findall(rf"scoring {scorer}: (\d+)/(\d+) documents committed", output)]


def cache_tables(root: Path, scorer: str) -> list[str]:
    return [r[0] for r in query(root, "select table_name from information_schema.tables "
                                      f"where table_name like 'scores__{scorer}__%' order by 1")]


def bump_regression_bias(checkpoint: Path, amount: float = 1.0) -> None:
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(str(checkpoint))
    with torch.no_grad():
        model.classifier.bias.add_(amount)
    model.save_pretrained(str(checkpoint))


TEXTS = sample_texts(40, seed=30) + [None, "   "]  # NULL text (empty CSV field) and whitespace only


def test_build_scores_every_document_once_then_only_new_or_changed_ones(tmp_path, checkpoints):
    root = make_project(tmp_path, checkpoints, TEXTS)
    first = cli(root, "build")
    assert scored_counts(first.output, "edu")[-1] == (42, 42)
    assert scored_counts(first.output, "q")[-1] == (42, 42)
    rows = query(root, "select doc_id, score, int_score, prob, null_reason from scored order by doc_id")
    assert len(rows) == 42 and [r[4] for r in rows[-2:]] == ["null_text", "empty_text"]
    assert all(r[1] is None and r[3] is None for r in rows[-2:])
    # The values are the loader's own, scored directly.
    spec = load_declarations(load_project(root))["edu"]
    direct = score_texts(load_scorer(spec, ScoreCache.for_spec(spec).fingerprint), TEXTS[:40],
                         output_types(spec), 16).column("score").to_pylist()
    assert [r[1] for r in rows[:40]] == pytest.approx(direct, abs=1e-5)

    again = cli(root, "build")  # nothing changed: nothing scored, the model is not rebuilt
    assert scored_counts(again.output, "edu") == [] and statuses(root)["scored"] == "skipped:unchanged"

    texts = TEXTS[:3] + ["an edited document about theorem and proof."] + TEXTS[4:] + sample_texts(5, seed=31)
    write_docs(root, texts)
    third = cli(root, "build")  # 5 new documents and 1 edited one: only those 6 are scored
    assert scored_counts(third.output, "edu")[-1] == (6, 6) and scored_counts(third.output, "q")[-1] == (6, 6)
    assert query(root, "select count(*), count(distinct doc_id) from scored") == [(47, 47)]
    new_rows = dict(query(root, "select doc_id, score from scored"))
    assert all(new_rows[r[0]] == r[1] for r in rows if r[0] != "d0003")  # cached values, untouched
    assert len(cache_tables(root, "edu")) == 1


def test_changed_checkpoint_changes_the_version_and_rescores(tmp_path, checkpoints):
    root = make_project(tmp_path, checkpoints, TEXTS)
    cli(root, "build")
    before = dict(query(root, "select doc_id, score from scored where score is not null"))
    old_tables = cache_tables(root, "edu")
    report = json.loads(cli(root, "scorers", "--json").output)
    old_version = {s["name"]: s["version"] for s in report["scorers"]}
    assert [m["current"] for m in report["evaluation"]] == [True]

    bump_regression_bias(root / "ckpt" / "edu", 1.0)
    out = cli(root, "build")
    assert scored_counts(out.output, "edu")[-1] == (42, 42)  # a new version scores everything again
    assert scored_counts(out.output, "q") == []               # the other scorer is untouched
    assert statuses(root)["scored"] == "success"
    after = dict(query(root, "select doc_id, score from scored where score is not null"))
    assert after.keys() == before.keys()
    assert all(after[k] == pytest.approx(before[k] + 1.0, abs=1e-4) for k in before)
    new_tables = cache_tables(root, "edu")
    assert len(new_tables) == 2 and set(old_tables) < set(new_tables)

    report = json.loads(cli(root, "scorers", "--json").output)
    edu = next(s for s in report["scorers"] if s["name"] == "edu")
    assert edu["version"] != old_version["edu"] and edu["cached"] == 42 and len(edu["stale_tables"]) == 1
    assert edu["null_reasons"] == {"empty_text": 1, "null_text": 1}
    assert [m["current"] for m in report["evaluation"]] == [False]  # evaluated on the old weights
    text = cli(root, "scorers", "--drop-stale").output
    assert "dropped: " + old_tables[0] in text and cache_tables(root, "edu") == [t for t in new_tables
                                                                                   if t not in old_tables]


def test_scorers_command_shows_versions_cache_and_evaluation(tmp_path, checkpoints):
    root = make_project(tmp_path, checkpoints, TEXTS)
    before = cli(root, "scorers").output  # no warehouse yet: evaluation read from the file
    assert "Evaluation (from data/scorers/evaluation.json)" in before and "no warehouse yet" in before
    assert re.search(r"edu\s+heldout_spearman\s+0\.8125\s+0\s+123\s+yes", before)
    cli(root, "build")
    text = cli(root, "scorers").output
    assert re.search(r"edu\s+hf_regression\s+[0-9a-f]{8}\s+ckpt/edu\s+42\s+empty_text 1, null_text 1\s+0", text)
    assert "Evaluation (from warehouse table scorer_evaluation)" in text
    assert re.search(r"edu\s+heldout_spearman\s+0\.8125\s+0\s+123\s+yes", text)
    (root / "data" / "scorers" / "evaluation.json").unlink()
    (root / "wh.duckdb").unlink()
    missing = cli(root, "scorers").output
    assert "no scorer evaluation; run `python scripts/train_scorers.py`" in missing


def test_interrupted_fill_resumes_without_redoing_committed_chunks(tmp_path, checkpoints):
    root = make_project(tmp_path, checkpoints, TEXTS, chunk=5)
    spec = load_declarations(load_project(root))["edu"]
    cache = ScoreCache.for_spec(spec)
    con = duckdb.connect()
    docs = [(f"d{i:04d}", t) for i, t in enumerate(TEXTS)]
    con.execute("create table docs (doc_id varchar, text varchar)")
    con.executemany("insert into docs values (?, ?)", docs)
    seen = []

    def stop_after_three(rows):
        seen.append(rows)
        if len(seen) == 3:
            raise KeyboardInterrupt  # like Ctrl-C between two chunks
    with pytest.raises(KeyboardInterrupt):
        cache.fill(con, "docs", on_chunk=stop_after_three, progress=False)
    table = cache.table
    committed = con.execute(f'select * from "{table}" order by doc_id').fetchall()
    assert len(committed) == 15 and seen == [5, 5, 5]
    resumed = []
    assert cache.fill(con, "docs", on_chunk=resumed.append, progress=False) == 42 - 15
    assert resumed == [5, 5, 5, 5, 5, 2]
    final = con.execute(f'select * from "{table}" order by doc_id').fetchall()
    assert len(final) == 42 and len({r[0] for r in final}) == 42
    assert set(committed) <= set(final)
    # ... and the resumed cache holds exactly what an uninterrupted fill gives.
    fresh = duckdb.connect()
    fresh.execute("create table docs (doc_id varchar, text varchar)")
    fresh.executemany("insert into docs values (?, ?)", docs)
    assert cache.fill(fresh, "docs", progress=False) == 42
    assert fresh.execute(f'select * from "{table}" order by doc_id').fetchall() == final
    assert cache.fill(con, "docs", progress=False) == 0


def _build_cmd(root: Path) -> list[str]:
    return [sys.executable, "-m", "quadmix_wh.cli", "build", "--project-dir", str(root)]


@pytest.mark.slow  # two `quadmix-wh build` processes, 600 documents scored one by one
def test_sigkill_mid_scoring_then_build_resumes_with_the_rest(tmp_path, checkpoints):
    n = 600
    texts = sample_texts(n, seed=32, lo=30, hi=60)
    root = make_project(tmp_path, checkpoints, texts, scored=SCORED_EDU, chunk=10, batch=1)
    env = {**os.environ, "QUADMIX_WH_PROGRESS": "1"}
    proc = subprocess.Popen(_build_cmd(root), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        deadline = time.monotonic() + 300
        for line in proc.stderr:  # the first committed chunk: kill the build right there
            if "scoring edu:" in line and "committed" in line:
                break
            assert time.monotonic() < deadline
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    (table,) = cache_tables(root, "edu")
    committed = query(root, f'select count(*) from "{table}"')[0][0]
    assert 0 < committed < n and committed % 10 == 0  # whole chunks only
    assert "scored" not in {r[0] for r in query(root, "select table_name from information_schema.tables")}
    done = subprocess.run(_build_cmd(root), capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert scored_counts(done.stderr, "edu")[-1] == (n - committed, n - committed)
    assert query(root, "select count(*), count(distinct doc_id) from scored") == [(n, n)]
    assert query(root, f'select count(*) from "{table}"') == [(n,)]


def test_scalar_udf_for_ad_hoc_queries_matches_the_batched_path(tmp_path, checkpoints):
    """`score_<name>(text)` is registered on every warehouse connection (never stored in the file)."""
    from quadmix_wh import warehouse
    root = make_project(tmp_path, checkpoints, TEXTS)
    cli(root, "build")
    project = load_project(root)
    con = warehouse.connect(project, read_only=True)
    try:
        rows = con.execute("select d.doc_id, score_edu(d.text).score, score_edu(d.text).null_reason, "
                           "score_q(d.text).prob from documents d order by d.doc_id").fetchall()
    finally:
        warehouse.close(con)
    expected = query(root, "select doc_id, score, null_reason, prob from scored order by doc_id")
    assert [r[0] for r in rows] == [r[0] for r in expected]
    assert [r[2] for r in rows] == [r[2] for r in expected]
    for got, want in zip(rows, expected):
        assert (got[1] is None) == (want[1] is None)
        if got[1] is not None:
            assert got[1] == pytest.approx(want[1], abs=1e-5) and got[3] == pytest.approx(want[3], abs=1e-6)
    assert query(root, "select count(*) from duckdb_functions() where function_name like 'score_%'") == [(0,)]
