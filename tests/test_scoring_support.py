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


def fit(model, tok, texts, targets, steps: int = 150):
    """A few real training steps, so the tiny model's outputs depend on its input."""
    import torch
    enc = tok(texts, truncation=True, max_length=64, padding=True, return_tensors="pt")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(**enc, labels=targets).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def regression_checkpoint(factory) -> Path:
    """One regression output trained on `words / 4 - 2`, so scores run past both ends of 0-5."""
    def make(path: Path) -> Path:
        import torch
        torch.manual_seed(1)
        tok = tokenizer(factory)
        model = build.bert_classifier(len(tok), 1, hidden=32, layers=1, heads=2, intermediate=64,
                                      max_positions=64, pad_token_id=tok.pad_token_id)
        texts = sample_texts(200, seed=100)
        fit(model, tok, texts, torch.tensor([len(t.split()) / 4 - 2 for t in texts]))
        return build.save_checkpoint(model, tok, path)
    return _cached(factory, "edu", make)


def classifier_checkpoint(factory, labels=("science", "sports", "code")) -> Path:
    """Three classes with names in id2label, trained on the document length (short/mid/long)."""
    def make(path: Path) -> Path:
        import torch
        torch.manual_seed(2)
        tok = tokenizer(factory)
        model = build.bert_classifier(len(tok), len(labels), list(labels), hidden=32, layers=1, heads=2,
                                      intermediate=64, max_positions=64, pad_token_id=tok.pad_token_id)
        texts = sample_texts(200, seed=101)
        fit(model, tok, texts, torch.tensor([min(len(t.split()) // 14, 2) for t in texts]))
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
