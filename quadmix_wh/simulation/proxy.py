"""The proxy language model: a small decoder-only Llama built from a config (no downloaded weights)."""
from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from quadmix_wh.simulation.config import PROXY_REQUIRED as REQUIRED, validate_proxy_config  # noqa: F401


def llama_config(proxy: dict, vocab_size: int, seq_len: int) -> LlamaConfig:
    """A LlamaConfig from `proxy` (the REQUIRED keys plus any other LlamaConfig field)."""
    validate_proxy_config(proxy)
    # Eager attention: the CPU SDPA kernel has no vmap batching rule, so batched training would
    # fall back to a slow per-model loop; eager attention batches into plain bmm.
    fields = {"num_key_value_heads": proxy["num_attention_heads"], "tie_word_embeddings": True,
              "attn_implementation": "eager", "use_cache": False}
    fields.update(proxy)
    fields.update(vocab_size=vocab_size, max_position_embeddings=seq_len)
    return LlamaConfig(**fields)


def build_proxy(config: LlamaConfig, seed: int) -> LlamaForCausalLM:
    """A freshly initialized proxy; the same seed gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    return model


def config_json(config: LlamaConfig) -> str:
    return config.to_json_string(use_diff=False)


def non_embedding_parameters(model: torch.nn.Module) -> int:
    skip = {"model.embed_tokens.weight", "lm_head.weight"}
    return sum(p.numel() for n, p in model.named_parameters() if n not in skip)


def output_weight(model) -> torch.Tensor:
    """The output layer's weight [vocab, hidden] (the embedding itself when they are tied)."""
    return model.lm_head.weight
