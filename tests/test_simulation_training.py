import numpy as np
import pytest

from quadmix_wh.sampling import build_mixture
from quadmix_wh.simulation.algorithm1 import sample_param_sets
from quadmix_wh.simulation.batched import train_group
from quadmix_wh.simulation.config import SimulationConfigError
from quadmix_wh.simulation.loop import run_simulation
from quadmix_wh.simulation.packing import training_sequences
from quadmix_wh.simulation.proxy import llama_config
from quadmix_wh.simulation.results import ResultsConflictError
from quadmix_wh.simulation.trainer import TrainSettings, train_single
from test_simulation_kit import CRITERIA, make_warehouse, one_torch_thread, tiny_config  # noqa: F401


def prepare(con, cfg):
    domains = [r[0] for r in con.execute("SELECT DISTINCT domain FROM doc_domains ORDER BY 1").fetchall()]
    sample_param_sets(con, domains=domains, criteria=[c["name"] for c in CRITERIA], ranges=cfg.values,
                      n_sets=cfg["n_param_sets"], seed=cfg["seed"])
    build_mixture(con, params_table="sim_param_sets", seed=cfg["seed"], out_table="sim_mixture",
                  criteria=CRITERIA)


def losses(con):
    return con.execute("SELECT param_set, status, loss_target_reference FROM sim_results "
                       "ORDER BY param_set").fetchall()


def test_token_store_tokenizes_once_and_matches_tokenizer(tmp_path):
    con, tokenizer, store = make_warehouse(tmp_path)
    assert store.ensure("documents") == 60
    assert store.ensure("documents") == 0  # nothing re-tokenized
    text = con.execute("SELECT text FROM documents WHERE doc_id = 'cooking-003'").fetchone()[0]
    assert store.document_ids("documents", "cooking-003").tolist() == tokenizer.encode(text).ids
    # a changed text is tokenized again, under the same doc_id
    con.execute("UPDATE documents SET text = 'salt and pepper' WHERE doc_id = 'cooking-003'")
    assert store.ensure("documents") == 1
    assert store.document_ids("documents", "cooking-003").tolist() == tokenizer.encode("salt and pepper").ids
    assert con.execute("SELECT count(*) FROM token_index").fetchone()[0] == 60


def test_training_sequences_exact_count_and_cycling():
    tokens = np.arange(100, dtype=np.uint16)
    spans = np.array([[0, 10], [10, 5]])  # 17 tokens with EOS separators: cycled
    seqs = training_sequences(tokens, spans, n_tokens=64, seq_len=16, eos=999, seed=3)
    assert seqs.shape == (4, 16)
    assert (seqs == 999).sum() >= 6
    again = training_sequences(tokens, spans, n_tokens=64, seq_len=16, eos=999, seed=3)
    assert np.array_equal(seqs, again)
    with pytest.raises(ValueError, match="empty"):
        training_sequences(tokens, np.zeros((0, 2)), n_tokens=64, seq_len=16, eos=999, seed=3)


def test_batched_matches_one_at_a_time():
    config = llama_config({"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                           "intermediate_size": 64}, 300, 16)
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 300, (24, 16)) for _ in range(3)]
    evals = {"t": rng.integers(0, 300, (6, 16))}
    settings = TrainSettings(seq_len=16, batch_size=4, learning_rate=3e-3)
    single = [train_single(config, s, evals, seed, settings) for s, seed in zip(seqs, [1, 2, 3])]
    group = train_group(config, seqs, evals, [1, 2, 3], settings)
    for a, b in zip(single, group):
        assert a["t"] == pytest.approx(b["t"], rel=1e-5)
    # and training really happened: different data gives different losses
    assert len({round(r["t"], 6) for r in single}) == 3


def test_simulation_deterministic_and_complete(tmp_path):
    cfg = tiny_config()
    results = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        con, _, store = make_warehouse(tmp_path / name)
        prepare(con, cfg)
        report = run_simulation(con, cfg, store)
        assert len(report.finished) == 6
        results.append(losses(con))
        row = con.execute("SELECT tokens, seed, model_config, code_fingerprint FROM sim_results LIMIT 1").fetchone()
        assert row[0] == 2048 and row[1] == 0 and '"hidden_size": 32' in row[2] and len(row[3]) == 16
    assert results[0] == results[1]  # same seed twice: identical losses
    assert all(r[1] == "ok" and 3.0 < r[2] < 7.0 for r in results[0])


