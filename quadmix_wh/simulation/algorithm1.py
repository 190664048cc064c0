"""Algorithm 1 of QuaDMix: random parameter sets for simulations and for the search.

Parameters are drawn as a dense array [n_sets, n_domains, n_criteria + 4] (alphas, then lambda,
omega, eta, epsilon) so the search can draw 100,000 candidates without building rows; the same
array becomes a `sampling_params`-shaped table for the mixture builder.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

SHAPE_PARAMS = ("lambda", "omega", "eta", "epsilon")


def param_columns(criteria: list[str]) -> list[str]:
    return [f"alpha_{c}" for c in criteria] + list(SHAPE_PARAMS)


def _rescale_lambda(u: np.ndarray, scale: str, lambda_max: float) -> np.ndarray:
    # log: 10^{3u} when lambda_max = 1000 (the paper's reading); linear: 1000 * u.
    if scale == "log":
        return np.power(float(lambda_max), u)
    return float(lambda_max) * u


def _rescale_range(u: np.ndarray, bounds) -> np.ndarray:
    low, high = float(bounds[0]), float(bounds[1])
    return low + (high - low) * u


BLOCK = 1024  # sets drawn per generator: the draw of set i depends only on (seed, i)


def _draw_block(rng: np.random.Generator, n_domains: int, n_criteria: int, ranges: dict) -> np.ndarray:
    # Global criterion weights a_n ~ U(0,1), normalized, then per-domain b_{n,m} reweighting.
    a = rng.random((BLOCK, 1, n_criteria))
    a_tilde = a / a.sum(axis=2, keepdims=True)
    b = rng.random((BLOCK, n_domains, n_criteria))
    weighted = a_tilde * b
    alphas = weighted / weighted.sum(axis=2, keepdims=True)
    u = rng.random((BLOCK, n_domains, 4))
    lam = _rescale_lambda(u[..., 0], ranges["lambda_scale"], ranges["lambda_max"])
    omega = _rescale_range(u[..., 1], ranges["omega_range"])
    eta = _rescale_range(u[..., 2], ranges["eta_range"])
    epsilon = _rescale_range(u[..., 3], ranges["epsilon_range"])
    return np.concatenate([alphas, np.stack([lam, omega, eta, epsilon], axis=2)], axis=2)


def draw_parameters(n_sets: int, n_domains: int, n_criteria: int, ranges: dict,
                    seed: int) -> np.ndarray:
    """Array [n_sets, n_domains, n_criteria + 4]; same seed and ranges give the same array.

    Prefix-stable: the first k sets of a draw of n >= k sets are the draw of k sets, so growing
    n_param_sets keeps the simulation runs already done. Sets come in blocks of BLOCK, each from
    its own generator seeded with (seed, block index).
    """
    if isinstance(n_sets, bool) or not isinstance(n_sets, int) or n_sets <= 0:
        raise ValueError(f"n_sets: must be a positive integer, got {n_sets!r}")
    if n_domains <= 0:
        raise ValueError("domains: at least one domain is needed to draw parameters")
    if n_criteria <= 0:
        raise ValueError("criteria: at least one quality criterion is needed to draw parameters")
    blocks = [_draw_block(np.random.default_rng([int(seed), b]), n_domains, n_criteria, ranges)
              for b in range((n_sets + BLOCK - 1) // BLOCK)]
    return np.concatenate(blocks)[:n_sets]


def param_set_names(n_sets: int, prefix: str = "sim_") -> list[str]:
    width = max(4, len(str(n_sets - 1)))
    return [f"{prefix}{i:0{width}d}" for i in range(n_sets)]


def to_table(params: np.ndarray, names: list[str], domains: list[str],
             criteria: list[str]) -> pa.Table:
    """The `sampling_params` shape: one row per (parameter set, domain)."""
    n_sets, n_domains, _ = params.shape
    if len(names) != n_sets or len(domains) != n_domains:
        raise ValueError("names/domains do not match the parameter array's shape")
    flat = params.reshape(n_sets * n_domains, -1)
    columns = {"param_set": np.repeat(np.asarray(names, dtype=object), n_domains),
               "domain": np.tile(np.asarray(domains, dtype=object), n_sets)}
    for j, name in enumerate(param_columns(criteria)):
        columns[name] = flat[:, j].astype(np.float64)
    return pa.table({k: pa.array(list(v) if v.dtype == object else v) for k, v in columns.items()})


def feature_names(domains: list[str], criteria: list[str]) -> list[str]:
    """Names of the flattened parameter vector theta: `<domain>__<parameter>`, domain-major."""
    return [f"{d}__{p}" for d in domains for p in param_columns(criteria)]


def flatten(params: np.ndarray) -> np.ndarray:
    return params.reshape(params.shape[0], -1)


def sample_param_sets(con, *, domains: list[str], criteria: list[str], ranges: dict, n_sets: int,
                      seed: int, out_table: str = "sim_param_sets", prefix: str = "sim_") -> pa.Table:
    """Draw `n_sets` parameter sets and (re)create `out_table` with them in one transaction."""
    params = draw_parameters(n_sets, len(domains), len(criteria), ranges, seed)
    table = to_table(params, param_set_names(n_sets, prefix), list(domains), list(criteria))
    con.register("_algorithm1_draw", table)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f'CREATE OR REPLACE TABLE "{out_table}" AS SELECT * FROM _algorithm1_draw '
                    f'ORDER BY param_set, domain')
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_algorithm1_draw")
    return table


def read_param_array(con, table: str, domains: list[str] | None = None,
                     criteria: list[str] | None = None) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Back from a `sampling_params`-shaped table to (names, domains, criteria, array)."""
    cols = [r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()]
    found = [c[len("alpha_"):] for c in cols if c.startswith("alpha_")]
    criteria = list(criteria or found)
    domain_rows = con.execute(f'SELECT DISTINCT domain FROM "{table}" ORDER BY domain').fetchall()
    domains = list(domains or [r[0] for r in domain_rows])
    names = [r[0] for r in con.execute(f'SELECT DISTINCT param_set FROM "{table}" ORDER BY param_set').fetchall()]
    select = ", ".join(f'"{c}"' for c in param_columns(criteria))
    rows = con.execute(f'SELECT param_set, domain, {select} FROM "{table}"').fetchall()
    index_set = {n: i for i, n in enumerate(names)}
    index_dom = {d: i for i, d in enumerate(domains)}
    params = np.full((len(names), len(domains), len(criteria) + 4), np.nan)
    for row in rows:
        if row[1] in index_dom:
            params[index_set[row[0]], index_dom[row[1]]] = row[2:]
    if np.isnan(params).any():
        raise ValueError(f"{table}: some (param_set, domain) rows are missing or hold NULLs")
    return names, domains, criteria, params
