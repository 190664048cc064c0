"""Loader kinds by name, and loading each scorer once per process."""
from __future__ import annotations

import threading

from .causal_lm import AskLLMScorer, PerplexityScorer
from .device import resolve_device
from .fasttext_scorer import FastTextScorer
from .hf_classifier import HFClassifierScorer, HFRegressionScorer

LOADERS = {cls.kind: cls for cls in (HFRegressionScorer, HFClassifierScorer, FastTextScorer,
                                     AskLLMScorer, PerplexityScorer)}

_loaded: dict[tuple, object] = {}
_lock = threading.Lock()


def output_types(spec) -> dict[str, str]:
    return dict(LOADERS[spec.loader].output_types(spec.settings))


def load_scorer(spec, fingerprint: str):
    """The scorer for `spec`, loaded on first use; the key includes the weights' fingerprint so a
    changed checkpoint is reloaded rather than served stale from memory."""
    key = (spec.name, spec.loader, str(spec.checkpoint), fingerprint, spec.device)
    with _lock:
        if key not in _loaded:
            _loaded[key] = LOADERS[spec.loader](spec, resolve_device(spec.device))
        return _loaded[key]


def loaded_count() -> int:
    return len(_loaded)
