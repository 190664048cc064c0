"""rank_method='sampled' (macros/quadmix/sampled.sql): histograms from a per-domain subset, then
one pass over every document. Checked against the exact mode: equal accuracy to the binned mode
when every document is in the subset, exact on discrete scores, an error within a
Dvoretzky-Kiefer-Wolfowitz bound derived from the subset's size when it is not; plus the API's
statements, its errors and the temp tables it leaves behind (none)."""
from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from quadmix_wh.sampling import build_mixture
from quadmix_wh.sampling.api import ParamsError, inputs_sql, mixture_sql, mixture_statements
from quadmix_wh.sampling.uniform import doc_hash
from sampling_reference import CRITERIA, load_corpus, load_params, make_corpus, param_row, reference_mixture

BASE = [param_row("base", "*", (0.5, 0.3, 0.2), 10.0, 0.4, 1.0, 0.05)]


def _scored(con, seed=2, **kwargs) -> dict:
    build_mixture(con, params_table="params", seed=seed, out_table="scored", criteria=CRITERIA,
                  output="scored", **kwargs)
    rows = con.execute("SELECT param_set, doc_id, rbar, s, copies, qbar FROM scored").fetchall()
    return {(ps, d): (r, s, c, q) for ps, d, r, s, c, q in rows}


@pytest.fixture(scope="module")
def heavy_tail():
    """20,000 docs in 3 domains (+ the single-doc and zero-token domains), no ties, a heavy tail."""
    corpus = make_corpus(20000, 3, np.random.default_rng(1), ties=False)
    corpus["scores"]["ppl"] = np.exp(corpus["scores"]["ppl"] * 2)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, BASE)
    return corpus, con, _scored(con)


def _rank_errors(exact: dict, got: dict) -> np.ndarray:
    assert set(exact) == set(got)
    return np.array([abs(exact[k][0] - got[k][0]) for k in exact])


def test_with_every_document_in_the_subset_it_is_as_close_as_binned(heavy_tail):
    _corpus, con, exact = heavy_tail
    sampled = _scored(con, rank_method="sampled", bins=1024)   # default sample_docs: all docs kept
    errors = _rank_errors(exact, sampled)
    assert errors.max() < 0.01 and errors.mean() < 5e-4
    assert sum(exact[k][2] != sampled[k][2] for k in exact) < 0.01 * len(exact)
    assert all(0.0 <= v[0] <= 1.0 for v in sampled.values())


def _subset_eps(corpus: dict, sample_docs: int, alpha: float = 1e-6) -> float:
    """The DKW deviation bound sqrt(ln(2/alpha) / (2 n)) of an empirical cdf, with n the smallest
    effective size (sum w)^2 / sum w^2 of a subsampled domain's token-weighted subset."""
    domains = np.asarray(corpus["domain"])
    tokens = np.asarray(corpus["n_tokens"], dtype=np.float64)
    worst = math.inf
    for dom in set(domains):
        idx = np.flatnonzero(domains == dom)
        sub_mod = max(len(idx) // sample_docs, 1)
        if sub_mod == 1:
            continue
        keep = [i for i in idx if doc_hash(corpus["doc_id"][i]) % sub_mod == 0]
        w = tokens[keep]
        worst = min(worst, w.sum() ** 2 / (w ** 2).sum())
    assert worst < math.inf, "no domain was subsampled"
    return math.sqrt(math.log(2 / alpha) / (2 * worst))


@pytest.mark.parametrize("sample_docs", [500, 2000])
def test_subset_error_is_within_the_sampling_bound(heavy_tail, sample_docs):
    corpus, con, exact = heavy_tail
    sampled = _scored(con, rank_method="sampled", bins=1024, sample_docs=sample_docs)
    errors = _rank_errors(exact, sampled)
    eps = _subset_eps(corpus, sample_docs)
    # σ of each criterion and the r̄ cdf are each off by at most eps (w.p. 1 - 1e-6 per cdf);
    # r̄ inherits the σ errors through qbar, hence the factor 2 on the maximum.
    assert errors.max() <= 2 * eps, (errors.max(), eps)
    assert errors.mean() <= eps / 2, (errors.mean(), eps)
    # the subset really was used: the estimate moved away from the full-data one
    assert errors.mean() > 1e-3


def test_a_bigger_subset_is_more_accurate(heavy_tail):
    _corpus, con, exact = heavy_tail
    small = _rank_errors(exact, _scored(con, rank_method="sampled", sample_docs=500)).mean()
    big = _rank_errors(exact, _scored(con, rank_method="sampled", sample_docs=2000)).mean()
    assert big < small


def test_exact_on_discrete_scores_and_ties():
    """Integer scores: every value alone in its bin, so σ is exact; with one criterion qbar = σ
    and r̄ is exact too; ties share the highest cumulative value."""
    corpus = make_corpus(5000, 3, np.random.default_rng(5))
    for name in corpus["scores"]:
        corpus["scores"][name] = np.round(corpus["scores"][name] * 2)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, [param_row("one", "*", (1.0, 0.0, 0.0), 10.0, 0.4, 1.0, 0.05)])
    exact = _scored(con, seed=0)
    sampled = _scored(con, seed=0, rank_method="sampled")
    assert all(exact[k][3] == sampled[k][3] for k in exact)          # qbar
    assert all(exact[k][0] == sampled[k][0] for k in exact)          # rbar
    assert all(exact[k][2] == sampled[k][2] for k in exact)          # copies


