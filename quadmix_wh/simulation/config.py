"""`vars.simulation` of project.yml: defaults, parsing and validation (errors name the field)."""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass

from quadmix_wh.simulation.proxy import validate_proxy_config


class SimulationConfigError(ValueError):
    """A `vars.simulation` value is invalid; the message names the field and the reason."""


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
    "group_size": 4,              # proxies trained together (vmap over stacked weights)
    "device": "auto",
    "budget_tokens": None,        # passed to the mixture builder (None: the sampling function as is)
    "targets": ["target_reference"],
    "eval_tokens": 32768,         # tokens of each target set used for the loss
    "torch_threads": None,        # None: torch's default
    "proxy": {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
              "intermediate_size": 512},
    "fit": {"target": None, "test_fraction": 0.2, "seed": 0, "num_boost_round": 300,
            "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 5,
            "feature_fraction": 0.8, "ridge_alpha": 1.0, "num_threads": 2},
    "search": {"n_candidates": 100000, "top_k": 10, "seed": 1, "fit": "default"},
    "experiment": {"proxy": {"hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
                             "intermediate_size": 1024},
                   "tokens": 204800, "keep_fraction": 0.3, "seed": 0},
}


@dataclass(frozen=True)
class SimulationConfig:
    values: dict

    def __getitem__(self, key):
        return self.values[key]

    def get(self, key, default=None):
        return self.values.get(key, default)

    def training_fingerprint(self) -> str:
        """Hash of everything that changes a run's result except the parameter set itself."""
        keys = ["lambda_scale", "lambda_max", "omega_range", "eta_range", "epsilon_range",
                "tokens_per_run", "seq_len", "batch_size", "learning_rate", "weight_decay",
                "warmup_fraction", "grad_clip", "budget_tokens", "targets", "eval_tokens", "proxy",
                "seed", "n_param_sets"]
        blob = json.dumps({k: self.values[k] for k in keys}, sort_keys=True, default=str)
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


def _positive_int(values: dict, field: str) -> None:
    value = values[field]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        _fail(field, f"must be a positive integer, got {value!r}")


def _positive_number(values: dict, field: str, allow_zero: bool = False) -> None:
    value = values[field]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        _fail(field, f"must be a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")


def _range(values: dict, field: str) -> None:
    value = values[field]
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        _fail(field, f"must be a [low, high] pair of numbers, got {value!r}")
    low, high = value
    if low < 0 or high < low:
        _fail(field, f"needs 0 <= low <= high, got {list(value)}")


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


def validate(values: dict) -> None:
    validate_sampling_ranges(values)
    for field in ("n_param_sets", "tokens_per_run", "seq_len", "batch_size", "group_size",
                  "eval_tokens"):
        _positive_int(values, field)
    if isinstance(values["seed"], bool) or not isinstance(values["seed"], int) or values["seed"] < 0:
        _fail("seed", f"must be a non-negative integer, got {values['seed']!r}")
    if values["seq_len"] < 2:
        _fail("seq_len", "must be at least 2 (a sequence predicts its next tokens)")
    if values["tokens_per_run"] % values["seq_len"]:
        _fail("tokens_per_run", f"must be a multiple of seq_len ({values['seq_len']}) so every run "
                                f"trains on exactly that many tokens, got {values['tokens_per_run']}")
    _positive_number(values, "learning_rate")
    _positive_number(values, "weight_decay", allow_zero=True)
    _positive_number(values, "grad_clip", allow_zero=True)
    if not 0 <= values["warmup_fraction"] < 1:
        _fail("warmup_fraction", f"must be in [0, 1), got {values['warmup_fraction']!r}")
    targets = values["targets"]
    if isinstance(targets, str):
        values["targets"] = targets = [targets]
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
        _fail("targets", f"must name at least one target table, got {targets!r}")
    if values["device"] not in ("auto", "cpu", "cuda") and not str(values["device"]).startswith("cuda:"):
        _fail("device", f"must be auto, cpu or cuda[:N], got {values['device']!r}")
    if values["torch_threads"] is not None:
        _positive_int(values, "torch_threads")
    if values["budget_tokens"] is not None:
        _positive_int(values, "budget_tokens")
    try:
        validate_proxy_config(values["proxy"])
    except ValueError as exc:
        _fail("proxy", str(exc))
    try:
        validate_proxy_config(values["experiment"]["proxy"])
    except ValueError as exc:
        _fail("experiment.proxy", str(exc))


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
