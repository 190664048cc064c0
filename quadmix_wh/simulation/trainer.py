"""Training one proxy from scratch on fixed sequences and measuring its loss on target sets.

The pieces here (schedule, loss, clipping, optimizer) are shared with batched.py so that a group
of proxies trained together follows exactly the same arithmetic as one trained alone.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from quadmix_wh.simulation import head
from quadmix_wh.simulation.proxy import build_proxy, output_weight


@dataclass(frozen=True)
class TrainSettings:
    seq_len: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 0.1
    warmup_fraction: float = 0.1
    grad_clip: float = 1.0
    eval_batch_size: int = 16

    @classmethod
    def from_config(cls, cfg) -> "TrainSettings":
        return cls(seq_len=cfg["seq_len"], batch_size=cfg["batch_size"],
                   learning_rate=float(cfg["learning_rate"]), weight_decay=float(cfg["weight_decay"]),
                   warmup_fraction=float(cfg["warmup_fraction"]), grad_clip=float(cfg["grad_clip"]))


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@contextlib.contextmanager
def torch_threads(count: int | None):
    """Run with `count` intra-op threads (None: leave torch's setting), restoring it afterwards."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(int(count))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def lr_at(step: int, total_steps: int, settings: TrainSettings) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    warmup = int(total_steps * settings.warmup_fraction)
    if step < warmup:
        return settings.learning_rate * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return settings.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def batch_slices(n_sequences: int, batch_size: int) -> list[slice]:
    return [slice(i, min(i + batch_size, n_sequences)) for i in range(0, n_sequences, batch_size)]


def next_token_loss(logits: torch.Tensor, ids: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    vocab = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, vocab).float(), ids[:, 1:].reshape(-1),
                           reduction=reduction)


def model_loss(model, ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss of one proxy on ids [B, L], through the chunked output layer."""
    hidden = model.model(input_ids=ids).last_hidden_state
    return head.mean_loss(hidden[None], output_weight(model)[None], ids[None])[0]


def make_optimizer(params, settings: TrainSettings) -> torch.optim.AdamW:
    # foreach=False: the per-tensor loop gives the same arithmetic for stacked and single weights.
    return torch.optim.AdamW(params, lr=settings.learning_rate, betas=(0.9, 0.95), eps=1e-8,
                             weight_decay=settings.weight_decay, foreach=False)


def set_lr(optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def train_single(config, sequences: np.ndarray, eval_sets: dict[str, np.ndarray], seed: int,
                 settings: TrainSettings, device: torch.device | str = "cpu") -> dict[str, float]:
    """Train one proxy (initialized from `seed`) on `sequences`; mean token loss per target."""
    return train_model(build_proxy(config, seed), sequences, eval_sets, settings, device)


def train_model(model, sequences: np.ndarray, eval_sets: dict[str, np.ndarray],
                settings: TrainSettings, device: torch.device | str = "cpu") -> dict[str, float]:
    """Train an initialized proxy in place on `sequences`; mean token loss per target.

    Uses no random numbers (no dropout), so it is safe to call from several threads at once;
    initialization (build_proxy) draws from torch's global generator and is not.
    """
    device = torch.device(device)
    model = model.to(device)
    model.train()
    optimizer = make_optimizer(model.parameters(), settings)
    slices = batch_slices(len(sequences), settings.batch_size)
    data = torch.as_tensor(sequences, dtype=torch.long)
    for step, part in enumerate(slices):
        set_lr(optimizer, lr_at(step, len(slices), settings))
        ids = data[part].to(device)
        loss = model_loss(model, ids)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip, foreach=False)
        optimizer.step()
    return evaluate_single(model, eval_sets, settings, device)


@torch.no_grad()
def evaluate_single(model, eval_sets: dict[str, np.ndarray], settings: TrainSettings,
                    device: torch.device) -> dict[str, float]:
    model.eval()
    losses = {}
    for name, sequences in eval_sets.items():
        data = torch.as_tensor(sequences, dtype=torch.long)
        total, count = 0.0, 0
        for part in batch_slices(len(data), settings.eval_batch_size):
            ids = data[part].to(device)
            hidden = model.model(input_ids=ids).last_hidden_state
            total += float(head.summed_loss(hidden[None], output_weight(model)[None], ids[None])[0])
            count += ids.shape[0] * (ids.shape[1] - 1)
        losses[name] = total / count
    return losses