def test_killed_simulation_resumes_without_partial_rows(tmp_path):
    cfg = tiny_config()
    clean_dir, crash_dir = tmp_path / "clean", tmp_path / "crash"
    clean_dir.mkdir(), crash_dir.mkdir()
    con, _, store = make_warehouse(clean_dir)
    prepare(con, cfg)
    run_simulation(con, cfg, store)
    expected = losses(con)

    con, _, store = make_warehouse(crash_dir)
    prepare(con, cfg)
    seen = []

    def crash_after_two(row, done, total):
        seen.append(row["param_set"])
        if len(seen) == 2:  # mid-group: the first group has 3 proxies
            raise KeyboardInterrupt("simulated kill")

    with pytest.raises(KeyboardInterrupt):
        run_simulation(con, cfg, store, on_run_finished=crash_after_two)
    assert con.execute("SELECT count(*) FROM sim_results").fetchone()[0] == 2
    report = run_simulation(con, cfg, store)
    assert sorted(report.skipped) == seen and len(report.finished) == 4
    assert losses(con) == expected  # bit-identical to the uninterrupted simulation


def test_invalid_inputs_rejected_before_training(tmp_path):
    con, _, store = make_warehouse(tmp_path)
    cfg = tiny_config()
    prepare(con, cfg)
    con.execute("DELETE FROM target_reference")
    with pytest.raises(SimulationConfigError, match="target set 'target_reference' is empty"):
        run_simulation(con, cfg, store)
    with pytest.raises(SimulationConfigError, match="'nope' does not exist"):
        run_simulation(con, tiny_config(targets=["nope"]), store)
    assert not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name='sim_results'").fetchone()[0]


def test_corpus_without_tokens_is_rejected_before_training(tmp_path):
    from quadmix_wh.simulation.inputs import ProjectInputs, prepare_mixtures
    con, _, _ = make_warehouse(tmp_path)
    con.execute("UPDATE documents SET n_tokens = 0")
    inputs = ProjectInputs.from_vars({"criteria": CRITERIA})
    with pytest.raises(SimulationConfigError, match="'documents' holds no tokens"):
        prepare_mixtures(con, tiny_config(), inputs)
    assert not con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name IN ('sim_param_sets', 'sim_mixture', 'sim_results')").fetchall()[0][0]


def test_changed_config_conflicts_unless_fresh(tmp_path):
    con, _, store = make_warehouse(tmp_path)
    cfg = tiny_config(n_param_sets=2)
    prepare(con, cfg)
    run_simulation(con, cfg, store)
    other = tiny_config(n_param_sets=2, learning_rate=0.02)
    with pytest.raises(ResultsConflictError, match="--fresh"):
        run_simulation(con, other, store)
    report = run_simulation(con, other, store, fresh=True)
    assert len(report.finished) == 2


def test_simulation_mixtures_follow_the_projects_rank_method(tmp_path):
    """vars.quadmix.rank_method 'sampled' (with its sample_docs) reaches the simulation's
    build_mixture as it reaches the mixture_scored model: same defaults, same mixtures."""
    from quadmix_wh.sampling import build_mixture
    from quadmix_wh.simulation.inputs import MIXTURE_TABLE, PARAM_TABLE, ProjectInputs, prepare_mixtures
    con, _, _ = make_warehouse(tmp_path)
    inputs = ProjectInputs.from_vars({"criteria": CRITERIA, "rank_method": "sampled", "sample_docs": 20})
    assert inputs.options == {"normalization": "percentile", "rank_method": "sampled", "bins": 1024,
                              "scores_format": "long", "sample_docs": 20}
    cfg = tiny_config(n_param_sets=3)
    prepare_mixtures(con, cfg, inputs)
    build_mixture(con, params_table=PARAM_TABLE, seed=cfg["seed"], out_table="direct", criteria=CRITERIA,
                  budget_tokens=cfg["budget_tokens"], rank_method="sampled", sample_docs=20)
    got = con.execute(f"SELECT * FROM {MIXTURE_TABLE} ORDER BY ALL").fetchall()
    assert got and got == con.execute("SELECT * FROM direct ORDER BY ALL").fetchall()
