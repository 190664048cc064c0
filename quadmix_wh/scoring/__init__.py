"""Scorers: declarations in `udfs/`, checkpoint loaders, batched execution and the score cache.

Importing this package registers the `score()` Jinja context function with the engine.
"""
from __future__ import annotations

from .base import Scorer, ScorerLoadError
from .cache import ScoreCache
from .declarations import ScorerDeclarationError, ScorerSpec, load_declarations, spec_from_mapping
from .loaders import LOADERS, load_scorer, output_types
from .udf import register_udfs

__all__ = ["LOADERS", "ScoreCache", "Scorer", "ScorerDeclarationError", "ScorerLoadError",
           "ScorerSpec", "load_declarations", "load_scorer", "output_types", "register_udfs",
           "spec_from_mapping"]


def _register_context_function() -> None:
    from ..rendering import context_function
    from .context import score_relation, scorer_evaluation_relation
    context_function("score")(score_relation)
    context_function("scorer_evaluation")(scorer_evaluation_relation)


try:
    _register_context_function()
except ImportError:  # the engine's rendering module is not importable: SQL-only use still works
    pass
