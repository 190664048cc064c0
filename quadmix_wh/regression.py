"""`quadmix-wh fit`: LightGBM regression from feature columns to a loss, next to a ridge baseline.

Works on any table (or CSV) of numeric feature columns and a target column; by default on the
simulation: features = the flattened parameter vector of each run (`sim_param_features`, built
from `sim_param_sets`), target = a `loss_<target>` column of `sim_results`.
Held-out metrics come from models fit on the training split; the stored LightGBM model is then
refit on all rows with the same settings (fixed rounds, no early stopping, so nothing leaks).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# LightGBM's OpenMP threads spin while they wait by default; on a machine whose cores are busy
# with other work (simulation workers, other jobs) that made a 2-thread fit 5-30x slower than a
# 1-thread one. Passive waiting must be set before libgomp starts, i.e. before lightgbm loads;
# an explicit OMP_WAIT_POLICY from the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import lightgbm as lgb  # noqa: E402
import numpy as np
from scipy.stats import spearmanr

from quadmix_wh.simulation.algorithm1 import feature_names, param_columns
from quadmix_wh.simulation.errors import FitError

FITS_TABLE, METRICS_TABLE = "fits", "fit_metrics"
FEATURES_TABLE = "sim_param_features"
NON_FEATURE_COLUMNS = {"param_set", "doc_id", "id", "status", "seed", "data_seed", "tokens",
                       "seconds", "group_size", "model_config", "code_fingerprint",
                       "config_fingerprint", "device", "finished_at"}
NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INTEGER", "BIGINT", "SMALLINT", "TINYINT",
                 "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT")
FIT_DEFAULTS = {"test_fraction": 0.2, "seed": 0, "num_boost_round": 300, "learning_rate": 0.05,
                "num_leaves": 15, "min_data_in_leaf": 5, "feature_fraction": 0.8, "max_bin": 63,
                "ridge_alpha": 1.0, "num_threads": 2}



@dataclass
class FitReport:
    fit_id: str
    source: str
    target: str
    features: list[str]
    n_train: int
    n_test: int
    metrics: dict = field(default_factory=dict)   # model -> {spearman, mae, seconds}


# -- inputs --------------------------------------------------------------------------------------
def build_param_features(con, params_table: str = "sim_param_sets", out_table: str = FEATURES_TABLE) -> list[str]:
    """Pivot a sampling_params-shaped table into one row per param_set, `<domain>__<param>` columns."""
    cols = [r[0] for r in con.execute(f'DESCRIBE "{params_table}"').fetchall()]
    criteria = [c[len("alpha_"):] for c in cols if c.startswith("alpha_")]
    domains = [r[0] for r in con.execute(f'SELECT DISTINCT domain FROM "{params_table}" ORDER BY 1').fetchall()]
    names = feature_names(domains, criteria)
    pivots = [f"max(CASE WHEN domain = '{d.replace(chr(39), chr(39) * 2)}' THEN \"{p}\" END) AS \"{d}__{p}\""
              for d in domains for p in param_columns(criteria)]
    con.execute(f'CREATE OR REPLACE TABLE "{out_table}" AS SELECT param_set, {", ".join(pivots)} '
                f'FROM "{params_table}" GROUP BY param_set ORDER BY param_set')
    return names


def _relation(con, table: str | None, csv: str | None) -> tuple[str, str, list[str] | None]:
    """(relation, source label, default features or None for "every numeric column")."""
    if csv:
        if not Path(csv).is_file():
            raise FitError(f"--csv: file {csv} does not exist")
        literal = "'" + str(csv).replace("'", "''") + "'"
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _fit_csv AS SELECT * FROM read_csv_auto({literal}, header = true)")
        except duckdb.Error as exc:
            raise FitError(f"--csv: {csv}: cannot be read as CSV: {exc}") from None
        return "_fit_csv", f"csv:{Path(csv).name}", None
    if table:
        if not _exists(con, table):
            raise FitError(f"--table: table {table!r} does not exist in the warehouse")
        return f'"{table}"', f"table:{table}", None
    for needed in ("sim_results", "sim_param_sets"):
        if not _exists(con, needed):
            raise FitError(f"no --table/--csv given and table {needed!r} does not exist: run "
                           "`quadmix-wh simulate` first")
    features = build_param_features(con)
    # Only the runs of the current parameter sets (sim_param_sets is redrawn by each simulate).
    con.execute(f"CREATE OR REPLACE TEMP VIEW _fit_sim AS SELECT r.*, f.* EXCLUDE (param_set) "
                f"FROM sim_results r JOIN {FEATURES_TABLE} f USING (param_set) ORDER BY r.param_set")
    return "_fit_sim", "simulation", features


def _exists(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [table]).fetchall()[0][0])


def _columns(con, relation: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _is_numeric(sql_type: str) -> bool:
    return sql_type.split("(")[0].upper() in NUMERIC_TYPES


def load_xy(con, *, table=None, csv=None, features=None, target=None):
    """(source, feature names, target name, X, y); rows with a NULL target are left out."""
    relation, source, default_features = _relation(con, table, csv)
    columns = _columns(con, relation)
    if features is None and default_features is not None:
        features = default_features
    if target is None:
        losses = [c for c in columns if c.startswith("loss_")]
        if not losses:
            raise FitError("--target: not given and no loss_* column to default to")
        target = losses[0]
    if target not in columns:
        raise FitError(f"--target: column {target!r} not in {source} (columns: {', '.join(columns)})")
    if not _is_numeric(columns[target]):
        raise FitError(f"--target: column {target!r} is {columns[target]}, not numeric")
    if features is None:
        features = [c for c, t in columns.items() if c != target and c not in NON_FEATURE_COLUMNS
                    and not c.startswith("loss_") and _is_numeric(t)]
    for name in features:
        if name == target:
            raise FitError(f"--features: column {name!r} is the target; it cannot also be a feature")
        if name not in columns:
            raise FitError(f"--features: column {name!r} not in {source}")
        if not _is_numeric(columns[name]):
            raise FitError(f"--features: column {name!r} is {columns[name]}, not numeric")
    if not features:
        raise FitError(f"--features: {source} has no numeric feature columns")
    select = ", ".join(f'CAST("{c}" AS DOUBLE)' for c in features + [target])
    data = np.array(con.execute(f'SELECT {select} FROM {relation} WHERE "{target}" IS NOT NULL').fetchall(),
                    dtype=np.float64).reshape(-1, len(features) + 1)
    X, y = data[:, :-1], data[:, -1]
    bad = np.isnan(X).any(axis=0)
    if bad.any():
        raise FitError(f"--features: column {features[int(np.argmax(bad))]!r} holds NULLs")
    return source, list(features), target, X, y


# -- models --------------------------------------------------------------------------------------
def lgb_params(settings: dict) -> dict:
    return {"objective": "regression", "learning_rate": settings["learning_rate"],
            "num_leaves": settings["num_leaves"], "min_data_in_leaf": settings["min_data_in_leaf"],
            "feature_fraction": settings["feature_fraction"], "lambda_l2": 1.0,
            "max_bin": settings["max_bin"], "seed": settings["seed"], "deterministic": True,
            "force_col_wise": True, "num_threads": settings["num_threads"], "verbosity": -1,
            "min_data_in_bin": 1}


def train_lgb(X, y, names, settings: dict) -> lgb.Booster:
    data = lgb.Dataset(X, y, feature_name=[f"f{i}" for i in range(len(names))], free_raw_data=False,
                       params={"min_data_in_bin": 1, "max_bin": settings["max_bin"], "verbosity": -1})
    return lgb.train(lgb_params(settings), data, num_boost_round=settings["num_boost_round"])


def train_ridge(X, y, alpha: float) -> dict:
    """Closed-form ridge on standardized features (the linear baseline)."""
    means, stds = X.mean(axis=0), X.std(axis=0)
    stds[stds == 0] = 1.0
    Z = (X - means) / stds
    coef = np.linalg.solve(Z.T @ Z + alpha * np.eye(Z.shape[1]), Z.T @ (y - y.mean()))
    return {"coef": coef.tolist(), "intercept": float(y.mean()), "means": means.tolist(), "stds": stds.tolist()}


def predict_ridge(model: dict, X) -> np.ndarray:
    Z = (X - np.asarray(model["means"])) / np.asarray(model["stds"])
    return Z @ np.asarray(model["coef"]) + model["intercept"]


def score(y_true, y_pred) -> dict:
    rho = spearmanr(y_true, y_pred).statistic if len(y_true) > 1 else float("nan")
    return {"spearman": float(rho), "mae": float(np.mean(np.abs(y_true - y_pred)))}


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    return order[n_test:], order[:n_test]


def check_settings(settings: dict) -> dict:
    merged = {**FIT_DEFAULTS, **{k: v for k, v in (settings or {}).items() if k in FIT_DEFAULTS}}
    if not 0 < merged["test_fraction"] < 1:
        raise FitError(f"test_fraction: must be in (0, 1), got {merged['test_fraction']!r}")
    for key in ("num_boost_round", "num_leaves", "min_data_in_leaf", "num_threads"):
        if isinstance(merged[key], bool) or not isinstance(merged[key], int) or merged[key] <= 0:
            raise FitError(f"{key}: must be a positive integer, got {merged[key]!r}")
    if isinstance(merged["max_bin"], bool) or not isinstance(merged["max_bin"], int) or merged["max_bin"] < 2:
        raise FitError(f"max_bin: must be an integer >= 2, got {merged['max_bin']!r}")
    return merged


# -- the command ---------------------------------------------------------------------------------
def fit(con, *, table=None, csv=None, features=None, target=None, name: str = "default",
        settings: dict | None = None) -> FitReport:
    settings = check_settings(settings)
    source, features, target, X, y = load_xy(con, table=table, csv=csv, features=features, target=target)
    if len(y) < 5:
        raise FitError(f"{source}: only {len(y)} rows with a {target} value; at least 5 are needed")
    train, test = split(len(y), settings["test_fraction"], settings["seed"])
    report = FitReport(name, source, target, features, len(train), len(test))
    started = time.perf_counter()
    booster = train_lgb(X[train], y[train], features, settings)
    report.metrics["lightgbm"] = {**score(y[test], booster.predict(X[test])),
                                  "seconds": time.perf_counter() - started}
    started = time.perf_counter()
    ridge = train_ridge(X[train], y[train], settings["ridge_alpha"])
    report.metrics["linear"] = {**score(y[test], predict_ridge(ridge, X[test])),
                                "seconds": time.perf_counter() - started}
    final = train_lgb(X, y, features, settings)
    store_fit(con, report, settings, final.model_to_string(), train_ridge(X, y, settings["ridge_alpha"]))
    return report


def _ensure_tables(con) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {FITS_TABLE} (fit_id VARCHAR, created_at TIMESTAMP, "
                "source VARCHAR, target VARCHAR, features VARCHAR, n_train BIGINT, n_test BIGINT, "
                "settings VARCHAR, model VARCHAR, linear_model VARCHAR)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {METRICS_TABLE} (fit_id VARCHAR, model VARCHAR, "
                "split VARCHAR, spearman DOUBLE, mae DOUBLE, n BIGINT, seconds DOUBLE)")


def store_fit(con, report: FitReport, settings: dict, model_string: str, linear: dict) -> None:
    _ensure_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {FITS_TABLE} WHERE fit_id = ?", [report.fit_id])
        con.execute(f"DELETE FROM {METRICS_TABLE} WHERE fit_id = ?", [report.fit_id])
        con.execute(f"INSERT INTO {FITS_TABLE} VALUES (?, current_localtimestamp(), ?, ?, ?, ?, ?, ?, ?, ?)",
                    [report.fit_id, report.source, report.target, json.dumps(report.features),
                     report.n_train, report.n_test, json.dumps(settings, sort_keys=True), model_string,
                     json.dumps(linear)])
        for model, m in report.metrics.items():
            con.execute(f"INSERT INTO {METRICS_TABLE} VALUES (?, ?, 'test', ?, ?, ?, ?)",
                        [report.fit_id, model, m["spearman"], m["mae"], report.n_test, m["seconds"]])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def load_fit(con, fit_id: str) -> dict:
    # fetchall, not fetchone: DuckDB 2 keeps a half-fetched result open and then refuses
    # register() on the same connection (search.store registers right after this).
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                         [FITS_TABLE]).fetchall()[0][0]
    rows = con.execute(f"SELECT target, features, model, source FROM {FITS_TABLE} WHERE fit_id = ?",
                       [fit_id]).fetchall() if exists else []
    row = rows[0] if rows else None
    if row is None:
        raise FitError(f"--fit: no stored fit named {fit_id!r}; run `quadmix-wh fit` first")
    return {"fit_id": fit_id, "target": row[0], "features": json.loads(row[1]),
            "booster": lgb.Booster(model_str=row[2]), "source": row[3]}
