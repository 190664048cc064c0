"""The output layer and next-token loss of a proxy, computed in chunks that stay in the CPU cache.

With an 8k vocabulary the output layer dominates a tiny proxy: the plain path writes a
[tokens, vocab] logits tensor (134 MB for a 16 x 256 batch), then a log-softmax of it, then a
slice-and-copy for the shift, then as many tensors again in the backward pass. These passes are
bound by memory bandwidth, not arithmetic. Here the logits of a few hundred tokens at a time are
formed, turned into the loss and, in the same pass, into the gradient (softmax - one_hot), which
is multiplied back into the gradients of the hidden states and of the output weights; nothing of
vocabulary size outlives a chunk. The mathematics is the same as
`cross_entropy(h @ W.T, labels)`: only the summation order of the float arithmetic changes.

Every function takes stacked inputs, h [E, N, d] and W [E, V, d] for E models (E = 1 for one
model), so a group of proxies trained together uses the same code as one proxy alone.
"""
from __future__ import annotations

import torch

CHUNK_TOKENS = 256   # logits of 256 x 8192 floats = 8 MB per model: fits the L3 cache


class _ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Mean next-token loss per model; gradients are formed during the forward pass."""

    @staticmethod
    def forward(ctx, h, weight, labels, chunk):
        n_tokens = h.shape[1]
        grad_h = torch.empty_like(h)
        grad_w = torch.zeros_like(weight)
        totals = torch.zeros(h.shape[0], dtype=torch.float64, device=h.device)
        weight_t = weight.transpose(1, 2)
        for start in range(0, n_tokens, chunk):
            part = slice(start, start + chunk)
            logits = torch.bmm(h[:, part], weight_t)                       # [E, c, V]
            index = labels[:, part].unsqueeze(2)
            lse = torch.logsumexp(logits, dim=2, keepdim=True)
            totals += (lse - logits.gather(2, index)).sum(dim=(1, 2)).double()
            probs = logits.sub_(lse).exp_()                               # softmax, in place
            probs.scatter_add_(2, index, torch.full(index.shape, -1.0, dtype=probs.dtype,
                                                    device=probs.device))
            grad_h[:, part] = torch.bmm(probs, weight)
            grad_w.baddbmm_(probs.transpose(1, 2), h[:, part])
        scale = 1.0 / n_tokens
        ctx.save_for_backward(grad_h.mul_(scale), grad_w.mul_(scale))
        return (totals * scale).to(h.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        grad_h, grad_w = ctx.saved_tensors
        g = grad_out.view(-1, 1, 1)
        return grad_h * g, grad_w * g, None, None


def shifted(hidden: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden states [E, B, L, d] and ids [E, B, L] -> inputs [E, B*(L-1), d] and their next tokens."""
    e, b, length, d = hidden.shape
    return (hidden[:, :, :-1].reshape(e, b * (length - 1), d),
            ids[:, :, 1:].reshape(e, b * (length - 1)))


def mean_loss(hidden: torch.Tensor, weight: torch.Tensor, ids: torch.Tensor,
              chunk: int = CHUNK_TOKENS) -> torch.Tensor:
    """Per-model mean next-token loss [E] (differentiable w.r.t. hidden and weight)."""
    h, labels = shifted(hidden, ids)
    return _ChunkedLinearCrossEntropy.apply(h, weight, labels, chunk)


@torch.no_grad()
def summed_loss(hidden: torch.Tensor, weight: torch.Tensor, ids: torch.Tensor,
                chunk: int = CHUNK_TOKENS) -> torch.Tensor:
    """Per-model summed next-token loss [E] in float64 (evaluation; no gradient)."""
    h, labels = shifted(hidden, ids)
    totals = torch.zeros(h.shape[0], dtype=torch.float64, device=h.device)
    weight_t = weight.transpose(1, 2)
    for start in range(0, h.shape[1], chunk):
        part = slice(start, start + chunk)
        logits = torch.bmm(h[:, part], weight_t)
        lse = torch.logsumexp(logits, dim=2, keepdim=True)
        totals += (lse - logits.gather(2, labels[:, part].unsqueeze(2))).sum(dim=(1, 2)).double()
    return totals
