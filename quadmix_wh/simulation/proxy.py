"""The proxy language model: a small decoder-only Llama built from a config (no downloaded weights)."""
from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM

REQUIRED = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")


def validate_proxy_config(proxy: dict) -> None:
    if not isinstance(proxy, dict):
        raise ValueError(f"must be a mapping of LlamaConfig fields, got {proxy!r}")
    for key in REQUIRED:
        value = proxy.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
    if proxy["hidden_size"] % proxy["num_attention_heads"]:
        raise ValueError(f"hidden_size ({proxy['hidden_size']}) must be divisible by "
                         f"num_attention_heads ({proxy['num_attention_heads']})")


def llama_config(proxy: dict, vocab_size: int, seq_len: int) -> LlamaConfig:
    validate_proxy_config(proxy)
    extra = {k: v for k, v in proxy.items() if k not in REQUIRED}
    # Eager attention: the CPU SDPA kernel has no vmap batching rule, so batched training would
    # fall back to a slow per-model loop; eager attention batches into plain bmm.
    return LlamaConfig(vocab_size=vocab_size, max_position_embeddings=seq_len,
                       num_key_value_heads=proxy["num_attention_heads"], tie_word_embeddings=False,
                       attn_implementation="eager", use_cache=False, **{k: proxy[k] for k in REQUIRED},
                       **extra)


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
