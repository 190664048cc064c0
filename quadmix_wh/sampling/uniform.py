"""The deterministic per-document uniform of the QuaDMix draw, in Python.

Same definition as the SQL macros in macros/quadmix/uniform.sql (see there for why):
    h = int.from_bytes(md5(doc_id).digest()[8:16], "little")
    z = h ^ (seed * 0x9E3779B97F4A7C15 mod 2^64), then the splitmix64 finalizer,
    u = (z >> 12) / 2^52, in [0, 1).
Useful to explain or re-check a single draw outside the warehouse.
"""
from __future__ import annotations

import hashlib

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def doc_hash(doc_id: str) -> int:
    """The seed-independent 64-bit hash of a document (the `doc_hash` column of mixture_inputs)."""
    return int.from_bytes(hashlib.md5(str(doc_id).encode("utf-8")).digest()[8:16], "little")


def uniform_from_hash(h: int, seed: int) -> float:
    z = (h ^ (int(seed) * _GOLDEN)) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return (z >> 12) / float(1 << 52)


def uniform(doc_id: str, seed: int) -> float:
    return uniform_from_hash(doc_hash(doc_id), seed)
