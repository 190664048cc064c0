import duckdb
import numpy as np
import pytest

from quadmix_wh.simulation.algorithm1 import (draw_parameters, read_param_array, sample_param_sets)
from quadmix_wh.simulation.config import DEFAULTS, SimulationConfigError, load_simulation_config

DOMAINS = ["a", "b", "c"]
CRITERIA = ["edu", "junk"]


def ranges(**kw):
    cfg = load_simulation_config(kw)
    return cfg.values


def test_alphas_on_simplex_and_ranges_respected():
    r = ranges(omega_range=[0.2, 0.6], eta_range=[0.5, 2.0], epsilon_range=[0.0, 0.01])
    p = draw_parameters(500, 3, 2, r, seed=1)
    assert p.shape == (500, 3, 6)
    assert np.allclose(p[..., :2].sum(axis=2), 1.0, atol=1e-12)
    assert (p[..., :2] >= 0).all()
    lam, omega, eta, eps = (p[..., 2 + i] for i in range(4))
    assert lam.min() >= 1.0 and lam.max() <= 1000.0
    assert omega.min() >= 0.2 and omega.max() <= 0.6
    assert eta.min() >= 0.5 and eta.max() <= 2.0
    assert eps.min() >= 0.0 and eps.max() <= 0.01


def test_lambda_scales():
    log = draw_parameters(2000, 1, 1, ranges(lambda_scale="log"), seed=3)[..., 1]
    lin = draw_parameters(2000, 1, 1, ranges(lambda_scale="linear"), seed=3)[..., 1]
    u = lin / 1000.0  # same uniforms, two rescalings
    assert np.allclose(log, 10 ** (3 * u))
    # log scale puts half the draws below sqrt(1000); linear puts half below 500
    assert np.median(log) < 100 < np.median(lin)


def test_deterministic_and_seed_sensitive():
    r = ranges()
    a = draw_parameters(10, 3, 2, r, seed=7)
    assert np.array_equal(a, draw_parameters(10, 3, 2, r, seed=7))
    assert not np.array_equal(a, draw_parameters(10, 3, 2, r, seed=8))


def test_table_round_trip():
    con = duckdb.connect()
    table = sample_param_sets(con, domains=DOMAINS, criteria=CRITERIA, ranges=ranges(), n_sets=4, seed=0)
    assert table.num_rows == 12
    cols = [r[0] for r in con.execute("DESCRIBE sim_param_sets").fetchall()]
    assert cols == ["param_set", "domain", "alpha_edu", "alpha_junk", "lambda", "omega", "eta", "epsilon"]
    names, domains, criteria, params = read_param_array(con, "sim_param_sets")
    assert names == ["sim_0000", "sim_0001", "sim_0002", "sim_0003"] and domains == DOMAINS
    assert np.array_equal(params, draw_parameters(4, 3, 2, ranges(), seed=0))


def test_sampled_params_pass_the_sampling_validator():
    from quadmix_wh.sampling import validate_params
    con = duckdb.connect()
    sample_param_sets(con, domains=DOMAINS, criteria=CRITERIA, ranges=ranges(), n_sets=20, seed=0)
    cur = con.execute("SELECT * FROM sim_param_sets")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    validate_params(rows, [{"name": c, "direction": "higher"} for c in CRITERIA])


@pytest.mark.parametrize("field,value,needle", [
    ("lambda_scale", "cubic", "lambda_scale"),
    ("omega_range", [0.5, 0.1], "omega_range"),
    ("omega_range", [0.0, 2.0], "omega_range"),
    ("epsilon_range", "x", "epsilon_range"),
    ("n_param_sets", 0, "n_param_sets"),
    ("tokens_per_run", 0, "tokens_per_run"),
    ("tokens_per_run", 1000, "multiple of seq_len"),
    ("targets", [], "targets"),
    ("proxy", {"hidden_size": 30, "num_hidden_layers": 1, "num_attention_heads": 4,
               "intermediate_size": 8}, "divisible"),
    ("bogus", 1, "unknown key"),
    ("fit", {"max_bin": 1}, "fit.max_bin"),
    ("fit", {"num_threads": 0}, "fit.num_threads"),
])
def test_bad_config_names_the_field(field, value, needle):
    with pytest.raises(SimulationConfigError, match=needle):
        load_simulation_config({field: value})


def test_defaults_are_valid():
    cfg = load_simulation_config(None)
    assert cfg["n_param_sets"] == DEFAULTS["n_param_sets"]
