"""The simulation commands through the CLI, on a tiny project this file writes: generated documents
in three domains, generated score tables, a held-out target, a BPE tokenizer trained on the texts,
and the default project's own mixture models and sampling macros (copied), so that
`simulate -> fit -> search -> run` is exercised exactly as on the default project."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from quadmix_wh.tokenizer import train_bpe
from test_simulation_kit import one_torch_thread, small_corpus  # noqa: F401
from test_engine_support import cli, query

REPO = Path(__file__).resolve().parent.parent

SIMULATION = {"n_param_sets": 10, "seed": 0, "tokens_per_run": 2048, "seq_len": 32, "batch_size": 4,
              "eval_tokens": 512, "learning_rate": 0.01, "targets": ["corpus__target"],
              "omega_range": [0.2, 1.0], "epsilon_range": [0.0, 0.05],
              "proxy": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                        "intermediate_size": 64},
              "fit": {"num_boost_round": 50, "min_data_in_leaf": 2, "num_threads": 1},
              "search": {"n_candidates": 2000, "top_k": 5},
              "experiment": {"proxy": {"hidden_size": 48, "num_hidden_layers": 1, "num_attention_heads": 2,
                                       "intermediate_size": 96}, "tokens": 2048, "keep_fraction": 0.4}}


def write_tiny_project(root: Path, n_per_domain: int = 20, simulation: dict | None = None) -> Path:
    docs, target = small_corpus(n_per_domain, seed=0)
    (root / "data").mkdir(parents=True)
    (root / "seeds").mkdir()
    (root / "models").mkdir()
    with (root / "data" / "docs.jsonl").open("w") as handle:
        for doc_id, _domain, text, _noise in docs:
            handle.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    with (root / "data" / "target.jsonl").open("w") as handle:
        for doc_id, text in target:
            handle.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    train_bpe([d[2] for d in docs] + [t[1] for t in target], 320, root / "data" / "tokenizer.json")
    scores = ["doc_id,criterion,value"]
    for doc_id, _domain, _text, noise in docs:
        scores += [f"{doc_id},edu,{1.0 - noise:.6f}", f"{doc_id},junk,{noise + 0.01 * (len(doc_id) % 3):.6f}"]
    (root / "seeds" / "score_rows.csv").write_text("\n".join(scores) + "\n")
    (root / "seeds" / "domain_rows.csv").write_text(
        "doc_id,domain,confidence\n" + "".join(f"{d[0]},{d[1]},1.0\n" for d in docs))
    # The default project's parameter and mixture models (its data tests belong to the sampling part).
    (root / "models" / "mixture").mkdir()
    for name in ("sampling_params.py", "mixture_scored.sql", "mixture.sql"):
        shutil.copy(REPO / "models" / "mixture" / name, root / "models" / "mixture" / name)
    shutil.copytree(REPO / "macros" / "quadmix", root / "macros" / "quadmix")
    files = {
        "models/sources.yml": """\
            version: 2
            sources:
              - name: corpus
                format: jsonl
                tables:
                  - {name: docs, path: data/docs.jsonl, id_field: id, text_field: text}
                  - {name: target, path: data/target.jsonl, id_field: id, text_field: text}
            """,
        "models/documents.sql": """\
            SELECT doc_id, text, 'tiny' AS source, length(text)::BIGINT AS n_chars, n_tokens(text) AS n_tokens
            FROM {{ source('corpus', 'docs') }}
            """,
        "models/quality_scores.sql": "SELECT doc_id, criterion, value::DOUBLE AS value FROM {{ ref('score_rows') }}\n",
        "models/doc_domains.sql": "SELECT doc_id, domain, confidence FROM {{ ref('domain_rows') }}\n",
        "data/params.yml": "param_sets:\n  default:\n    '*': {lambda: 10.0, omega: 0.5, eta: 1.0, epsilon: 0.05}\n",
    }
    for rel, text in files.items():
        (root / rel).write_text(textwrap.dedent(text))
    config = {
        "name": "tiny", "warehouse": {"path": "wh.duckdb", "threads": 2}, "tokenizer": "data/tokenizer.json",
        "vars": {"quadmix": {"criteria": [{"name": "edu", "direction": "higher"},
                                          {"name": "junk", "direction": "lower"}],
                             "seed": 0, "params_source": "file", "params_file": "data/params.yml"},
                 "simulation": simulation or SIMULATION},
        "models": {"tiny": {"+materialized": "table"}},
    }
    (root / "project.yml").write_text(json.dumps(config, indent=2))
    return root


@pytest.fixture(scope="module")
def built_template(tmp_path_factory):
    """A tiny project after `quadmix-wh build` (copied by each test that needs one)."""
    root = write_tiny_project(tmp_path_factory.mktemp("tiny") / "p")
    cli(root, "build")
    return root


@pytest.fixture
def project(built_template, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(built_template, root)
    return root


def test_simulate_fit_search_run_chain(project):
    out = cli(project, "simulate").output
    assert "10 parameter sets and their mixtures built" in out and "Simulated 10 run(s)" in out
    assert "[10/10]" in out
    rows = query(project, "SELECT count(*), count(loss_corpus__target), min(tokens), max(tokens) FROM sim_results "
                          "WHERE status = 'ok'")
    assert rows == [(10, 10, 2048, 2048)]
    assert query(project, "SELECT count(DISTINCT param_set) FROM sim_mixture") == [(10,)]

    fit_out = cli(project, "fit").output
    assert "simulation -> loss_corpus__target, 18 features" in fit_out  # 3 domains x (2 alphas + 4)
    assert "lightgbm" in fit_out and "linear" in fit_out
    assert query(project, "SELECT model FROM fit_metrics WHERE fit_id = 'default' ORDER BY model") == [
        ("lightgbm",), ("linear",)]

    search_out = cli(project, "search").output
    assert "searched 2,000 candidates" in search_out
    assert query(project, "SELECT count(*), count(DISTINCT domain) FROM search_best_params "
                          "WHERE param_set = 'searched'") == [(3, 3)]

    cli(project, "run", "--vars", "{quadmix: {params_source: search}}")
    # the mixture `run` built comes from the searched parameters, and is the one the sampling API
    # builds from search_best_params directly
    assert query(project, "SELECT DISTINCT param_set FROM sampling_params") == [("searched",)]
    built = query(project, "SELECT doc_id, copies FROM mixture ORDER BY doc_id")
    assert built and all(c >= 1 for _, c in built)
    con = duckdb.connect(str(project / "wh.duckdb"))
    try:
        from quadmix_wh.sampling import build_mixture
        build_mixture(con, params_table="search_best_params", seed=0, out_table="check_mixture",
                      criteria=[{"name": "edu", "direction": "higher"}, {"name": "junk", "direction": "lower"}],
                      bins=16384)
        direct = con.execute("SELECT doc_id, copies FROM check_mixture ORDER BY doc_id").fetchall()
    finally:
        con.close()
    assert built == direct


def test_simulation_is_deterministic_and_resumes_in_pieces(project, tmp_path):
    cli(project, "simulate", "--max-runs", "3")
    assert query(project, "SELECT count(*) FROM sim_results") == [(3,)]
    again = cli(project, "simulate").output
    assert "Simulated 7 run(s)" in again and "3 already done" in again
    pieces = query(project, "SELECT param_set, loss_corpus__target FROM sim_results ORDER BY 1")
    # a fresh simulation of the same project in one go: the same losses, bit for bit
    cli(project, "simulate", "--fresh")
    assert query(project, "SELECT param_set, loss_corpus__target FROM sim_results ORDER BY 1") == pieces
    nothing = cli(project, "simulate").output
    assert "Simulated 0 run(s)" in nothing and "10 already done" in nothing


def test_growing_n_param_sets_keeps_the_runs_done(project):
    cli(project, "simulate", "--vars", "{simulation: {n_param_sets: 4}}")
    first = query(project, "SELECT param_set, loss_corpus__target FROM sim_results ORDER BY 1")
    out = cli(project, "simulate", "--vars", "{simulation: {n_param_sets: 6}}").output
    assert "Simulated 2 run(s)" in out and "4 already done" in out
    assert query(project, "SELECT param_set, loss_corpus__target FROM sim_results ORDER BY 1")[:4] == first


@pytest.mark.parametrize("vars_text,needle", [
    ("{simulation: {tokens_per_run: 0}}", "vars.simulation.tokens_per_run: must be a positive integer"),
    ("{simulation: {n_param_sets: 0}}", "vars.simulation.n_param_sets: must be a positive integer"),
    ("{simulation: {targets: []}}", "vars.simulation.targets: must name at least one target table"),
    ("{simulation: {targets: [nope]}}", "vars.simulation.targets: table 'nope' does not exist"),
    ("{simulation: {targets: [corpus__docs, documents]}}", None),
    ("{simulation: {batching: gpu}}", "vars.simulation.batching: must be one of"),
    ("{simulation: {fit: {num_leaves: 0}}}", "vars.simulation.fit.num_leaves"),
    ("{simulation: {search: {top_k: 5000}}}", "vars.simulation.search.top_k"),
    ("{simulation: {experiment: {methods: [best]}}}", "vars.simulation.experiment.methods"),
])
def test_invalid_configuration_is_rejected_before_training(project, vars_text, needle):
    if needle is None:  # a valid variant, as a control: two tables that both hold (doc_id, text)
        cli(project, "simulate", "--vars", vars_text, "--max-runs", "0")
        return
    result = cli(project, "simulate", "--vars", vars_text, expect=2)
    assert needle in result.output, result.output
    assert not query(project, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'sim_results'")[0][0]


def test_empty_target_set_and_missing_inputs_are_rejected(project):
    con = duckdb.connect(str(project / "wh.duckdb"))
    con.execute("CREATE TABLE empty_target AS SELECT * FROM corpus__target WHERE false")
    con.execute("CREATE TABLE no_text AS SELECT doc_id FROM corpus__target")
    con.close()
    out = cli(project, "simulate", "--vars", "{simulation: {targets: [empty_target]}}", expect=2).output
    assert "target set 'empty_target' is empty" in out
    out = cli(project, "simulate", "--vars", "{simulation: {targets: [no_text]}}", expect=2).output
    assert "has no column(s) text" in out
    out = cli(project, "simulate", "--vars", "{quadmix: {scores_model: nothing_here}}", expect=2).output
    assert "quality scores table 'nothing_here' does not exist" in out
    out = cli(project, "search", expect=2).output
    assert "no stored fit named 'default'" in out
    out = cli(project, "fit", expect=2).output
    assert "run `quadmix-wh simulate` first" in out


def test_changed_training_settings_conflict_unless_fresh(project):
    cli(project, "simulate", "--max-runs", "2")
    out = cli(project, "simulate", "--vars", "{simulation: {learning_rate: 0.02}}", expect=2).output
    assert "another simulation configuration" in out and "--fresh" in out
    con = duckdb.connect(str(project / "wh.duckdb"))
    con.execute("UPDATE quality_scores SET value = 1 - value WHERE criterion = 'edu'")  # new scores
    con.close()
    out = cli(project, "simulate", expect=2).output
    assert "other parameters or another mixture" in out
    cli(project, "simulate", "--fresh", "--max-runs", "1")
    assert query(project, "SELECT count(*) FROM sim_results") == [(1,)]


def test_commands_wait_for_the_warehouse_lock(project):
    from filelock import FileLock
    with FileLock(str(project / "wh.duckdb.lock")):
        out = cli(project, "simulate", expect=2).output
    assert "another quadmix-wh command is using this warehouse" in out


def test_fit_from_csv_and_table_through_the_cli(project, tmp_path):
    import numpy as np
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(4), size=120)
    loss = 3 - w[:, 0] + (w[:, 1] - 0.3) ** 2 + rng.normal(0, 0.005, 120)
    path = tmp_path / "regmix.csv"
    path.write_text("a,b,c,d,loss\n" + "".join(",".join(f"{v:.5f}" for v in (*r, l)) + "\n" for r, l in zip(w, loss)))
    out = cli(project, "fit", "--csv", str(path), "--target", "loss", "--name", "regmix").output
    assert "csv:regmix.csv -> loss, 4 features, 96 train / 24 held-out rows" in out
    spearman = dict(query(project, "SELECT model, spearman FROM fit_metrics WHERE fit_id = 'regmix'"))
    assert spearman["lightgbm"] > 0.8 and spearman["linear"] > 0.8
    out = cli(project, "fit", "--table", "corpus__docs", "--target", "_line", "--features", "_line", expect=2).output
    assert "column '_line' is the target" in out
    out = cli(project, "fit", "--table", "corpus__docs", "--target", "text", expect=2).output
    assert "--target: column 'text' is VARCHAR, not numeric" in out


def _simulate_subprocess(root: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "quadmix_wh.cli", "simulate", "--project-dir", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def test_sigkill_mid_simulation_resumes_with_no_partial_row(built_template, tmp_path):
    """A real kill -9 while a run trains; the re-run finishes the work with the same losses."""
    simulation = {**SIMULATION, "n_param_sets": 6, "tokens_per_run": 6144, "group_size": 1}
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for root in (clean, killed):
        shutil.copytree(built_template, root)
        config = json.loads((root / "project.yml").read_text())
        config["vars"]["simulation"] = simulation
        (root / "project.yml").write_text(json.dumps(config))
    cli(clean, "simulate")
    expected = query(clean, "SELECT param_set, loss_corpus__target FROM sim_results ORDER BY 1")

    proc = _simulate_subprocess(killed)
    finished = 0
    for line in proc.stdout:
        if line.startswith("["):
            finished += 1
        if finished == 2:  # two rows committed; the third run is training now
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    rows = query(killed, "SELECT * FROM sim_results")
    assert 2 <= len(rows) < 6
    assert all(value is not None for row in rows for value in row)  # whole rows only
    out = cli(killed, "simulate").output
    assert f"{len(rows)} already done" in out
    assert query(killed, "SELECT param_set, loss_corpus__target FROM sim_results ORDER BY 1") == expected


def test_experiment_writes_table_and_plot(project):
    cli(project, "simulate")
    cli(project, "fit")
    cli(project, "search")
    out = cli(project, "experiment").output
    methods = {r[0] for r in query(project, "SELECT method FROM experiment_results")}
    assert methods == {"random", "top_edu", "top_junk", "union", "quadmix"}
    rows = query(project, "SELECT method, tokens, documents, mixture_tokens, loss_corpus__target, proxy_parameters "
                          "FROM experiment_results")
    assert all(r[1] == 2048 and r[2] > 0 and r[3] > 0 and 2.0 < r[4] < 8.0 for r in rows)
    small = query(project, "SELECT max(proxy_parameters) FROM experiment_results")[0][0]
    assert "vs random" in out and "target corpus__target" in out
    png = project / "target" / "experiment.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and small > 0
    # the union holds every top-k document; each top-k keeps about keep_fraction of the tokens
    sizes = dict(query(project, "SELECT method, sum(tokens) FROM experiment_mixtures GROUP BY 1"))
    total = query(project, "SELECT sum(n_tokens) FROM documents")[0][0]
    assert sizes["union"] >= max(sizes["top_edu"], sizes["top_junk"])
    assert 0.4 * total <= sizes["top_edu"] < 0.4 * total + 200
    missing = query(project, "SELECT count(*) FROM experiment_mixtures u WHERE method = 'top_edu' AND doc_id NOT IN "
                             "(SELECT doc_id FROM experiment_mixtures WHERE method = 'union')")
    assert missing == [(0,)]


def test_experiment_without_search_is_rejected(project):
    out = cli(project, "experiment", expect=2).output
    assert "method 'quadmix' needs the table search_best_params" in out
    cli(project, "experiment", "--vars", "{simulation: {experiment: {methods: [random, top_k]}}}")
    assert {r[0] for r in query(project, "SELECT method FROM experiment_results")} == {"random", "top_edu", "top_junk"}
