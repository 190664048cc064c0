import duckdb
import numpy as np
import pytest

from quadmix_wh.regression import FitError, fit, load_fit
from quadmix_wh.search import search
from quadmix_wh.simulation.algorithm1 import sample_param_sets
from quadmix_wh.simulation.config import load_simulation_config

RANGES = load_simulation_config(None).values


def regmix_csv(path, n=300, seed=0):
    """RegMix-style: domain weights on the simplex -> a loss with an interaction and noise."""
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(5), size=n)
    loss = 3.0 - 1.5 * w[:, 0] + 2.0 * (w[:, 1] - 0.2) ** 2 + 1.0 * w[:, 2] * w[:, 3] + rng.normal(0, 0.01, n)
    lines = ["web,books,code,wiki,news,loss"] + [",".join(f"{v:.6f}" for v in [*row, l]) for row, l in zip(w, loss)]
    path.write_text("\n".join(lines) + "\n")
    return path


def fake_simulation(con, n_sets=200, seed=0):
    """sim_param_sets from Algorithm 1 and sim_results whose loss falls as domain 'a' keeps more (omega)."""
    sample_param_sets(con, domains=["a", "b"], criteria=["edu", "junk"], ranges=RANGES, n_sets=n_sets, seed=seed)
    rows = con.execute("SELECT param_set, max(omega) FILTER (WHERE domain='a'), "
                       "max(alpha_edu) FILTER (WHERE domain='b') FROM sim_param_sets GROUP BY 1 ORDER BY 1").fetchall()
    con.execute("CREATE TABLE sim_results (param_set VARCHAR, status VARCHAR, loss_target_reference DOUBLE, "
                "tokens BIGINT, seconds DOUBLE)")
    con.executemany("INSERT INTO sim_results VALUES (?, 'ok', ?, 1000, 1.0)",
                    [(p, 4.0 - 0.8 * om - 0.3 * ae, ) for p, om, ae in rows])


def test_fit_on_csv_beats_nothing_and_reports_linear(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    report = fit(con, csv=str(regmix_csv(tmp_path / "regmix.csv")), target="loss", name="regmix")
    assert report.features == ["web", "books", "code", "wiki", "news"]
    assert report.n_train == 240 and report.n_test == 60
    assert report.metrics["lightgbm"]["spearman"] > 0.9
    assert set(report.metrics) == {"lightgbm", "linear"}
    rows = con.execute("SELECT model, split, n FROM fit_metrics WHERE fit_id='regmix' ORDER BY model").fetchall()
    assert rows == [("lightgbm", "test", 60), ("linear", "test", 60)]
    stored = load_fit(con, "regmix")
    assert stored["target"] == "loss" and stored["booster"].num_trees() == 300


def test_fit_on_table_with_chosen_features_is_deterministic(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv_auto(?)", [str(regmix_csv(tmp_path / "r.csv"))])
    a = fit(con, table="t", features=["web", "books"], target="loss", name="a")
    model_a = con.execute("SELECT model FROM fits WHERE fit_id='a'").fetchone()[0]
    b = fit(con, table="t", features=["web", "books"], target="loss", name="a")
    assert a.metrics["lightgbm"]["mae"] == b.metrics["lightgbm"]["mae"]
    assert con.execute("SELECT model FROM fits WHERE fit_id='a'").fetchone()[0] == model_a
    assert con.execute("SELECT count(*) FROM fits").fetchone()[0] == 1  # replaced, not duplicated


@pytest.mark.parametrize("kwargs,needle", [
    ({"table": "missing", "target": "loss"}, "--table"),
    ({"table": "t", "target": "nope"}, "--target"),
    ({"table": "t", "target": "loss", "features": ["zzz"]}, "--features"),
    ({"table": "t", "target": "loss", "features": ["label"]}, "not numeric"),
    ({"table": "t", "target": "loss", "settings": {"test_fraction": 1.5}}, "test_fraction"),
    ({"table": "t", "target": "loss", "settings": {"max_bin": 1}}, "max_bin"),
])
def test_fit_errors_name_the_field(kwargs, needle):
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range::DOUBLE AS x, (range * 2)::DOUBLE AS loss, 'l' AS label FROM range(20)")
    with pytest.raises(FitError, match=needle):
        fit(con, **kwargs)


def test_fit_defaults_to_simulation_and_search_finds_the_optimum():
    con = duckdb.connect()
    fake_simulation(con)
    report = fit(con)  # features: the flattened parameter vector; target: the first loss column
    assert report.target == "loss_target_reference" and len(report.features) == 2 * 6
    assert report.features[0] == "a__alpha_edu"
    assert report.metrics["lightgbm"]["spearman"] > 0.9
    result = search(con, ranges=RANGES, n_candidates=5000, top_k=10, seed=1)
    best = {r[0]: r[1:] for r in con.execute(
        "SELECT domain, alpha_edu, alpha_junk, omega FROM search_best_params WHERE param_set='searched'").fetchall()}
    assert set(best) == {"a", "b"}
    for alpha_edu, alpha_junk, _ in best.values():
        assert alpha_edu + alpha_junk == pytest.approx(1.0, abs=1e-12)
    assert best["a"][2] > 0.75            # the loss falls with a's omega: the search keeps more of a
    assert result.averaged_predicted < 3.6  # well below the mean simulated loss (~3.45+)
    summary = con.execute("SELECT n_candidates, top_k, fit_id FROM search_summary").fetchone()
    assert summary == (5000, 10, "default")
    again = search(con, ranges=RANGES, n_candidates=5000, top_k=10, seed=1)
    assert np.array_equal(again.params, result.params)


def test_searched_params_are_valid_sampling_params():
    from quadmix_wh.sampling import validate_params
    con = duckdb.connect()
    fake_simulation(con, n_sets=40)
    fit(con)
    search(con, ranges=RANGES, n_candidates=2000, top_k=7)
    cur = con.execute("SELECT * FROM search_best_params")
    names = [d[0] for d in cur.description]
    validate_params([dict(zip(names, r)) for r in cur.fetchall()],
                    [{"name": "edu", "direction": "higher"}, {"name": "junk", "direction": "lower"}])


def test_search_rejects_non_parameter_fit(tmp_path):
    con = duckdb.connect()
    fit(con, csv=str(regmix_csv(tmp_path / "r.csv")), target="loss")
    with pytest.raises(FitError, match="not QuaDMix parameters"):
        search(con, ranges=RANGES, n_candidates=100)
    with pytest.raises(FitError, match="no stored fit"):
        search(con, ranges=RANGES, fit_id="other", n_candidates=100)
