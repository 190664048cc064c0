"""Determinism of the QuaDMix draw: the same seed gives bit-identical mixtures whatever the thread
count (on data large enough for DuckDB to split the work), and different seeds give different
draws whose totals and disagreements match the Bernoulli mean and variance."""
from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from quadmix_wh.sampling import build_mixture
from sampling_reference import CRITERIA, load_corpus, load_params, make_corpus, param_row

PARAMS = [param_row("a", "*", (0.5, 0.3, 0.2), 10.0, 0.4, 1.0, 0.05),
          param_row("b", "*", (0.2, 0.2, 0.6), 300.0, 0.2, 2.0, 0.3),
          param_row("b", "dom1", (0.9, 0.1, 0.0), 5.0, 0.9, 0.5, 0.0)]


N_BIG = 130_000


@pytest.fixture(scope="module")
def big_corpus():
    # 130k docs (390k score rows): more than one DuckDB row group (122,880 rows), so 2 threads
    # really split the scans, the sorts and the aggregates
    return make_corpus(N_BIG, 26, np.random.default_rng(5))


def _scored(corpus, threads: int, **options) -> list:
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    load_corpus(con, corpus)
    load_params(con, PARAMS)
    build_mixture(con, params_table="params", seed=17, out_table="scored", criteria=CRITERIA, output="scored",
                  **options)
    rows = con.execute("SELECT param_set, doc_id, domain, n_tokens, qbar, rbar, s, copies, tokens FROM scored "
                       "ORDER BY param_set, doc_id").fetchall()
    con.close()
    return rows


@pytest.mark.parametrize("options", [
    {"rank_method": "exact"},
    # 130k docs in 26 domains, ~5,000 a domain: sample_docs=1000 really subsamples
    {"rank_method": "sampled", "sample_docs": 1000},
    pytest.param({"rank_method": "binned", "budget_tokens": 2e7}, marks=pytest.mark.slow),
    pytest.param({"normalization": "zscore", "budget_tokens": 1e7}, marks=pytest.mark.slow),
], ids=["exact", "sampled", "binned-budget", "zscore-budget"])
def test_same_seed_same_bits_with_1_and_2_threads(big_corpus, options):
    one = _scored(big_corpus, 1, **options)
    two = _scored(big_corpus, 2, **options)
    assert len(one) == 2 * N_BIG
    # tuples of Python floats compare bit for bit (no tolerance); also the repr, to catch -0.0
    assert one == two
    assert repr(one[:1000]) == repr(two[:1000])


def test_different_seeds_give_different_draws_with_the_expected_mean():
    """copies = floor(s) + Bernoulli(frac(s)) independently per doc: the total over the docs has
    mean Σ s·w and variance Σ f(1 - f)·w² (w = 1 for copies, n_tokens for tokens); two seeds
    disagree on a doc with probability 2 f (1 - f). Every check allows 4.5 standard deviations,
    computed from the data, so it fails only with probability < 1e-5 per check for a correct
    uniform, while a biased or seed-blind draw fails it."""
    corpus = make_corpus(20_000, 5, np.random.default_rng(11), ties=False)
    con = duckdb.connect()
    load_corpus(con, corpus)
    load_params(con, PARAMS[:1])
    draws = {}
    for seed in range(12):
        build_mixture(con, params_table="params", seed=seed, out_table="scored", criteria=CRITERIA,
                      output="scored")
        rows = con.execute("SELECT doc_id, s, copies, n_tokens FROM scored ORDER BY doc_id").fetchall()
        draws[seed] = np.array([r[2] for r in rows], dtype=np.int64)
        s = np.array([r[1] for r in rows])
        w = np.array([r[3] for r in rows], dtype=np.float64)
    frac = s - np.floor(s)
    var_f = frac * (1 - frac)
    assert (frac > 0).sum() > 10_000                       # the draws matter for most docs
    z = 4.5
    totals = np.array([d.sum() for d in draws.values()], dtype=np.float64)
    token_totals = np.array([(d * w).sum() for d in draws.values()])
    sd_copies, sd_tokens = math.sqrt(var_f.sum()), math.sqrt((var_f * w * w).sum())
    for total, tokens in zip(totals, token_totals):
        assert abs(total - s.sum()) <= z * sd_copies
        assert abs(tokens - (s * w).sum()) <= z * sd_tokens
    # the mean over 12 independent seeds has a 12 times smaller variance
    assert abs(totals.mean() - s.sum()) <= z * sd_copies / math.sqrt(len(totals))
    # each doc's copies are floor(s) or floor(s) + 1
    for d in draws.values():
        assert np.all((d == np.floor(s)) | (d == np.floor(s) + 1))
    # per document: the share of seeds drawing the extra copy is close to frac(s) on average
    extra = np.mean([d - np.floor(s) for d in draws.values()], axis=0)   # per doc, over seeds
    assert abs((extra - frac).sum()) <= z * math.sqrt(var_f.sum() / len(draws))
    # pairs of seeds disagree on about Σ 2 f (1 - f) docs
    p = 2 * var_f
    mean_disagree, sd_disagree = p.sum(), math.sqrt((p * (1 - p)).sum())
    for a, b in [(0, 1), (1, 2), (3, 7), (5, 11)]:
        disagree = int((draws[a] != draws[b]).sum())
        assert disagree > 0
        assert abs(disagree - mean_disagree) <= z * sd_disagree, (a, b, disagree, mean_disagree)
    # and the same seed again is the same draw
    build_mixture(con, params_table="params", seed=3, out_table="again", criteria=CRITERIA, output="scored")
    again = np.array([r[0] for r in con.execute("SELECT copies FROM again ORDER BY doc_id").fetchall()])
    assert np.array_equal(again, draws[3])
