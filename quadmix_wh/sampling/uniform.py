"""The deterministic per-document uniform of the QuaDMix draw, in Python.

Same definition as the SQL macro `quadmix_uniform` (macros/quadmix/uniform.sql):
u(doc_id, seed) = int(md5(f"{doc_id}:{seed}").hexdigest()[:13], 16) / 16**13, in [0, 1).
Useful to explain or re-check a single draw outside the warehouse.
"""
from __future__ import annotations

import hashlib

_SCALE = 16 ** 13


def uniform(doc_id: str, seed: int) -> float:
    digest = hashlib.md5(f"{doc_id}:{int(seed)}".encode("utf-8")).hexdigest()
    return int(digest[:13], 16) / _SCALE
