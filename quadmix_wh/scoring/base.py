"""The interface every loader implements: fixed outputs, and `predict` on a batch of valid texts."""
from __future__ import annotations

from .declarations import ScorerSpec


class ScorerLoadError(Exception):
    """A checkpoint is missing or does not fit the declared loader; names the path and the reason."""


class Scorer:
    kind = ""

    @classmethod
    def output_types(cls, settings: dict) -> dict[str, str]:
        """Output column -> DuckDB type (the cache table adds doc_id and null_reason)."""
        raise NotImplementedError

    def __init__(self, spec: ScorerSpec, device: str):
        self.spec = spec
        self.device = device

    def predict(self, texts: list[str]) -> dict[str, list]:
        """Outputs for one batch of non-empty texts, one list per output column."""
        raise NotImplementedError


def require_path(path, what: str, spec: ScorerSpec):
    if not path.exists():
        where = f" (declared in {spec.source_file})" if spec.source_file else ""
        raise ScorerLoadError(f"scorer '{spec.name}'{where}: {what} not found at {path}")
    return path
