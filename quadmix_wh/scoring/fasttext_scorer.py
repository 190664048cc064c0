"""fastText supervised `.bin` models (DCLM style), via the maintained `fasttext-numpy2-wheel`.

With `settings.positive_label` (e.g. `__label__hq`) the output is `prob`, P(positive label)
(fastText's softmax probability, without the 1e-5 its predict() adds);
without it the scorer is a classifier: `label` (without the `__label__` prefix) and `confidence`.
`max_length` counts whitespace-separated words: fastText sees the first `max_length` words.
"""
from __future__ import annotations

from .base import Scorer, ScorerLoadError, require_path

LABEL_PREFIX = "__label__"


def prepare_text(text: str, max_words: int) -> str:
    """One line of at most `max_words` words: fastText predicts one line at a time (a newline
    would split the document), and training data must be prepared the same way."""
    return " ".join(text.split()[:max_words])


class FastTextScorer(Scorer):
    kind = "fasttext"

    @classmethod
    def output_types(cls, settings):
        if settings.get("positive_label"):
            return {"prob": "DOUBLE"}
        return {"label": "VARCHAR", "confidence": "DOUBLE"}

    def __init__(self, spec, device):
        super().__init__(spec, "cpu")  # fastText has no GPU path
        import fasttext
        require_path(spec.checkpoint, "fastText model file", spec)
        try:
            self.model = fasttext.load_model(str(spec.checkpoint))
        except Exception as exc:
            raise ScorerLoadError(f"scorer '{spec.name}': {spec.checkpoint} is not a fastText model: {exc}") from exc
        self.positive = spec.settings.get("positive_label")
        if self.positive and self.positive not in self.model.get_labels():
            raise ScorerLoadError(f"scorer '{spec.name}': {spec.checkpoint} has labels {self.model.get_labels()}, "
                                  f"not the positive_label '{self.positive}'")

    def predict(self, texts):
        lines = [prepare_text(t, self.spec.max_length) for t in texts]
        labels, probs = self.model.predict(lines, k=-1, threshold=0.0)
        if self.positive:
            return {"prob": [probability(dict(zip(ls, ps)).get(self.positive)) for ls, ps in zip(labels, probs)]}
        return {"label": [ls[0].removeprefix(LABEL_PREFIX) for ls in labels],
                "confidence": [probability(ps[0]) for ps in probs]}


# fastText's predict() returns exp(log(p + 1e-5)), i.e. the softmax probability plus 1e-5 (so a
# sure prediction reads 1.00001). The scorer reports p itself, clipped to [0, 1] against rounding.
FASTTEXT_LOG_EPSILON = 1e-5


def probability(raw) -> float:
    if raw is None:
        return 0.0
    return min(1.0, max(0.0, float(raw) - FASTTEXT_LOG_EPSILON))
