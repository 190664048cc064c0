"""Turning a mixture into training sequences, and a target set into evaluation sequences."""
from __future__ import annotations

import numpy as np


def expand_copies(spans: np.ndarray, copies: np.ndarray) -> np.ndarray:
    """[n, 2] (offset, length) spans repeated `copies` times each (copies expanded)."""
    copies = np.asarray(copies, dtype=np.int64)
    if (copies < 0).any():
        raise ValueError("mixture: copies must be >= 0")
    return np.repeat(np.asarray(spans, dtype=np.int64).reshape(-1, 2), copies, axis=0)


def _stream(tokens: np.ndarray, spans: np.ndarray, order: np.ndarray, eos: int, need: int,
            pieces: list) -> int:
    """Append documents in `order` (each followed by EOS) to `pieces` until `need` tokens."""
    got = 0
    for offset, length in spans[order]:
        if got >= need:
            break
        pieces.append(np.asarray(tokens[offset:offset + length], dtype=np.int64))
        pieces.append(np.array([eos], dtype=np.int64))
        got += int(length) + 1
    return got


def training_sequences(tokens: np.ndarray, spans: np.ndarray, n_tokens: int, seq_len: int,
                       eos: int, seed: int) -> np.ndarray:
    """Exactly `n_tokens` tokens as [n_tokens // seq_len, seq_len], documents in a seeded order.

    When the mixture holds fewer tokens than needed it is cycled, each pass in a fresh seeded
    permutation, so every run trains on the same number of tokens.
    """
    if len(spans) == 0 or int(np.asarray(spans)[:, 1].sum()) == 0:
        raise ValueError("mixture is empty: no document has copies > 0 (nothing to train on)")
    rng = np.random.default_rng(seed)
    pieces: list[np.ndarray] = []
    got = 0
    while got < n_tokens:
        got += _stream(tokens, spans, rng.permutation(len(spans)), eos, n_tokens - got, pieces)
    stream = np.concatenate(pieces)[:n_tokens]
    return stream.reshape(n_tokens // seq_len, seq_len)


def eval_sequences(tokens: np.ndarray, spans: np.ndarray, max_tokens: int, seq_len: int,
                   eos: int, name: str) -> np.ndarray:
    """Up to `max_tokens` tokens of a target set as whole sequences [n, seq_len].

    Every document contributes its first ceil(max_tokens / documents) tokens (all of it when
    shorter), in the order given, so the loss covers the whole target set rather than its first
    few documents.
    """
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    if len(spans) == 0:
        raise ValueError(f"target {name!r}: no documents")
    share = -(-int(max_tokens) // len(spans))
    capped = np.stack([spans[:, 0], np.minimum(spans[:, 1], share)], axis=1)
    pieces: list[np.ndarray] = []
    got = _stream(tokens, capped, np.arange(len(capped)), eos, max_tokens, pieces)
    usable = (min(got, max_tokens) // seq_len) * seq_len
    if usable == 0:
        raise ValueError(f"target {name!r}: only {got} tokens, fewer than one sequence of "
                         f"seq_len={seq_len}; add text to the target or lower seq_len")
    return np.concatenate(pieces)[:usable].reshape(-1, seq_len)
