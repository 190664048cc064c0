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


def encode_head(tokenizer, texts: list[str], max_tokens: int) -> list[list[int]]:
    """Token ids of each text, keeping the first `max_tokens` (with the model's special tokens).

    Truncation keeps the head of a long document, as the FineWeb-Edu classifier does: the opening
    of a page says most about its kind and quality, and the cost stays bounded per document.
    """
    encoded = tokenizer(texts, truncation=True, max_length=max_tokens, add_special_tokens=True)
    return [list(ids) for ids in encoded["input_ids"]]


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
