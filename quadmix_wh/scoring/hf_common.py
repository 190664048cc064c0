"""Shared pieces for Hugging Face checkpoints: local-only loading, truncation and padding."""
from __future__ import annotations

import os

from .base import ScorerLoadError, require_path
from .device import model_dtype


def load_tokenizer(spec):
    from transformers import AutoTokenizer
    require_path(spec.checkpoint, "checkpoint directory", spec)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a scorer must never reach for the network
    try:
        return AutoTokenizer.from_pretrained(str(spec.checkpoint), local_files_only=True)
    except Exception as exc:  # transformers raises several types; all mean "not a usable tokenizer"
        raise ScorerLoadError(f"scorer '{spec.name}': cannot load a tokenizer from {spec.checkpoint}: {exc}") from exc


def load_model(auto_class, spec, device: str):
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()  # our own progress bar reports the scoring run
    require_path(spec.checkpoint, "checkpoint directory", spec)
    try:
        model = auto_class.from_pretrained(str(spec.checkpoint), local_files_only=True,
                                           dtype=model_dtype(device))
    except Exception as exc:
        raise ScorerLoadError(f"scorer '{spec.name}': cannot load {auto_class.__name__} from "
                              f"{spec.checkpoint}: {exc}") from exc
    return model.to(device).eval()


def max_positions(model, requested: int) -> int:
    limit = getattr(model.config, "max_position_embeddings", None) or requested
    return min(requested, int(limit))


# A prefix of this many characters per wanted token almost always holds enough tokens; when it
# does not (e.g. code with long runs of spaces) the whole text is tokenized instead.
CHARS_PER_TOKEN_BOUND = 8


def text_head(text: str, max_tokens: int) -> str | None:
    """A prefix of `text` cut before a whitespace run, long enough for `max_tokens` tokens in
    all but odd texts, or None when the text is short (or has no whitespace to cut at).

    Cutting at whitespace keeps every token before the cut identical to the full text's tokens
    (byte-level BPE, WordPiece and SentencePiece all split words at whitespace), so a long
    document is not tokenized whole just to keep its first `max_tokens` tokens."""
    limit = max_tokens * CHARS_PER_TOKEN_BOUND
    if len(text) <= limit:
        return None
    # Cut where a whitespace run starts, so the prefix ends with a whole word: a cut inside a run
    # would end the prefix with a shorter whitespace token than the full text has there.
    for cut in range(limit, max(limit - 1000, 1), -1):
        if text[cut].isspace() and not text[cut - 1].isspace():
            return text[:cut]
    return None


def encode_head(tokenizer, texts: list[str], max_tokens: int) -> list[list[int]]:
    """Token ids of each text, keeping the first `max_tokens` (with the model's special tokens).

    Truncation keeps the head of a long document, as the FineWeb-Edu classifier does: the opening
    of a page says most about its kind and quality, and the cost stays bounded per document.
    """
    heads = [text_head(t, max_tokens) for t in texts]
    encoded = tokenizer([h if h is not None else t for h, t in zip(heads, texts)], truncation=True,
                        max_length=max_tokens, add_special_tokens=True)["input_ids"]
    out = [list(ids) for ids in encoded]
    # A prefix that fell short of max_tokens may have lost tokens: use the whole text then.
    redo = [i for i, (h, ids) in enumerate(zip(heads, out)) if h is not None and len(ids) < max_tokens]
    if redo:
        again = tokenizer([texts[i] for i in redo], truncation=True, max_length=max_tokens,
                          add_special_tokens=True)["input_ids"]
        for i, ids in zip(redo, again):
            out[i] = list(ids)
    return out


def head_ids(tokenizer, text: str, max_tokens: int) -> list[int]:
    """The first `max_tokens` token ids of `text`, without special tokens (causal LMs)."""
    head = text_head(text, max_tokens)
    if head is not None:
        ids = tokenizer(head, add_special_tokens=False)["input_ids"]
        if len(ids) >= max_tokens:
            return list(ids[:max_tokens])
    return list(tokenizer(text, add_special_tokens=False)["input_ids"][:max_tokens])


def pad_batch(sequences: list[list[int]], pad_id: int, device: str):
    """Right-padded input_ids and attention_mask tensors for a batch of id lists."""
    import torch
    width = max(len(seq) for seq in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids.to(device), mask.to(device)


def pad_id_of(tokenizer) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0  # masked out anyway; any valid id will do
