"""Scorers built on a local causal language model.

`askllm`: P("yes") as the next token after a prompt that asks whether the document is useful
  training data (AskLLM, Sachdeva et al. 2024). The document part of the prompt is truncated to
  fit `max_length` tokens; the question around it is always kept whole.
`perplexity`: exp(mean next-token negative log-likelihood) of the document's first `max_length`
  tokens (CCNet style, lower is better). Documents shorter than 2 tokens have no perplexity.
"""
from __future__ import annotations

import numpy as np

from .base import Scorer, ScorerLoadError
from .hf_common import head_ids, load_model, load_tokenizer, max_positions, pad_batch, pad_id_of

DEFAULT_ASKLLM_PROMPT = (
    "###\n{text}\n###\n"
    "Does the previous paragraph demarcated within ### and ### contain informative signal for "
    "pre-training a large-language model? An informative datapoint should be well-formatted, "
    "contain some usable knowledge of the world, and strictly NOT have any harmful, racist, "
    "sexist, etc. content.\nOPTIONS:\n- yes\n- no\nANSWER:")


class _CausalLM(Scorer):
    def __init__(self, spec, device):
        super().__init__(spec, device)
        from transformers import AutoModelForCausalLM
        self.tokenizer = load_tokenizer(spec)
        self.model = load_model(AutoModelForCausalLM, spec, device)
        self.max_tokens = max_positions(self.model, spec.max_length)
        self.pad_id = pad_id_of(self.tokenizer)
        bos = self.tokenizer.bos_token_id
        self.prefix = [int(bos)] if bos is not None else []

    def ids(self, text: str, limit: int | None = None) -> list[int]:
        if limit is not None:
            return head_ids(self.tokenizer, text, limit)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def forward(self, sequences: list[list[int]]):
        import torch
        ids, mask = pad_batch(sequences, self.pad_id, self.device)
        with torch.inference_mode():
            return self.model(input_ids=ids, attention_mask=mask).logits.float(), ids, mask


class AskLLMScorer(_CausalLM):
    kind = "askllm"

    @classmethod
    def output_types(cls, settings):
        return {"p_yes": "DOUBLE"}

    def __init__(self, spec, device):
        super().__init__(spec, device)
        template = spec.settings.get("prompt", DEFAULT_ASKLLM_PROMPT)
        if template.count("{text}") != 1:
            raise ScorerLoadError(f"scorer '{spec.name}': settings.prompt must contain '{{text}}' exactly once")
        head, tail = template.split("{text}")
        self.head, self.tail = self.ids(head), self.ids(tail)
        yes = self.ids(spec.settings.get("yes_token", " yes"))
        if not yes:
            raise ScorerLoadError(f"scorer '{spec.name}': settings.yes_token encodes to no token")
        self.yes_id = yes[0]
        self.doc_budget = self.max_tokens - len(self.prefix) - len(self.head) - len(self.tail)
        if self.doc_budget < 1:
            raise ScorerLoadError(f"scorer '{spec.name}': the prompt alone is longer than max_length {self.max_tokens}")

    def predict(self, texts):
        import torch
        sequences = [self.prefix + self.head + self.ids(t, self.doc_budget) + self.tail for t in texts]
        logits, _, mask = self.forward(sequences)
        last = mask.sum(dim=1) - 1  # right padding: the answer position is the last real token
        final = logits[torch.arange(len(sequences)), last]
        probs = torch.softmax(final, dim=-1)[:, self.yes_id]
        return {"p_yes": probs.double().cpu().numpy().tolist()}


class PerplexityScorer(_CausalLM):
    kind = "perplexity"

    @classmethod
    def output_types(cls, settings):
        return {"perplexity": "DOUBLE"}

    def predict(self, texts):
        import torch
        sequences = [self.prefix + self.ids(t, self.max_tokens - len(self.prefix)) for t in texts]
        scorable = [len(s) >= 2 for s in sequences]
        values = [None] * len(texts)
        rows = [s for s, ok in zip(sequences, scorable) if ok]
        if rows:
            logits, ids, mask = self.forward(rows)
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            nll = -logp.gather(2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            target_mask = mask[:, 1:].to(nll.dtype)
            mean_nll = (nll * target_mask).sum(dim=1) / target_mask.sum(dim=1)
            ppl = iter(np.exp(mean_nll.double().cpu().numpy()).tolist())
            values = [next(ppl) if ok else None for ok in scorable]
        return {"perplexity": values}
