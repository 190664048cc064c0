"""Batched inference over a list of texts: unscoreable texts get NULL and a reason, the rest run
in length-sorted batches (little padding, so little wasted compute) and come back in input order."""
from __future__ import annotations

from typing import Callable

import pyarrow as pa

from .textcheck import null_reason

ARROW_TYPES = {"DOUBLE": pa.float64(), "INTEGER": pa.int32(), "VARCHAR": pa.string(), "BIGINT": pa.int64()}


def length_sorted_batches(indices: list[int], texts: list, batch_size: int) -> list[list[int]]:
    # Stable sort on character length (a cheap proxy for token count); ties keep input order,
    # so batch composition depends only on the inputs.
    ordered = sorted(indices, key=lambda i: len(texts[i]))
    return [ordered[start:start + batch_size] for start in range(0, len(ordered), batch_size)]


def score_texts(scorer, texts: list, output_types: dict[str, str], batch_size: int,
                on_batch: Callable[[int], None] | None = None) -> pa.Table:
    """Outputs for every text (NULL where the text cannot be scored) plus a `null_reason` column."""
    reasons = [null_reason(t) for t in texts]
    columns = {name: [None] * len(texts) for name in output_types}
    valid = [i for i, reason in enumerate(reasons) if reason is None]
    for batch in length_sorted_batches(valid, texts, batch_size):
        outputs = scorer.predict([texts[i] for i in batch])
        for name in output_types:
            for i, value in zip(batch, outputs[name]):
                columns[name][i] = value
        if on_batch:
            on_batch(len(batch))
    if on_batch and len(valid) < len(texts):
        on_batch(len(texts) - len(valid))
    _explain_missing(columns, reasons, output_types)
    arrays = {name: pa.array(values, type=ARROW_TYPES[output_types[name]]) for name, values in columns.items()}
    arrays["null_reason"] = pa.array(reasons, type=pa.string())
    return pa.table(arrays)


def _explain_missing(columns: dict, reasons: list, output_types: dict) -> None:
    """A loader may decline a text it was given (e.g. too short for perplexity): say so."""
    first = next(iter(output_types))
    for i, value in enumerate(columns[first]):
        if value is None and reasons[i] is None:
            reasons[i] = "too_short"
