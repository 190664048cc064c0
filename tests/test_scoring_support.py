"""Tiny real checkpoints for the scoring tests, built and saved locally (no model hub): a
byte-level BPE tokenizer, BERT sequence classifiers (regression and 3 classes), a Llama causal
LM and fastText supervised models. Built once per test session and shared."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from quadmix_wh.scoring import build, load_scorer, spec_from_mapping
from quadmix_wh.scoring.fingerprint import scorer_fingerprint

WORDS_HQ = ("theorem proof equation energy molecule protein history century empire treaty "
            "algorithm function variable theory evidence analysis research method").split()
WORDS_CC = ("click buy cheap deal free shipping login cart sale offer subscribe cookie "
            "lol omg wow cool awesome best price win").split()

_BUILT: dict[str, Path] = {}


def sample_texts(n: int, seed: int = 0, words=WORDS_HQ + WORDS_CC, lo: int = 5, hi: int = 40) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(lo, hi))) + "." for _ in range(n)]


def _root(factory) -> Path:
    if "root" not in _BUILT:
        _BUILT["root"] = factory.mktemp("scoring_checkpoints")
    return _BUILT["root"]


def _cached(factory, name: str, make) -> Path:
    if name not in _BUILT:
        _BUILT[name] = make(_root(factory) / name)
    return _BUILT[name]


def tokenizer(factory):
    def make(path: Path) -> Path:
        tok = build.train_tokenizer(sample_texts(300) + ["Does the text help? yes no ANSWER:"], vocab_size=400)
        tok.save_pretrained(str(path))
        return path
    path = _cached(factory, "tokenizer", make)
    from transformers import PreTrainedTokenizerFast
    return PreTrainedTokenizerFast.from_pretrained(str(path))


def regression_checkpoint(factory) -> Path:
    """One regression output, FineWeb-Edu style, whose scores run past both ends of 0-5.

    Not trained (a tiny trained regressor collapses to the target mean, and training is slow on
    a busy machine): a random encoder with a wide initialisation, so its pooled output varies
    with the text, and a regression head set by hand along the pooled outputs' main direction
    of variation, scaled so that the 10th percentile of 200 sample texts scores -1 and the 90th
    percentile scores 6."""
    def make(path: Path) -> Path:
        import torch
        torch.manual_seed(1)
        tok = tokenizer(factory)
        model = build.bert_classifier(len(tok), 1, hidden=32, layers=1, heads=2, intermediate=64,
                                      max_positions=64, pad_token_id=tok.pad_token_id,
                                      initializer_range=0.2).eval()
        mean, directions, z = _pooled_direction(model, tok, sample_texts(200, seed=100), 1)
        z = z[:, 0]
        lo, hi = torch.quantile(z, 0.1), torch.quantile(z, 0.9)
        scale = 7.0 / float(hi - lo)
        weight = directions[0] * scale
        with torch.no_grad():
            model.classifier.weight.copy_(weight[None].float())
            model.classifier.bias.fill_(float(-1.0 - scale * lo - mean @ weight))
        return build.save_checkpoint(model, tok, path)
    return _cached(factory, "edu", make)


def _pooled_direction(model, tok, texts, components: int):
    """Pooled outputs of `texts` and their main directions of variation (no gradient)."""
    import torch
    enc = tok(texts, truncation=True, max_length=64, padding=True, return_tensors="pt")
    with torch.no_grad():
        pooled = model.bert(**enc).pooler_output.double()
    mean = pooled.mean(0)
    directions = torch.linalg.svd(pooled - mean, full_matrices=False).Vh[:components]
    return mean, directions, (pooled - mean) @ directions.T


def classifier_checkpoint(factory, labels=("science", "sports", "code")) -> Path:
    """Three classes with names in id2label. Like the regression checkpoint, not trained: the
    head is set by hand along the main direction z of the pooled outputs, logits
    (s(z - t), s(-z - t), 0) with t the median |z| of 200 sample texts, so each class wins for
    a good share of texts (class 2 where |z| < t)."""
    def make(path: Path) -> Path:
        import torch
        torch.manual_seed(2)
        tok = tokenizer(factory)
        model = build.bert_classifier(len(tok), len(labels), list(labels), hidden=32, layers=1, heads=2,
                                      intermediate=64, max_positions=64, pad_token_id=tok.pad_token_id,
                                      initializer_range=0.2).eval()
        mean, directions, z = _pooled_direction(model, tok, sample_texts(200, seed=101), 1)
        d, z = directions[0], z[:, 0]
        scale, threshold = 4.0 / float(z.std()), float(z.abs().median())
        weight = torch.stack([d, -d, torch.zeros_like(d)]) * scale
        bias = torch.tensor([-scale * threshold, -scale * threshold, 0.0], dtype=torch.float64) - weight @ mean
        with torch.no_grad():
            model.classifier.weight.copy_(weight.float())
            model.classifier.bias.copy_(bias.float())
        return build.save_checkpoint(model, tok, path)
    return _cached(factory, "classes_" + "_".join(labels), make)


def causal_lm_checkpoint(factory) -> Path:
    def make(path: Path) -> Path:
        import torch
        torch.manual_seed(3)
        tok = tokenizer(factory)
        model = build.llama_lm(len(tok), hidden=32, layers=1, heads=2, intermediate=64, max_positions=128,
                               bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                               pad_token_id=tok.pad_token_id)
        return build.save_checkpoint(model, tok, path)
    return _cached(factory, "lm", make)


def fasttext_checkpoint(factory, labels=("hq", "cc"), name: str = "quality.bin") -> Path:
    """A supervised fastText model, trained for real on two vocabularies (.bin format)."""
    def make(path: Path) -> Path:
        rng = random.Random(4)
        lines = []
        for label, words in zip(labels, (WORDS_HQ, WORDS_CC)):
            for text in sample_texts(60, seed=rng.randint(0, 10**6), words=words):
                lines.append(f"__label__{label} {text}")
        rng.shuffle(lines)
        return build.train_fasttext(lines, path, dim=8, epoch=20, lr=0.5, wordNgrams=2, bucket=1000,
                                    minCount=1)
    stem, suffix = name.rsplit(".", 1)
    return _cached(factory, f"{stem}_{'_'.join(labels)}.{suffix}", make)


def spec(name: str, loader: str, checkpoint: Path, **settings):
    return spec_from_mapping({"name": name, "loader": loader, "checkpoint": str(checkpoint),
                              "settings": {"device": "cpu", **settings}}, checkpoint.parent)


def scorer(spec_):
    return load_scorer(spec_, scorer_fingerprint(spec_))


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory):
    """Lazy access to the tiny checkpoints (each built on first use)."""
    class Checkpoints:
        regression = property(lambda self: regression_checkpoint(tmp_path_factory))
        classifier = property(lambda self: classifier_checkpoint(tmp_path_factory))
        causal_lm = property(lambda self: causal_lm_checkpoint(tmp_path_factory))
        fasttext = property(lambda self: fasttext_checkpoint(tmp_path_factory))
        tokenizer = property(lambda self: tokenizer(tmp_path_factory))

        def fasttext_labels(self, labels, name="labels.bin"):
            return fasttext_checkpoint(tmp_path_factory, labels, name)
    return Checkpoints()


def test_support_builds_real_checkpoints(checkpoints):
    assert (checkpoints.regression / "config.json").is_file()
    assert (checkpoints.regression / "tokenizer.json").is_file()
    assert checkpoints.fasttext.suffix == ".bin" and checkpoints.fasttext.stat().st_size > 1000
