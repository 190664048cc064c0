"""Choosing where a scorer runs: `auto` means CUDA (in bf16) when a GPU is present, else CPU."""
from __future__ import annotations


def resolve_device(requested: str) -> str:
    import torch
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("scorer settings ask for device: cuda but torch sees no CUDA device; "
                           "use device: auto to fall back to the CPU")
    return requested


def model_dtype(device: str):
    import torch
    # bf16 halves memory traffic on GPUs; on CPU fp32 keeps results exact and is not slower there.
    return torch.bfloat16 if device == "cuda" else torch.float32
