"""Loaders on real file formats: each checkpoint is built and saved by the test (tiny models),
loaded back through quadmix_wh.scoring, and its outputs checked against a direct computation
with transformers / fastText."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_scoring_support import checkpoints, sample_texts, scorer, spec  # noqa: F401 - fixture

from quadmix_wh.scoring import ScorerDeclarationError, ScorerLoadError, output_types, spec_from_mapping
from quadmix_wh.scoring.batching import score_texts
from quadmix_wh.scoring.causal_lm import DEFAULT_ASKLLM_PROMPT
from quadmix_wh.scoring.device import model_dtype, resolve_device
from quadmix_wh.scoring.fingerprint import scorer_fingerprint
from quadmix_wh.scoring.hf_common import encode_head, head_ids

BAD_TEXTS = [None, "", "   \n\t ", "\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 20]
BAD_REASONS = ["null_text", "empty_text", "empty_text", "not_text"]


def run(spec_, texts, batch_size=4):
    return score_texts(scorer(spec_), texts, output_types(spec_), batch_size).to_pydict()


def direct_logits(checkpoint, texts, max_length):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(checkpoint))
    model = AutoModelForSequenceClassification.from_pretrained(str(checkpoint)).eval()
    with torch.inference_mode():
        return np.stack([model(**tok(t, truncation=True, max_length=max_length, return_tensors="pt"))
                         .logits[0].double().numpy() for t in texts])


def test_hf_regression_fineweb_edu_format(checkpoints):
    s = spec("edu", "hf_regression", checkpoints.regression, max_length=64)
    assert output_types(s) == {"score": "DOUBLE", "int_score": "INTEGER"}
    texts = sample_texts(40, seed=7)
    out = run(s, texts)
    expected = direct_logits(checkpoints.regression, texts, 64)[:, 0]
    np.testing.assert_allclose(out["score"], expected, rtol=1e-4, atol=1e-4)  # batched+padded vs one by one
    # FineWeb-Edu: int_score = int(round(max(0, min(score, 5))))
    assert out["int_score"] == [int(round(max(0, min(x, 5)))) for x in out["score"]]
    assert min(out["score"]) < 0 and max(out["score"]) > 5  # both clipping ends exercised
    assert set(out["int_score"]) <= set(range(6)) and len(set(out["int_score"])) >= 3


def test_hf_classifier_id2label(checkpoints):
    s = spec("topic", "hf_classifier", checkpoints.classifier, max_length=64)
    assert output_types(s) == {"label": "VARCHAR", "confidence": "DOUBLE"}
    texts = sample_texts(30, seed=8)
    out = run(s, texts)
    logits = direct_logits(checkpoints.classifier, texts, 64)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    names = ["science", "sports", "code"]
    assert out["label"] == [names[i] for i in probs.argmax(1)]
    np.testing.assert_allclose(out["confidence"], probs.max(1), rtol=1e-4)
    assert set(out["label"]) == set(names)  # every class wins for some texts


def test_hf_loaders_check_the_head(checkpoints):
    with pytest.raises(ScorerLoadError, match="num_labels=1"):
        scorer(spec("edu", "hf_regression", checkpoints.classifier))
    with pytest.raises(ScorerLoadError, match="hf_regression"):
        scorer(spec("topic", "hf_classifier", checkpoints.regression))


def test_long_documents_are_truncated_to_the_head(checkpoints):
    s = spec("edu", "hf_regression", checkpoints.regression, max_length=32)
    head = sample_texts(1, seed=9, lo=60, hi=60)[0]
    long_doc = head + " " + " ".join(sample_texts(400, seed=10))
    other_tail = head + " " + " ".join(sample_texts(400, seed=11))
    out = run(s, [long_doc, other_tail, head])
    # Only the first 32 tokens count: same head, same score, whatever follows.
    assert out["score"][0] == pytest.approx(out["score"][1], abs=1e-6)
    assert out["score"][0] == pytest.approx(out["score"][2], abs=1e-6)


@pytest.mark.parametrize("text", [
    "word " * 3000,
    "def f(x):\n" + "        return x  # indented\n" * 800,
    "ünïcödé テキスト 🙂 " * 900,
    "a" * 5000 + " tail",
    "x\u00a0y " * 2000,
])
def test_head_tokenization_equals_full_tokenization(checkpoints, text):
    tok = checkpoints.tokenizer
    for max_tokens in (8, 64, 300):
        assert encode_head(tok, [text], max_tokens)[0] == \
            tok(text, truncation=True, max_length=max_tokens)["input_ids"]
        assert head_ids(tok, text, max_tokens) == tok(text, add_special_tokens=False)["input_ids"][:max_tokens]


def test_unscorable_documents_get_null_and_a_reason(checkpoints):
    specs = [spec("edu", "hf_regression", checkpoints.regression, max_length=64),
             spec("q", "fasttext", checkpoints.fasttext, positive_label="__label__hq"),
             spec("ppl", "perplexity", checkpoints.causal_lm, max_length=64),
             # The default AskLLM prompt alone is longer than this tiny model's 128 positions
             # (its 400-token vocabulary splits words finely), so a short question is used.
             spec("ask", "askllm", checkpoints.causal_lm, max_length=128,
                  prompt="Text:\n{text}\nIs this useful? ANSWER:")]
    for s in specs:
        out = run(s, BAD_TEXTS + ["a fine document."])
        first = next(iter(output_types(s)))
        assert out[first][:4] == [None] * 4 and out[first][4] is not None, s.loader
        assert out["null_reason"] == BAD_REASONS + [None], s.loader


def test_fasttext_bin_probability_of_the_positive_label(checkpoints):
    import fasttext
    path = checkpoints.fasttext
    s = spec("dclm", "fasttext", path, positive_label="__label__hq", max_length=100)
    assert output_types(s) == {"prob": "DOUBLE"}
    hq = sample_texts(10, seed=12, words=["theorem", "proof", "energy", "history", "research"])
    cc = sample_texts(10, seed=13, words=["click", "buy", "cheap", "deal", "lol"])
    out = run(s, hq + ["line one\nline two theorem\n\nproof"] + cc)
    model = fasttext.load_model(str(path))
    labels, probs = model.predict(["line one line two theorem proof"], k=-1, threshold=0.0)
    # fastText's predict() adds 1e-5 to each probability (exp of log(p + 1e-5)); the scorer does not.
    raw = dict(zip(labels[0], probs[0]))
    assert out["prob"][10] == pytest.approx(raw["__label__hq"] - 1e-5, abs=1e-7)
    assert sum(raw.values()) == pytest.approx(1.0 + 2e-5, abs=1e-6)
    assert min(out["prob"][:10]) > 0.5 > max(out["prob"][11:])
    assert all(0.0 <= p <= 1.0 for p in out["prob"])


def test_fasttext_classifier_mode_and_errors(checkpoints, tmp_path):
    s = spec("kind", "fasttext", checkpoints.fasttext)
    out = run(s, ["theorem proof energy", "cheap deal click"])
    assert out["label"] == ["hq", "cc"] and all(0.5 < c <= 1 for c in out["confidence"])
    # A sure prediction must not read above 1 (fastText alone gives 1.00001 there).
    sure = run(s, [" ".join(["theorem proof energy history research"] * 40)])
    assert 0.99 < sure["confidence"][0] <= 1.0
    with pytest.raises(ScorerLoadError, match="__label__good"):
        scorer(spec("bad", "fasttext", checkpoints.fasttext, positive_label="__label__good"))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a fasttext model")
    with pytest.raises(ScorerLoadError, match="junk.bin"):
        scorer(spec("junk", "fasttext", junk))
    with pytest.raises(ScorerLoadError, match="not found"):
        scorer(spec("missing", "fasttext", tmp_path / "missing.bin"))


def _lm(checkpoint):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    return (AutoTokenizer.from_pretrained(str(checkpoint)),
            AutoModelForCausalLM.from_pretrained(str(checkpoint)).eval())


def test_perplexity_under_a_causal_lm(checkpoints):
    s = spec("ppl", "perplexity", checkpoints.causal_lm, max_length=48, batch_size=8)
    texts = sample_texts(12, seed=14) + [" ".join(sample_texts(50, seed=15))]  # the last is long
    out = run(s, texts)
    tok, model = _lm(checkpoints.causal_lm)
    for text, got in zip(texts, out["perplexity"]):
        ids = [tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"][:47]
        tensor = torch.tensor([ids])
        with torch.inference_mode():
            expected = math.exp(float(model(input_ids=tensor, labels=tensor).loss))
        assert got == pytest.approx(expected, rel=1e-4)


def test_askllm_probability_of_yes(checkpoints):
    template = "Text:\n{text}\nIs this useful? ANSWER:"
    s = spec("ask", "askllm", checkpoints.causal_lm, max_length=40, prompt=template, yes_token=" yes")
    texts = sample_texts(6, seed=16) + [" ".join(sample_texts(40, seed=17))]  # the last must be truncated
    out = run(s, texts)
    tok, model = _lm(checkpoints.causal_lm)
    enc = lambda t: tok(t, add_special_tokens=False)["input_ids"]  # noqa: E731
    head, tail, yes = enc("Text:\n"), enc("\nIs this useful? ANSWER:"), enc(" yes")[0]
    budget = 40 - 1 - len(head) - len(tail)
    for text, got in zip(texts, out["p_yes"]):
        ids = [tok.bos_token_id] + head + enc(text)[:budget] + tail  # the question is always kept whole
        with torch.inference_mode():
            probs = torch.softmax(model(input_ids=torch.tensor([ids])).logits[0, -1].float(), dim=-1)
        assert got == pytest.approx(float(probs[yes]), rel=1e-4)
    assert "{text}" in DEFAULT_ASKLLM_PROMPT


def test_askllm_rejects_bad_templates(checkpoints):
    with pytest.raises(ScorerLoadError, match="exactly once"):
        scorer(spec("ask1", "askllm", checkpoints.causal_lm, prompt="no placeholder"))
    with pytest.raises(ScorerLoadError, match="longer than max_length"):
        scorer(spec("ask2", "askllm", checkpoints.causal_lm, max_length=4, prompt="a long question " * 5 + "{text}"))


def test_fingerprint_follows_weights_and_value_settings(checkpoints, tmp_path):
    import shutil
    copy = tmp_path / "edu"
    shutil.copytree(checkpoints.regression, copy)
    base = scorer_fingerprint(spec("edu", "hf_regression", copy, max_length=64))
    assert scorer_fingerprint(spec("edu", "hf_regression", copy, max_length=64, batch_size=7, chunk_size=9)) == base
    assert scorer_fingerprint(spec("edu", "hf_regression", copy, max_length=32)) != base
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(str(copy))
    with torch.no_grad():
        model.classifier.bias.add_(1.0)
    model.save_pretrained(str(copy))
    changed = spec("edu", "hf_regression", copy, max_length=64)
    assert scorer_fingerprint(changed) != base
    # ... and the reloaded scorer serves the new weights, not the old model kept in memory.
    assert run(changed, ["theorem proof."])["score"][0] == pytest.approx(
        direct_logits(copy, ["theorem proof."], 64)[0, 0], abs=1e-4)


def test_declarations_fail_early_with_the_file_named(tmp_path):
    good = {"name": "edu", "loader": "hf_regression", "checkpoint": "x"}
    with pytest.raises(ScorerDeclarationError, match="unknown loader"):
        spec_from_mapping({**good, "loader": "onnx"}, tmp_path, tmp_path / "u.yml")
    with pytest.raises(ScorerDeclarationError, match=r"u\.yml.*unknown setting.*batchsize"):
        spec_from_mapping({**good, "settings": {"batchsize": 3}}, tmp_path, tmp_path / "u.yml")
    with pytest.raises(ScorerDeclarationError, match="unknown key"):
        spec_from_mapping({**good, "ouputs": {}}, tmp_path, tmp_path / "u.yml")
    with pytest.raises(ScorerDeclarationError, match="lower-case"):
        spec_from_mapping({**good, "name": "Edu-1"}, tmp_path, tmp_path / "u.yml")
    with pytest.raises(ScorerDeclarationError, match="do not match"):
        spec_from_mapping({**good, "outputs": {"score": "DOUBLE"}}, tmp_path, tmp_path / "u.yml")
    with pytest.raises(ScorerDeclarationError, match="device"):
        spec_from_mapping({**good, "settings": {"device": "tpu"}}, tmp_path, tmp_path / "u.yml")


def test_device_auto_uses_cuda_only_when_present():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert model_dtype("cuda") == torch.bfloat16 and model_dtype("cpu") == torch.float32
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="device: auto"):
            resolve_device("cuda")


def test_batches_are_length_sorted_and_results_come_back_in_order(checkpoints):
    s = spec("edu", "hf_regression", checkpoints.regression, max_length=64)
    texts = sample_texts(20, seed=18)
    one_by_one = [run(s, [t], batch_size=1)["score"][0] for t in texts]
    batched = run(s, texts, batch_size=6)["score"]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-4, atol=1e-4)
    from quadmix_wh.scoring.batching import length_sorted_batches
    batches = length_sorted_batches(list(range(len(texts))), texts, 6)
    lengths = [len(texts[i]) for b in batches for i in b]
    assert lengths == sorted(lengths) and sorted(i for b in batches for i in b) == list(range(20))
