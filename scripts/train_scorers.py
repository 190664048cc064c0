"""Train the default project's scorers from the shared corpora (only files that may ship).

    python scripts/train_scorers.py            # from the repository root; a few minutes on 2 cores

Reads ../shared/data/corpus relative to the repository root and writes, under data/scorers/:
  domain.bin     fastText classifier: the genre family of a document (10 labels, see GENRES)
  dclm_hq.bin    fastText bigram classifier, DCLM style: __label__hq (reference text) vs __label__cc (web)
  edu/           BertForSequenceClassification, one regression output: educational value 0-5
  lm/            LlamaForCausalLM (2 layers, width 128) trained on Wikipedia text, for perplexity
  evaluation.json  held-out metrics of each, and criterion correlations on held-out documents

Deterministic: fixed seeds, a hash-based train/held-out split, fastText on one thread and torch on
a fixed thread count, so the same corpus gives the same artifacts.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from quadmix_wh.scoring import build  # noqa: E402

SEED = 20240521
TORCH_THREADS = 2  # fixed, so float reductions (and the weights) do not depend on the machine

# Only the corpus files whose licence lets them ship (see ../shared/data/README.md).
SHIPPABLE = ["web", "qa_forum", "encyclopedic", "academic", "literature_speeches", "reviews",
             "synthetic_topics", "code_python", "tech_docs", "fortunes"]

# Domain = genre family of the source. The 30 synthetic topics only label short machine-written
# paragraphs; a topic classifier trained on them says little about code, reviews or Shakespeare,
# which is most of what the demo corpus holds. Genre families cover every shippable document and
# are what a mixture should balance (how much code, encyclopedia, web...).
GENRES = {"web": "web", "qa_forum": "qa_forum", "encyclopedic": "encyclopedia", "academic": "academic",
          "literature_speeches": "literature", "reviews": "reviews", "synthetic_topics": "expository",
          "code_python": "code", "tech_docs": "tech_docs", "fortunes": "quotes_jokes"}

# DCLM style: reference text is the positive class, raw web text the negative.
DCLM_HQ = {"encyclopedic", "academic", "tech_docs", "literature_speeches"}
DCLM_CC = {"web"}

# Educational value on the FineWeb-Edu 0-5 scale, derived from source (and style for the
# synthetic paragraphs): 5 research writing, 4 reference/teaching text, 3 useful but informal
# knowledge, 2 culture and opinion with some knowledge, 1 little, 0 none.
EDU_BY_SOURCE = {"academic": 5.0, "encyclopedic": 4.0, "tech_docs": 4.0, "qa_forum": 3.0,
                 "code_python": 3.0, "literature_speeches": 2.0, "web": 1.0, "reviews": 1.0,
                 "fortunes": 0.0}
EDU_BY_STYLE = {"technical": 4.0, "formal": 3.0, "informal": 2.0, "dialogue between two people": 2.0,
                "poetic": 1.0, "baby talk": 1.0}

HELDOUT_SHARE = 5  # one document in five is held out


def read_corpus(corpus_dir: Path) -> list[dict]:
    docs = []
    for stem in SHIPPABLE:
        path = corpus_dir / f"{stem}.jsonl.gz"
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, 1):
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{line_no}: not JSON: {exc}")
                if doc.get("text", "").strip():
                    doc["source"] = stem
                    docs.append(doc)
    return docs


def is_heldout(doc_id: str) -> bool:
    # A hash split: stable across runs and machines, independent of file order.
    return int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % HELDOUT_SHARE == 0


def split(docs):
    return [d for d in docs if not is_heldout(d["id"])], [d for d in docs if is_heldout(d["id"])]


def capped(docs, key, cap: int, rng: random.Random):
    """At most `cap` documents per label, so big sources (fortunes) do not drown small ones."""
    by_label: dict = {}
    for doc in docs:
        by_label.setdefault(key(doc), []).append(doc)
    out = []
    for label in sorted(by_label):
        group = by_label[label]
        out.extend(rng.sample(group, cap) if len(group) > cap else group)
    rng.shuffle(out)
    return out


def one_line(text: str, words: int = 400) -> str:
    return " ".join(text.split()[:words])


# -- fastText ----------------------------------------------------------------------------------

def train_fasttext(rows: list[tuple[str, str]], path: Path, **params):
    import fasttext
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
        for label, text in rows:
            handle.write(f"__label__{label} {one_line(text)}\n")
    # thread=1: fastText's Hogwild updates make multi-threaded training nondeterministic.
    model = fasttext.train_supervised(handle.name, thread=1, seed=SEED, verbose=0, **params)
    Path(handle.name).unlink()
    model.save_model(str(path))
    return model


def fasttext_accuracy(model, rows) -> float:
    labels, _ = model.predict([one_line(t) for _, t in rows], k=1)
    return float(np.mean([ls[0] == f"__label__{want}" for ls, (want, _) in zip(labels, rows)]))


def majority_share(rows) -> float:
    counts: dict = {}
    for label, _ in rows:
        counts[label] = counts.get(label, 0) + 1
    return max(counts.values()) / len(rows)


def train_domain(train, heldout, out: Path, rng, metrics):
    rows = [(GENRES[d["source"]], d["text"]) for d in capped(train, lambda d: d["source"], 1200, rng)]
    test = [(GENRES[d["source"]], d["text"]) for d in heldout]
    model = train_fasttext(rows, out / "domain.bin", dim=16, epoch=15, lr=0.5, wordNgrams=2,
                           bucket=50_000, minCount=2)
    accuracy = fasttext_accuracy(model, test)
    balanced = balanced_accuracy(model, test)
    metrics += [metric("domain", "heldout_accuracy", accuracy, majority_share(test), len(test),
                       "fastText genre-family classifier; baseline = majority class"),
                metric("domain", "heldout_balanced_accuracy", balanced, 1 / len(set(GENRES.values())),
                       len(test), "mean per-class recall; baseline = chance")]


def balanced_accuracy(model, rows) -> float:
    labels, _ = model.predict([one_line(t) for _, t in rows], k=1)
    recalls: dict = {}
    for ls, (want, _) in zip(labels, rows):
        recalls.setdefault(want, []).append(ls[0] == f"__label__{want}")
    return float(np.mean([np.mean(v) for v in recalls.values()]))


def train_dclm(train, heldout, out: Path, rng, metrics):
    def rows_of(docs):
        return [("hq" if d["source"] in DCLM_HQ else "cc", d["text"]) for d in docs
                if d["source"] in DCLM_HQ | DCLM_CC]
    rows = rows_of(capped([d for d in train if d["source"] in DCLM_HQ | DCLM_CC],
                          lambda d: d["source"] in DCLM_HQ, 700, rng))
    test = rows_of(heldout)
    model = train_fasttext(rows, out / "dclm_hq.bin", dim=16, epoch=15, lr=0.3, wordNgrams=2,
                           bucket=50_000, minCount=2)
    metrics.append(metric("dclm_hq", "heldout_accuracy", fasttext_accuracy(model, test), majority_share(test),
                          len(test), "reference text (hq) vs web (cc); baseline = majority class"))


# -- transformers ------------------------------------------------------------------------------

def edu_label(doc) -> float:
    if doc["source"] == "synthetic_topics":
        return EDU_BY_STYLE[doc["meta"]["style"]]
    return EDU_BY_SOURCE[doc["source"]]


def encode(tokenizer, texts, max_tokens: int, special: bool):
    return [list(ids) for ids in tokenizer(texts, truncation=True, max_length=max_tokens,
                                           add_special_tokens=special)["input_ids"]]


def padded(batch, pad_id):
    import torch
    width = max(len(s) for s in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return ids, mask


def train_edu(train, heldout, tokenizer, out: Path, rng, metrics, epochs: int, max_tokens: int = 128):
    import torch
    docs = capped(train, lambda d: (d["source"], d["meta"].get("style")), 250, rng)
    ids = encode(tokenizer, [d["text"] for d in docs], max_tokens, True)
    targets = torch.tensor([edu_label(d) for d in docs], dtype=torch.float32)
    model = build.bert_classifier(len(tokenizer), 1, pad_token_id=tokenizer.pad_token_id, max_positions=512)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    model.train()
    order = list(range(len(docs)))
    for _ in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            input_ids, mask = padded([ids[i] for i in batch], tokenizer.pad_token_id)
            pred = model(input_ids=input_ids, attention_mask=mask).logits[:, 0]
            loss = torch.nn.functional.mse_loss(pred, targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    build.save_checkpoint(model, tokenizer, out / "edu")
    test = capped(heldout, lambda d: (d["source"], d["meta"].get("style")), 100, rng)
    predicted = predict_regression(model, tokenizer, [d["text"] for d in test], max_tokens)
    truth = np.array([edu_label(d) for d in test])
    mean_train = float(targets.mean())
    metrics += [
        metric("edu", "heldout_mae", float(np.abs(predicted - truth).mean()),
               float(np.abs(mean_train - truth).mean()), len(test),
               "labels from source/style (0-5); baseline = predict the training mean"),
        metric("edu", "heldout_spearman", spearman(predicted, truth), 0.0, len(test), "rank correlation with labels"),
        metric("edu", "heldout_int_score_accuracy",
               float(np.mean(np.rint(np.clip(predicted, 0, 5)) == truth)), None, len(test),
               "int_score = round(clip(score, 0, 5)) equal to the label")]
    return model


def predict_regression(model, tokenizer, texts, max_tokens):
    import torch
    ids = encode(tokenizer, texts, max_tokens, True)
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(ids), 64):
            input_ids, mask = padded(ids[start:start + 64], tokenizer.pad_token_id)
            outputs.append(model(input_ids=input_ids, attention_mask=mask).logits[:, 0].numpy())
    return np.concatenate(outputs).astype(np.float64)


def train_lm(train, heldout, tokenizer, out: Path, rng, metrics, steps: int, seq: int = 128):
    """CCNet style: a language model of Wikipedia text; lower perplexity = closer to it."""
    import torch
    stream = []
    for doc in sorted((d for d in train if d["source"] == "encyclopedic"), key=lambda d: d["id"]):
        stream += [tokenizer.bos_token_id] + encode(tokenizer, [doc["text"]], 10**9, False)[0]
    windows = [stream[i:i + seq] for i in range(0, len(stream) - seq, seq)]
    model = build.llama_lm(len(tokenizer), max_positions=512, bos_token_id=tokenizer.bos_token_id,
                           eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    model.train()
    for step in range(steps):
        batch = torch.tensor([windows[rng.randrange(len(windows))] for _ in range(16)])
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    build.save_checkpoint(model, tokenizer, out / "lm")
    for source in ("encyclopedic", "web", "fortunes"):
        docs = [d for d in heldout if d["source"] == source][:60]
        ppl = median_perplexity(model, tokenizer, [d["text"] for d in docs])
        metrics.append(metric("perplexity", f"heldout_median_perplexity_{source}", ppl, None, len(docs),
                              "trained on Wikipedia; lower means closer to encyclopedic text"))
    return model


def median_perplexity(model, tokenizer, texts, max_tokens: int = 256):
    import torch
    values = []
    with torch.inference_mode():
        for text in texts:
            ids = torch.tensor([[tokenizer.bos_token_id] + encode(tokenizer, [text], max_tokens - 1, False)[0]])
            if ids.shape[1] >= 2:
                values.append(float(torch.exp(model(input_ids=ids, labels=ids).loss)))
    return float(np.median(values))


def spearman(a, b) -> float:
    from scipy.stats import spearmanr
    return float(spearmanr(a, b).statistic)


def metric(scorer, name, value, baseline, n, detail):
    return {"scorer": scorer, "metric": name, "value": round(float(value), 6),
            "baseline": None if baseline is None else round(float(baseline), 6), "n_heldout": int(n),
            "detail": detail}


def criteria_correlations(heldout, out: Path, metrics, rng):
    """Spearman between the three criteria (scored through the real loaders) on held-out docs."""
    from quadmix_wh.scoring import load_scorer, spec_from_mapping
    from quadmix_wh.scoring.batching import score_texts
    from quadmix_wh.scoring.fingerprint import scorer_fingerprint
    from quadmix_wh.scoring.loaders import output_types
    docs = capped(heldout, lambda d: d["source"], 60, rng)
    texts = [d["text"] for d in docs]
    declarations = {"edu": ("hf_regression", "edu", "score", {}),
                    "dclm_hq": ("fasttext", "dclm_hq.bin", "prob", {"positive_label": "__label__hq"}),
                    "perplexity": ("perplexity", "lm", "perplexity", {})}
    values = {}
    for name, (loader, checkpoint, column, settings) in declarations.items():
        spec = spec_from_mapping({"name": name, "loader": loader, "checkpoint": str(out / checkpoint),
                                  "settings": {"max_length": 256, "device": "cpu", **settings}}, out)
        scored = score_texts(load_scorer(spec, scorer_fingerprint(spec)), texts, output_types(spec), 32)
        values[name] = np.array(scored.column(column).to_pylist(), dtype=np.float64)
    names = sorted(values)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            metrics.append(metric("criteria", f"spearman_{a}_vs_{b}", spearman(values[a], values[b]), None,
                                  len(docs), "held-out docs of every shippable source (perplexity: lower is better)"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / ".." / "shared" / "data" / "corpus")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "scorers")
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke run, worse models)")
    args = parser.parse_args(argv)
    import torch
    torch.manual_seed(SEED)
    torch.set_num_threads(TORCH_THREADS)
    rng = random.Random(SEED)
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    train, heldout = split(read_corpus(args.corpus))
    print(f"{len(train)} training / {len(heldout)} held-out documents from {len(SHIPPABLE)} shippable files")
    metrics: list[dict] = []
    train_domain(train, heldout, args.out, rng, metrics)
    train_dclm(train, heldout, args.out, rng, metrics)
    print(f"fastText models done ({time.time() - started:.0f}s)")
    tokenizer_docs = capped(train, lambda d: d["source"], 300, rng)
    tokenizer = build.train_tokenizer([d["text"][:20_000] for d in tokenizer_docs], vocab_size=4096)
    train_edu(train, heldout, tokenizer, args.out, rng, metrics, epochs=1 if args.quick else 4)
    print(f"edu regressor done ({time.time() - started:.0f}s)")
    train_lm(train, heldout, tokenizer, args.out, rng, metrics, steps=30 if args.quick else 600)
    print(f"reference LM done ({time.time() - started:.0f}s)")
    criteria_correlations(heldout, args.out, metrics, rng)
    report = {"seed": SEED, "corpus_files": SHIPPABLE, "genres": GENRES, "edu_by_source": EDU_BY_SOURCE,
              "edu_by_style": EDU_BY_STYLE, "dclm_hq_sources": sorted(DCLM_HQ), "metrics": metrics}
    (args.out / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for row in metrics:
        base = "" if row["baseline"] is None else f"  (baseline {row['baseline']:.3f})"
        print(f"{row['scorer']:>10}  {row['metric']:<45} {row['value']:.3f}{base}")
    print(f"done in {time.time() - started:.0f}s; artifacts in {args.out}")


if __name__ == "__main__":
    main()
