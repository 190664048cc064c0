"""`vars.simulation` of project.yml: defaults, parsing and validation (errors name the field).

docs/SIMULATION.md explains every key and why its default is what it is.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass

from quadmix_wh.simulation.errors import SimulationConfigError

__all__ = ["DEFAULTS", "SimulationConfig", "SimulationConfigError", "load_simulation_config"]
PROXY_REQUIRED = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")


def validate_proxy_config(proxy: dict) -> None:
    """A proxy block: the required LlamaConfig sizes as positive integers, heads dividing width."""
    if not isinstance(proxy, dict):
        raise ValueError(f"must be a mapping of LlamaConfig fields, got {proxy!r}")
    for key in PROXY_REQUIRED:
        value = proxy.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
    fixed = sorted(set(proxy) & {"vocab_size", "max_position_embeddings"})
    if fixed:
        raise ValueError(f"{fixed[0]} is not a proxy setting (it comes from the project tokenizer / seq_len)")
    if proxy["hidden_size"] % proxy["num_attention_heads"]:
        raise ValueError(f"hidden_size ({proxy['hidden_size']}) must be divisible by "
                         f"num_attention_heads ({proxy['num_attention_heads']})")


BATCHING = ("auto", "per_core", "stacked", "none")
EXPERIMENT_METHODS = ("random", "top_k", "union", "quadmix")

# Ranges suit a small corpus (a few MB): omega up to 1 keeps a visible share of every domain.
DEFAULTS: dict = {
    "n_param_sets": 64,
    "seed": 0,
    "lambda_scale": "log",        # log: lambda = lambda_max ** u (10^{3u}); linear: lambda_max * u
    "lambda_max": 1000.0,
    "omega_range": [0.0, 1.0],
    "eta_range": [0.0, 1.0],
    "epsilon_range": [0.0, 0.001],
    "tokens_per_run": 102400,     # 800 sequences of 128 tokens
    "seq_len": 128,
    "batch_size": 8,
    "learning_rate": 0.003,
    "weight_decay": 0.1,
    "warmup_fraction": 0.1,
    "grad_clip": 1.0,
    "batching": "auto",           # auto: per_core on CPU, stacked on CUDA; none: one at a time
    "group_size": "auto",         # proxies trained at once; auto: CPU cores (per_core) or 8 (stacked)
    "device": "auto",
    "budget_tokens": None,        # passed to the mixture builder (None: the sampling function as is)
    "targets": ["target_reference"],
    "eval_tokens": 32768,         # tokens of each target set used for the loss
    "proxy": {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
              "intermediate_size": 352, "tie_word_embeddings": True},
    "fit": {"target": None, "test_fraction": 0.2, "seed": 0, "num_boost_round": 300,
            "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 5,
            "feature_fraction": 0.8, "max_bin": 63, "ridge_alpha": 1.0, "num_threads": 2},
    "search": {"n_candidates": 100000, "top_k": 10, "seed": 1, "fit": "default"},
    "experiment": {"proxy": {"hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
                             "intermediate_size": 704, "tie_word_embeddings": True},
                   "tokens": 409600, "keep_fraction": 0.3, "seeds": [0],
                   "methods": list(EXPERIMENT_METHODS)},
}
# Keys whose value changes a run's numbers (the parameter set and its mixture are fingerprinted
# per run, in loop.py, so n_param_sets and the ranges are not here: growing n_param_sets keeps
# the runs already done, since Algorithm 1's draws are prefix-stable).
TRAINING_KEYS = ("seed", "tokens_per_run", "seq_len", "batch_size", "learning_rate", "weight_decay",
                 "warmup_fraction", "grad_clip", "targets", "eval_tokens", "proxy")


@dataclass(frozen=True)
class SimulationConfig:
    values: dict

    def __getitem__(self, key):
        return self.values[key]

    def get(self, key, default=None):
        return self.values.get(key, default)

    def training_fingerprint(self) -> str:
        """Hash of the settings that change a run's losses, other than its parameter set and mixture."""
        blob = json.dumps({k: self.values[k] for k in TRAINING_KEYS}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _fail(field: str, reason: str):
    raise SimulationConfigError(f"vars.simulation.{field}: {reason}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(values: dict, field: str, prefix: str = "") -> None:
    value = values[field]
    if not _is_int(value) or value <= 0:
        _fail(prefix + field, f"must be a positive integer, got {value!r}")


def _positive_number(values: dict, field: str, allow_zero: bool = False, prefix: str = "") -> None:
    value = values[field]
    if not _is_number(value) or value < 0 or (value == 0 and not allow_zero):
        _fail(prefix + field, f"must be a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")


def _range(values: dict, field: str) -> None:
    value = values[field]
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(_is_number(v) for v in value):
        _fail(field, f"must be a [low, high] pair of numbers, got {value!r}")
    low, high = value
    if low < 0 or high < low:
        _fail(field, f"needs 0 <= low <= high, got {list(value)}")


def _known_keys(block: dict, defaults: dict, prefix: str) -> None:
    if not isinstance(block, dict):
        _fail(prefix.rstrip("."), f"must be a mapping, got {block!r}")
    unknown = sorted(set(block) - set(defaults))
    if unknown:
        _fail(prefix + unknown[0], f"unknown key (known: {', '.join(sorted(defaults))})")


def validate_sampling_ranges(values: dict) -> None:
    if values["lambda_scale"] not in ("log", "linear"):
        _fail("lambda_scale", f"must be 'log' or 'linear', got {values['lambda_scale']!r}")
    _positive_number(values, "lambda_max")
    if values["lambda_scale"] == "log" and values["lambda_max"] < 1:
        _fail("lambda_max", "must be >= 1 with lambda_scale 'log' (lambda = lambda_max ** u)")
    for field in ("omega_range", "eta_range", "epsilon_range"):
        _range(values, field)
    if values["omega_range"][1] > 1:
        _fail("omega_range", f"omega is a quality-rank fraction: high must be <= 1, got {values['omega_range'][1]}")


def _validate_training(values: dict) -> None:
    for field in ("n_param_sets", "tokens_per_run", "seq_len", "batch_size", "eval_tokens"):
        _positive_int(values, field)
    if not _is_int(values["seed"]) or values["seed"] < 0:
        _fail("seed", f"must be a non-negative integer, got {values['seed']!r}")
    if values["seq_len"] < 2:
        _fail("seq_len", "must be at least 2 (a sequence predicts its next tokens)")
    if values["tokens_per_run"] % values["seq_len"]:
        _fail("tokens_per_run", f"must be a multiple of seq_len ({values['seq_len']}) so every run "
                                f"trains on exactly that many tokens, got {values['tokens_per_run']}")
    _positive_number(values, "learning_rate")
    _positive_number(values, "weight_decay", allow_zero=True)
    _positive_number(values, "grad_clip", allow_zero=True)
    if not _is_number(values["warmup_fraction"]) or not 0 <= values["warmup_fraction"] < 1:
        _fail("warmup_fraction", f"must be in [0, 1), got {values['warmup_fraction']!r}")
    if values["batching"] not in BATCHING:
        _fail("batching", f"must be one of {', '.join(BATCHING)}, got {values['batching']!r}")
    if values["group_size"] != "auto":
        _positive_int(values, "group_size")
    if values["device"] not in ("auto", "cpu", "cuda") and not str(values["device"]).startswith("cuda:"):
        _fail("device", f"must be auto, cpu or cuda[:N], got {values['device']!r}")
    if values["budget_tokens"] is not None:
        _positive_int(values, "budget_tokens")
    try:
        validate_proxy_config(values["proxy"])
    except ValueError as exc:
        _fail("proxy", str(exc))


def _validate_targets(values: dict) -> None:
    targets = values["targets"]
    if isinstance(targets, str):
        values["targets"] = targets = [targets]
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
        _fail("targets", f"must name at least one target table, got {targets!r}")
    if len(set(targets)) != len(targets):
        _fail("targets", f"lists a table twice: {targets!r}")


def _validate_fit_search(values: dict) -> None:
    fit, search = values["fit"], values["search"]
    _known_keys(fit, DEFAULTS["fit"], "fit.")
    _known_keys(search, DEFAULTS["search"], "search.")
    if fit["target"] is not None and not isinstance(fit["target"], str):
        _fail("fit.target", f"must be a column name, got {fit['target']!r}")
    if not _is_number(fit["test_fraction"]) or not 0 < fit["test_fraction"] < 1:
        _fail("fit.test_fraction", f"must be in (0, 1), got {fit['test_fraction']!r}")
    for field in ("num_boost_round", "num_leaves", "min_data_in_leaf", "num_threads", "max_bin"):
        _positive_int(fit, field, prefix="fit.")
    if fit["max_bin"] < 2:
        _fail("fit.max_bin", f"must be at least 2, got {fit['max_bin']!r}")
    for field in ("learning_rate", "feature_fraction"):
        _positive_number(fit, field, prefix="fit.")
    _positive_number(fit, "ridge_alpha", allow_zero=True, prefix="fit.")
    for field in ("n_candidates", "top_k"):
        _positive_int(search, field, prefix="search.")
    if search["top_k"] > search["n_candidates"]:
        _fail("search.top_k", f"must be <= search.n_candidates ({search['n_candidates']})")
    for block, name in ((fit, "fit.seed"), (search, "search.seed")):
        if not _is_int(block["seed"]) or block["seed"] < 0:
            _fail(name, f"must be a non-negative integer, got {block['seed']!r}")


def _validate_experiment(values: dict) -> None:
    exp = values["experiment"]
    _known_keys(exp, DEFAULTS["experiment"], "experiment.")
    try:
        validate_proxy_config(exp["proxy"])
    except ValueError as exc:
        _fail("experiment.proxy", str(exc))
    _positive_int(exp, "tokens", prefix="experiment.")
    if exp["tokens"] % values["seq_len"]:
        _fail("experiment.tokens", f"must be a multiple of seq_len ({values['seq_len']}), got {exp['tokens']}")
    if not _is_number(exp["keep_fraction"]) or not 0 < exp["keep_fraction"] <= 1:
        _fail("experiment.keep_fraction", f"must be in (0, 1], got {exp['keep_fraction']!r}")
    seeds = exp["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(_is_int(s) and s >= 0 for s in seeds):
        _fail("experiment.seeds", f"must be a non-empty list of non-negative integers, got {seeds!r}")
    methods = exp["methods"]
    if not isinstance(methods, list) or not methods or any(m not in EXPERIMENT_METHODS for m in methods):
        _fail("experiment.methods", f"must be a non-empty list drawn from {', '.join(EXPERIMENT_METHODS)}, "
                                    f"got {methods!r}")


def validate(values: dict) -> None:
    validate_sampling_ranges(values)
    _validate_training(values)
    _validate_targets(values)
    _validate_fit_search(values)
    _validate_experiment(values)


def load_simulation_config(raw: dict | None, overrides: dict | None = None) -> SimulationConfig:
    """Defaults <- project.yml `vars.simulation` <- command-line overrides, then validated."""
    if raw is not None and not isinstance(raw, dict):
        raise SimulationConfigError(f"vars.simulation: must be a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw or {}) - set(DEFAULTS))
    if unknown:
        _fail(unknown[0], f"unknown key (known: {', '.join(sorted(DEFAULTS))})")
    values = _merge(_merge(DEFAULTS, raw or {}), {k: v for k, v in (overrides or {}).items() if v is not None})
    validate(values)
    return SimulationConfig(values)
