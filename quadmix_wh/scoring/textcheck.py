"""Which documents cannot be scored, and why (they get NULL outputs and a `null_reason`)."""
from __future__ import annotations

# Below this share of printable characters a "document" is binary junk (bytes decoded as text),
# and a text model's output on it would be noise presented as a measurement.
MIN_PRINTABLE_SHARE = 0.8


def null_reason(text) -> str | None:
    if text is None:
        return "null_text"
    if not isinstance(text, str):
        return "not_a_string"
    if not text.strip():
        return "empty_text"
    sample = text[:4096]
    printable = sum(1 for ch in sample if ch.isprintable() or ch in "\n\r\t")
    if printable < MIN_PRINTABLE_SHARE * len(sample):
        return "not_text"
    return None
