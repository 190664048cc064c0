"""Training several proxies at once: stacked weights, torch.func.functional_call under vmap.

Each proxy keeps its own weights, data, initialization seed and optimizer state; only the
kernels are shared (one bmm instead of E small matmuls). The loss of the group is the sum of the
proxies' losses, so each proxy's gradient is exactly the gradient of its own loss; AdamW is
elementwise, and clipping is done per proxy. The transformer body runs under vmap; the output
layer and loss (head.py) take the stacked weights directly.

This pays where one tiny proxy leaves the device idle (a GPU). On a few CPU cores a proxy's
matrices are already large enough for the cores, and parallel.py (one single-threaded proxy per
core) is the faster way to train several at once; bench/proxy_training.py measures both.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch.func import functional_call, stack_module_state, vmap

from quadmix_wh.simulation import head
from quadmix_wh.simulation.proxy import build_proxy
from quadmix_wh.simulation.trainer import TrainSettings, batch_slices, lr_at, make_optimizer, set_lr

BODY_PREFIX = "model."


class StackedProxies:
    def __init__(self, config, seeds: list[int], device: torch.device):
        models = [build_proxy(config, seed) for seed in seeds]
        params, buffers = stack_module_state(models)
        self.params = {k: v.detach().to(device).requires_grad_(True) for k, v in params.items()}
        self.buffers = {k: v.to(device) for k, v in buffers.items()}
        self.body = copy.deepcopy(models[0].model).to("meta")
        # Tied embeddings appear once in the stacked state, under the embedding's name.
        self.head_key = "lm_head.weight" if "lm_head.weight" in self.params else "model.embed_tokens.weight"
        self.size = len(seeds)

    def _body_state(self, tensors: dict) -> dict:
        return {k[len(BODY_PREFIX):]: v for k, v in tensors.items() if k.startswith(BODY_PREFIX)}

    def hidden(self, ids: torch.Tensor, shared: bool = False) -> torch.Tensor:
        """Last hidden states [E, B, L, d]: ids [E, B, L], or [B, L] for every proxy (shared)."""
        def one(params, buffers, x):
            return functional_call(self.body, (params, buffers), (), {"input_ids": x}).last_hidden_state
        return vmap(one, in_dims=(0, 0, None if shared else 0))(
            self._body_state(self.params), self._body_state(self.buffers), ids)

    def losses(self, ids: torch.Tensor) -> torch.Tensor:
        """Per-proxy mean loss for ids [E, B, L] (each proxy its own batch)."""
        return head.mean_loss(self.hidden(ids), self.params[self.head_key], ids)

    def summed_losses(self, ids: torch.Tensor) -> torch.Tensor:
        """Per-proxy summed loss (float64) for ids [B, L] shared by every proxy (evaluation)."""
        hidden = self.hidden(ids, shared=True)
        return head.summed_loss(hidden, self.params[self.head_key].detach(),
                                ids.expand(self.size, *ids.shape))

    def clip_(self, max_norm: float) -> None:
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        squares = torch.stack([g.pow(2).reshape(self.size, -1).sum(dim=1) for g in grads]).sum(dim=0)
        scale = torch.clamp(max_norm / (squares.sqrt() + 1e-6), max=1.0)
        for g in grads:
            g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


def train_group(config, sequences: list[np.ndarray], eval_sets: dict[str, np.ndarray],
                seeds: list[int], settings: TrainSettings,
                device: torch.device | str = "cpu") -> list[dict[str, float]]:
    """Train len(seeds) proxies together; proxy i sees sequences[i]. Losses per proxy per target."""
    if len(sequences) != len(seeds) or not seeds:
        raise ValueError("train_group needs one sequence array per seed (and at least one)")
    if len({s.shape for s in sequences}) != 1:
        raise ValueError("every proxy in a group must train on the same number of sequences")
    device = torch.device(device)
    stack = StackedProxies(config, seeds, device)
    optimizer = make_optimizer(list(stack.params.values()), settings)
    data = torch.as_tensor(np.stack(sequences), dtype=torch.long)
    slices = batch_slices(data.shape[1], settings.batch_size)
    for step, part in enumerate(slices):
        set_lr(optimizer, lr_at(step, len(slices), settings))
        loss = stack.losses(data[:, part].to(device)).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if settings.grad_clip > 0:
            stack.clip_(settings.grad_clip)
        optimizer.step()
    return evaluate_group(stack, eval_sets, settings, device)


@torch.no_grad()
def evaluate_group(stack: StackedProxies, eval_sets: dict[str, np.ndarray], settings: TrainSettings,
                   device: torch.device) -> list[dict[str, float]]:
    results: list[dict[str, float]] = [{} for _ in range(stack.size)]
    for name, sequences in eval_sets.items():
        data = torch.as_tensor(sequences, dtype=torch.long)
        totals = torch.zeros(stack.size, dtype=torch.float64)
        count = 0
        for part in batch_slices(len(data), settings.eval_batch_size):
            ids = data[part].to(device)
            totals += stack.summed_losses(ids).cpu()
            count += ids.shape[0] * (ids.shape[1] - 1)
        for i in range(stack.size):
            results[i][name] = float(totals[i]) / count
    return results