def test_matches_the_reference_on_tiny_corpora():
    for n_docs in (1, 2, 3):
        corpus = make_corpus(n_docs, 1, np.random.default_rng(n_docs))
        con = duckdb.connect()
        load_corpus(con, corpus)
        load_params(con, BASE)
        got = _scored(con, seed=1, rank_method="sampled")
        ref = reference_mixture(corpus, BASE, seed=1)
        assert {k: (v[0], v[2]) for k, v in got.items()} == {k: (v[0], v[2]) for k, v in ref.items()}


def test_budget_is_met_and_prepared_inputs_give_the_same_mixture():
    corpus = make_corpus(3000, 4, np.random.default_rng(3))
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, BASE + [param_row("other", "*", (0.2, 0.2, 0.6), 300.0, 0.2, 2.0, 0.3)])
    raw = _scored(con, seed=5, rank_method="sampled", sample_docs=200, budget_tokens=50_000)
    for _ps, total in con.execute("SELECT param_set, sum(s * n_tokens) FROM scored GROUP BY 1").fetchall():
        assert abs(total - 50_000) < 1e-6
    con.execute(f"CREATE TABLE prepared AS {inputs_sql(criteria=CRITERIA)}")
    prepared = _scored(con, seed=5, rank_method="sampled", sample_docs=200, budget_tokens=50_000,
                       inputs_table="prepared", check_inputs=False)
    assert raw == prepared


def test_statements_and_errors():
    common = dict(params_table="params", seed=1, criteria=CRITERIA)
    with pytest.raises(ParamsError, match="not one query"):
        mixture_sql(rank_method="sampled", **common)
    with pytest.raises(ParamsError, match="normalization 'percentile'"):
        mixture_statements(rank_method="sampled", normalization="minmax", **common)
    with pytest.raises(ParamsError, match="sample_docs"):
        mixture_statements(rank_method="sampled", sample_docs=0, **common)
    with pytest.raises(ParamsError, match="temp_prefix"):
        mixture_statements(rank_method="sampled", temp_prefix="bad name; drop", **common)
    exact = mixture_statements(rank_method="exact", **common)
    assert exact.prepare == "" and exact.cleanup == "" and exact.select.lstrip().startswith("WITH")
    sampled = mixture_statements(rank_method="sampled", temp_prefix="qm_t_", **common)
    assert "CREATE OR REPLACE TEMP TABLE qm_t_cdf" in sampled.prepare
    assert "qm_t_rank_cdf" in sampled.select and "DROP TABLE IF EXISTS qm_t_rank_cdf" in sampled.cleanup


def _temp_tables(con) -> list:
    return con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()


def test_temp_tables_are_dropped_even_when_the_build_fails():
    corpus = make_corpus(200, 2, np.random.default_rng(2))
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, BASE)
    _scored(con, rank_method="sampled")
    assert _temp_tables(con) == []
    con.execute("UPDATE documents SET n_tokens = -5 WHERE doc_id = 'doc-000010'")
    with pytest.raises(duckdb.Error, match="doc-000010"):
        _scored(con, rank_method="sampled")
    assert _temp_tables(con) == []


def test_many_parameter_sets_in_one_query_match_each_set_alone():
    """60 parameter sets x 20 domains: the r̄ tables' key range (1,200 groups x 1,026 bins) is past
    DuckDB's array-lookup limit, so that join falls back to an ordinary hash join; each set's
    rows must still be exactly what the set gets when built alone."""
    rng = np.random.default_rng(8)
    corpus = make_corpus(4000, 20, rng)
    sets = [param_row(f"ps{i:02d}", "*", tuple(rng.dirichlet(np.ones(3))), float(10 ** rng.uniform(0, 3)),
                      float(rng.uniform(0, 1)), float(rng.uniform(0.5, 3)), float(rng.uniform(0, 0.2)))
            for i in range(60)]
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, sets)
    together = _scored(con, seed=9, rank_method="sampled", sample_docs=50)
    for row in (sets[0], sets[31], sets[59]):
        load_params(con, [row])
        alone = _scored(con, seed=9, rank_method="sampled", sample_docs=50)
        assert alone == {k: v for k, v in together.items() if k[0] == row["param_set"]}
