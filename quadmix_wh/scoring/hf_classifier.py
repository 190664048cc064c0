"""Hugging Face sequence-classification checkpoints from a local directory.

`hf_regression`: one regression output, FineWeb-Edu style (score, int_score = round(clip(score, 0, 5))).
`hf_classifier`: several classes with `id2label` (label of the arg-max class and its probability).
"""
from __future__ import annotations

import numpy as np

from .base import Scorer, ScorerLoadError
from .hf_common import encode_head, load_model, load_tokenizer, max_positions, pad_batch, pad_id_of


class _SequenceClassifier(Scorer):
    def __init__(self, spec, device):
        super().__init__(spec, device)
        from transformers import AutoModelForSequenceClassification
        self.tokenizer = load_tokenizer(spec)
        self.model = load_model(AutoModelForSequenceClassification, spec, device)
        self.max_tokens = max_positions(self.model, spec.max_length)
        self.pad_id = pad_id_of(self.tokenizer)
        self._check_head()

    def _check_head(self):
        pass

    def logits(self, texts: list[str]) -> np.ndarray:
        import torch
        ids, mask = pad_batch(encode_head(self.tokenizer, texts, self.max_tokens), self.pad_id, self.device)
        with torch.inference_mode():
            out = self.model(input_ids=ids, attention_mask=mask).logits
        return out.float().cpu().numpy()


class HFRegressionScorer(_SequenceClassifier):
    kind = "hf_regression"

    @classmethod
    def output_types(cls, settings):
        return {"score": "DOUBLE", "int_score": "INTEGER"}

    def _check_head(self):
        if self.model.config.num_labels != 1:
            raise ScorerLoadError(f"scorer '{self.spec.name}': {self.spec.checkpoint} has "
                                  f"{self.model.config.num_labels} labels; hf_regression needs num_labels=1")

    def predict(self, texts):
        scores = self.logits(texts)[:, 0].astype(np.float64)
        # FineWeb-Edu: int_score = int(round(max(0, min(score, 5)))); rint rounds half to even like round().
        int_scores = np.rint(np.clip(scores, 0.0, 5.0)).astype(np.int32)
        return {"score": scores.tolist(), "int_score": int_scores.tolist()}


class HFClassifierScorer(_SequenceClassifier):
    kind = "hf_classifier"

    @classmethod
    def output_types(cls, settings):
        return {"label": "VARCHAR", "confidence": "DOUBLE"}

    def _check_head(self):
        if self.model.config.num_labels < 2:
            raise ScorerLoadError(f"scorer '{self.spec.name}': {self.spec.checkpoint} has a single output; "
                                  f"use loader hf_regression for regression heads")
        self.id2label = {int(k): str(v) for k, v in self.model.config.id2label.items()}

    def predict(self, texts):
        logits = self.logits(texts).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        best = probs.argmax(axis=1)
        return {"label": [self.id2label[int(i)] for i in best],
                "confidence": probs[np.arange(len(best)), best].tolist()}
