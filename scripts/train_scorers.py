"""Train the default project's scorers from the shared corpora (only the files that may ship).

    python scripts/train_scorers.py            # from the repository root; ~10 minutes on 2 cores

Reads ../shared/data/corpus relative to the repository root and writes, under data/scorers/:
  domain.ftz       fastText classifier (quantized): the genre family of a document (10 labels, GENRES)
  dclm.ftz         fastText bigram classifier, DCLM style: __label__hq (reference text) vs __label__cc (web)
  edu/             BertForSequenceClassification, one regression output: educational value 0-5
  lm/              LlamaForCausalLM (2 layers, width 128) trained on Wikipedia text, for perplexity
  evaluation.json  held-out metrics of each against baselines, criterion correlations, and the
                   weights hash of each artifact (so a stale evaluation can be told apart)

Every metric is computed on the saved artifacts through the same loaders the warehouse uses
(quadmix_wh.scoring), on documents held out by a hash of their id (one in five), never trained on.
Deterministic where the libraries allow: fixed seeds, a hash-based split, torch on a fixed thread
count, fastText on one thread in fresh processes. fastText 0.9.2 itself is not deterministic on
this platform (runs on the same input differ, some diverge or stop with NaN): each fastText model
is the one two runs agreed on, or else the best of several runs by training accuracy, with a
warning (quadmix_wh/scoring/build.py: train_fasttext), so the .ftz files may differ bit-wise
between two invocations while their held-out metrics stay close.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from quadmix_wh.scoring import build, load_scorer, spec_from_mapping  # noqa: E402
from quadmix_wh.scoring.batching import score_texts  # noqa: E402
from quadmix_wh.scoring.fasttext_scorer import prepare_text  # noqa: E402
from quadmix_wh.scoring.fingerprint import checkpoint_hash, scorer_fingerprint  # noqa: E402
from quadmix_wh.scoring.loaders import output_types  # noqa: E402

SEED = 20240521
TORCH_THREADS = 2  # fixed, so float reductions (and the weights) do not depend on the machine

# Only the corpus files whose licence lets them ship (see ../shared/data/README.md).
SHIPPABLE = ["web", "qa_forum", "encyclopedic", "academic", "literature_speeches", "reviews",
             "synthetic_topics", "code_python", "tech_docs", "fortunes"]

# Domain = genre family of the source (docs/SCORING.md explains the choice over the 30 synthetic
# topics: those label only short machine-written paragraphs, a third of them with 3 topics at once,
# and say nothing about code, reviews or Shakespeare, which is most of the demo's tokens).
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

HELDOUT_SHARE = 5        # one document in five is held out
FASTTEXT_WORDS = 400     # words of a document fastText sees (the declarations' max_length)
CONTEXT_TOKENS = 256     # context of the edu regressor and the reference LM (trained at this length)


def read_corpus(corpus_dir: Path) -> list[dict]:
    docs = []
    for stem in SHIPPABLE:
        path = corpus_dir / f"{stem}.jsonl.gz"
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, 1):
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{line_no}: not JSON: {exc}") from None
                if doc.get("text", "").strip():
                    doc["source"] = stem
                    doc.setdefault("meta", {})
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
    for label in sorted(by_label, key=str):
        group = by_label[label]
        out.extend(rng.sample(group, cap) if len(group) > cap else group)
    rng.shuffle(out)
    return out


def metric(scorer, name, value, baseline, n, detail):
    return {"scorer": scorer, "metric": name, "value": None if value is None else round(float(value), 6),
            "baseline": None if baseline is None else round(float(baseline), 6), "n_heldout": int(n),
            "detail": detail}


def spearman(a, b) -> float:
    from scipy.stats import spearmanr
    return float(spearmanr(a, b).statistic)


# -- scoring through the product's loaders -------------------------------------------------------

DECLARATIONS = {  # the same loader settings as udfs/*.yml
    "domain": {"loader": "fasttext", "checkpoint": "domain.ftz", "settings": {"max_length": FASTTEXT_WORDS}},
    "dclm": {"loader": "fasttext", "checkpoint": "dclm.ftz",
             "settings": {"max_length": FASTTEXT_WORDS, "positive_label": "__label__hq"}},
    "edu": {"loader": "hf_regression", "checkpoint": "edu", "settings": {"max_length": CONTEXT_TOKENS}},
    "perplexity": {"loader": "perplexity", "checkpoint": "lm", "settings": {"max_length": CONTEXT_TOKENS}},
}


def spec_of(name: str, out: Path):
    raw = DECLARATIONS[name]
    return spec_from_mapping({"name": name, "loader": raw["loader"], "checkpoint": raw["checkpoint"],
                              "settings": {**raw["settings"], "device": "cpu", "batch_size": 32}}, out)


def score_with(name: str, out: Path, texts: list[str]) -> dict[str, list]:
    spec = spec_of(name, out)
    table = score_texts(load_scorer(spec, scorer_fingerprint(spec)), texts, output_types(spec), spec.batch_size)
    return table.to_pydict()


# -- fastText: domain and DCLM ------------------------------------------------------------------

def fasttext_lines(rows):
    return [f"__label__{label} {prepare_text(text, FASTTEXT_WORDS)}" for label, text in rows]


# Small and reproducible: a quantized model (product quantization of the input matrix, the
# `.ftz` format fastText's own `quantize` writes), one thread, a fixed seed.
FASTTEXT_PARAMS = {"dim": 32, "epoch": 20, "wordNgrams": 2, "bucket": 200_000, "minCount": 2, "seed": SEED}


def accuracy_stats(predicted, truth):
    predicted, truth = np.array(predicted), np.array(truth)
    labels = sorted(set(truth))
    recalls = {label: float(np.mean(predicted[truth == label] == label)) for label in labels}
    counts = {label: int(np.sum(truth == label)) for label in labels}
    return float(np.mean(predicted == truth)), float(np.mean(list(recalls.values()))), recalls, counts


def train_domain(train, heldout, out: Path, rng, metrics):
    rows = [(GENRES[d["source"]], d["text"]) for d in capped(train, lambda d: d["source"], 1200, rng)]
    build.train_fasttext(fasttext_lines(rows), out / "domain.ftz", quantize_cutoff=50_000, lr=0.5,
                         **FASTTEXT_PARAMS)
    truth = [GENRES[d["source"]] for d in heldout]
    predicted = score_with("domain", out, [d["text"] for d in heldout])["label"]
    accuracy, balanced, recalls, counts = accuracy_stats(predicted, truth)
    majority = max(counts.values()) / len(truth)
    metrics += [
        metric("domain", "heldout_accuracy", accuracy, majority, len(truth),
               "genre family of the source (10 labels); baseline = always the majority class"),
        metric("domain", "heldout_balanced_accuracy", balanced, 1 / len(counts), len(truth),
               "mean per-class recall; baseline = chance (1/10)")]
    metrics += [metric("domain", f"heldout_recall:{label}", recalls[label], None, counts[label],
                       "share of this genre's held-out documents labelled correctly") for label in sorted(recalls)]


def train_dclm(train, heldout, out: Path, rng, metrics):
    def rows_of(docs):
        return [("hq" if d["source"] in DCLM_HQ else "cc", d["text"]) for d in docs
                if d["source"] in DCLM_HQ | DCLM_CC]
    # Balance the classes (web has ~600 training documents, reference text ~900).
    rows = rows_of(capped([d for d in train if d["source"] in DCLM_HQ | DCLM_CC],
                          lambda d: d["source"] in DCLM_HQ, 700, rng))
    build.train_fasttext(fasttext_lines(rows), out / "dclm.ftz", quantize_cutoff=50_000, lr=0.2,
                         **FASTTEXT_PARAMS)
    test = rows_of(heldout)
    truth = [label for label, _ in test]
    probs = np.array(score_with("dclm", out, [text for _, text in test])["prob"])
    predicted = np.where(probs >= 0.5, "hq", "cc")
    accuracy, balanced, _, counts = accuracy_stats(predicted, truth)
    majority = max(counts.values()) / len(truth)
    metrics += [
        metric("dclm", "heldout_accuracy", accuracy, majority, len(truth),
               "reference text (hq) vs web (cc) at P(hq) >= 0.5; baseline = always the majority class"),
        metric("dclm", "heldout_balanced_accuracy", balanced, 0.5, len(truth),
               "mean per-class recall; baseline = chance"),
        metric("dclm", "heldout_auc", roc_auc(probs, np.array(truth) == "hq"), 0.5, len(truth),
               "ROC AUC of P(hq); baseline = a random score")]


def roc_auc(scores, positives) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    from scipy.stats import rankdata
    scores, positives = np.asarray(scores, dtype=float), np.asarray(positives, dtype=bool)
    ranks = rankdata(scores)
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# -- transformers: edu regressor and reference LM -----------------------------------------------

def edu_label(doc) -> float:
    if doc["source"] == "synthetic_topics":
        return EDU_BY_STYLE[doc["meta"]["style"]]
    return EDU_BY_SOURCE[doc["source"]]


def edu_group(doc):
    return doc["source"], doc["meta"].get("style")


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


def save_half(model, tokenizer, directory: Path) -> None:
    """Weights stored in float16 (half the size); the loaders read them back in float32 on CPU
    (bf16 on CUDA). Evaluation below runs on what was saved, rounding included."""
    build.save_checkpoint(model.half(), tokenizer, directory)


def train_edu(train, heldout, tokenizer, out: Path, rng, metrics, epochs: int):
    import torch
    docs = capped(train, edu_group, 250, rng)
    ids = encode(tokenizer, [d["text"] for d in docs], CONTEXT_TOKENS, True)
    targets = torch.tensor([edu_label(d) for d in docs], dtype=torch.float32)
    model = build.bert_classifier(len(tokenizer), 1, pad_token_id=tokenizer.pad_token_id,
                                  max_positions=CONTEXT_TOKENS)
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
    save_half(model.eval(), tokenizer, out / "edu")
    evaluate_edu(heldout, out, float(targets.mean()), rng, metrics)


def evaluate_edu(heldout, out: Path, train_mean: float, rng, metrics):
    # Stratified: at most 100 held-out documents per (source, style), so fortunes do not dominate.
    test = capped(heldout, edu_group, 100, rng)
    scored = score_with("edu", out, [d["text"] for d in test])
    predicted, ints = np.array(scored["score"]), np.array(scored["int_score"])
    truth = np.array([edu_label(d) for d in test])
    truth_int = np.rint(truth).astype(int)
    majority_int = np.bincount(truth_int).max() / len(truth_int)
    synthetic = np.array([d["source"] == "synthetic_topics" for d in test])
    metrics += [
        metric("edu", "heldout_mae", np.abs(predicted - truth).mean(), np.abs(train_mean - truth).mean(),
               len(test), "labels derived from source/style (0-5); baseline = predict the training mean"),
        metric("edu", "heldout_spearman", spearman(predicted, truth), 0.0, len(test),
               "rank correlation with the labels; baseline = a random score"),
        metric("edu", "heldout_int_score_accuracy", np.mean(ints == truth_int), majority_int, len(test),
               "int_score = round(clip(score, 0, 5)) equal to the label; baseline = the majority label"),
        metric("edu", "heldout_spearman_within_synthetic", spearman(predicted[synthetic], truth[synthetic]), 0.0,
               int(synthetic.sum()), "synthetic paragraphs only: one source, labels from the writing style, "
               "so this is what the model reads beyond the genre")]


def train_lm(train, heldout, tokenizer, out: Path, rng, metrics, steps: int):
    """CCNet style: a language model of Wikipedia text; lower perplexity = closer to it."""
    import torch
    stream = []
    for doc in sorted((d for d in train if d["source"] == "encyclopedic"), key=lambda d: d["id"]):
        stream += [tokenizer.bos_token_id] + encode(tokenizer, [doc["text"]], 10**9, False)[0]
    seq = CONTEXT_TOKENS
    windows = [stream[i:i + seq] for i in range(0, len(stream) - seq, seq)]
    model = build.llama_lm(len(tokenizer), max_positions=CONTEXT_TOKENS, bos_token_id=tokenizer.bos_token_id,
                           eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    model.train()
    for _ in range(steps):
        batch = torch.tensor([windows[rng.randrange(len(windows))] for _ in range(8)])
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    save_half(model.eval(), tokenizer, out / "lm")
    evaluate_lm(stream, heldout, out, len(tokenizer), rng, metrics)


def evaluate_lm(train_stream, heldout, out: Path, vocab: int, rng, metrics):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(str(out / "lm"), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(out / "lm"), local_files_only=True, dtype=torch.float32).eval()
    # Token-level perplexity on held-out Wikipedia (each document's first CONTEXT_TOKENS tokens,
    # what the scorer sees) against a unigram model of the same training text (add-one smoothing).
    counts = np.bincount(np.array(train_stream), minlength=vocab).astype(np.float64) + 1.0
    unigram_logp = np.log(counts / counts.sum())
    nll_lm, nll_uni, n_tokens = 0.0, 0.0, 0
    docs = [d for d in heldout if d["source"] == "encyclopedic"]
    with torch.inference_mode():
        for doc in docs:
            ids = [tokenizer.bos_token_id] + encode(tokenizer, [doc["text"]], CONTEXT_TOKENS - 1, False)[0]
            if len(ids) < 2:
                continue
            tensor = torch.tensor([ids])
            logp = torch.log_softmax(model(input_ids=tensor).logits[0, :-1].float(), dim=-1)
            nll_lm -= float(logp.gather(1, tensor[0, 1:, None]).sum())
            nll_uni -= float(unigram_logp[ids[1:]].sum())
            n_tokens += len(ids) - 1
    metrics.append(metric("perplexity", "heldout_token_perplexity_encyclopedic", np.exp(nll_lm / n_tokens),
                          np.exp(nll_uni / n_tokens), len(docs),
                          "held-out Wikipedia, first 256 tokens per document; baseline = unigram model "
                          "of the training text"))
    # What the criterion ranks: median document perplexity per source, through the loader.
    test = capped(heldout, lambda d: d["source"], 60, rng)
    values = score_with("perplexity", out, [d["text"] for d in test])["perplexity"]
    by_source: dict = {}
    for doc, value in zip(test, values):
        if value is not None:
            by_source.setdefault(doc["source"], []).append(value)
    for source in SHIPPABLE:
        if source in by_source:
            metrics.append(metric("perplexity", f"heldout_median:{source}", np.median(by_source[source]), None,
                                  len(by_source[source]), "median document perplexity (lower = closer to Wikipedia)"))


# -- how the criteria relate ---------------------------------------------------------------------

def criteria_report(heldout, out: Path, metrics, rng):
    """Spearman between the three criteria, and each criterion's mean per source, on held-out
    documents of every shippable source (at most 60 each), scored through the real loaders."""
    docs = capped(heldout, lambda d: d["source"], 60, rng)
    texts = [d["text"] for d in docs]
    values = {"edu": score_with("edu", out, texts)["score"], "dclm": score_with("dclm", out, texts)["prob"],
              "perplexity": score_with("perplexity", out, texts)["perplexity"]}
    arrays = {k: np.array([np.nan if v is None else v for v in vs], dtype=float) for k, vs in values.items()}
    ok = np.all([~np.isnan(a) for a in arrays.values()], axis=0)
    names = list(arrays)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            metrics.append(metric("criteria", f"spearman:{a}~{b}", spearman(arrays[a][ok], arrays[b][ok]), None,
                                  int(ok.sum()), "held-out docs, <= 60 per source; perplexity: lower is better, "
                                  "so agreement with the others shows as a negative correlation"))
    sources = np.array([d["source"] for d in docs])
    for name in ("edu", "dclm"):
        for source in SHIPPABLE:
            picked = (sources == source) & ok
            if picked.any():
                metrics.append(metric(name, f"heldout_mean:{source}", arrays[name][picked].mean(), None,
                                      int(picked.sum()), "mean value on this source's held-out documents"))


def transfer_report(corpus_dir: Path, out: Path, metrics):
    """Out of distribution (when the research-only files are present; never trained on, never
    shipped): Linux kernel C code should come out as `code`; 4chan threads should score lower than
    the web pages DCLM was contrasted with."""
    def read(stem):
        path = corpus_dir / f"{stem}.jsonl.gz"
        if not path.is_file():
            return None
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return [json.loads(line)["text"] for line in handle][:300]
    code_c = read("code_c")
    if code_c:
        labels = score_with("domain", out, code_c)["label"]
        metrics.append(metric("domain", "transfer_recall:code_c_as_code", np.mean([x == "code" for x in labels]),
                              None, len(code_c), "Linux kernel C chunks (research-only file, never trained on)"))
    toxic, web = read("forum_toxic"), read("web")
    if toxic and web:
        p_toxic = score_with("dclm", out, toxic)["prob"]
        p_web = score_with("dclm", out, web)["prob"]
        metrics.append(metric("dclm", "transfer_mean:forum_toxic", np.mean(p_toxic), np.mean(p_web), len(toxic),
                              "4chan threads (research-only file); baseline = mean P(hq) of web pages"))


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
    train_lm(train, heldout, tokenizer, args.out, rng, metrics, steps=30 if args.quick else 800)
    print(f"reference LM done ({time.time() - started:.0f}s)")
    criteria_report(heldout, args.out, metrics, rng)
    transfer_report(args.corpus, args.out, metrics)
    artifacts = {name: {"checkpoint": raw["checkpoint"], "weights_sha256": checkpoint_hash(args.out / raw["checkpoint"])}
                 for name, raw in DECLARATIONS.items()}
    report = {"seed": SEED, "corpus_files": SHIPPABLE, "n_train": len(train), "n_heldout": len(heldout),
              "genres": GENRES, "edu_by_source": EDU_BY_SOURCE, "edu_by_style": EDU_BY_STYLE,
              "dclm_hq_sources": sorted(DCLM_HQ), "dclm_cc_sources": sorted(DCLM_CC),
              "artifacts": artifacts, "metrics": metrics}
    (args.out / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for row in metrics:
        base = "" if row["baseline"] is None else f"  (baseline {row['baseline']:.3f})"
        print(f"{row['scorer']:>10}  {row['metric']:<45} {row['value']:.3f}{base}  n={row['n_heldout']}")
    print(f"done in {time.time() - started:.0f}s; artifacts in {args.out}")


if __name__ == "__main__":
    main()
