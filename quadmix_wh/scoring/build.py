"""Building scorer checkpoints from configs (no model hub): a byte-level BPE tokenizer and small
BERT / Llama models. Used by `scripts/train_scorers.py`, the tests and the benchmarks."""
from __future__ import annotations

from pathlib import Path

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"


def train_tokenizer(texts, vocab_size: int = 4096):
    """A byte-level BPE tokenizer (no unknown bytes) wrapped for transformers; encoding with
    special tokens gives `<s> ... </s>`, which BERT-style classifiers use as CLS/SEP."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD, BOS, EOS, UNK],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", special_tokens=[(BOS, tokenizer.token_to_id(BOS)), (EOS, tokenizer.token_to_id(EOS))])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=PAD, bos_token=BOS, eos_token=EOS,
                                   unk_token=UNK, cls_token=BOS, sep_token=EOS)


def bert_classifier(vocab_size: int, num_labels: int, labels: list[str] | None = None, hidden: int = 128,
                    layers: int = 2, heads: int = 2, intermediate: int = 256, max_positions: int = 512,
                    pad_token_id: int = 0, initializer_range: float = 0.02):
    """BertForSequenceClassification from a config: num_labels=1 is a regression head.
    A larger `initializer_range` makes an untrained model's outputs vary more with its input
    (the tests use that to get a spread of scores without training)."""
    from transformers import BertConfig, BertForSequenceClassification
    extra = {"problem_type": "regression"} if num_labels == 1 else {
        "id2label": dict(enumerate(labels)), "label2id": {l: i for i, l in enumerate(labels)}}
    config = BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=intermediate,
                        max_position_embeddings=max_positions, num_labels=num_labels,
                        pad_token_id=pad_token_id, initializer_range=initializer_range, **extra)
    return BertForSequenceClassification(config)


def llama_lm(vocab_size: int, hidden: int = 128, layers: int = 2, heads: int = 2, intermediate: int = 256,
             max_positions: int = 512, bos_token_id: int = 1, eos_token_id: int = 2, pad_token_id: int = 0):
    """A small LlamaForCausalLM from a config, embeddings tied to keep the checkpoint small."""
    from transformers import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=heads, intermediate_size=intermediate,
                         max_position_embeddings=max_positions, tie_word_embeddings=True,
                         bos_token_id=bos_token_id, eos_token_id=eos_token_id, pad_token_id=pad_token_id)
    return LlamaForCausalLM(config)


def save_checkpoint(model, tokenizer, directory: Path) -> Path:
    """A self-contained checkpoint directory: weights, config and the tokenizer it was trained with."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()  # no "Writing model shards" bar in scripts and tests
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


# fastText 0.9.2 (the numpy2 wheel too) is not reliable here: on the same input and settings,
# one thread and a fixed seed, training runs in fresh interpreters sometimes stop with
# "Encountered NaN", sometimes end with slightly different weights, and sometimes diverge (huge
# weights, one label at probability 1 for every input). How often depends on the process (even
# on the order of imports) and on machine load, which points at uninitialised memory in the
# binary. So each training runs in a fresh interpreter and is repeated: the model kept is the
# first one two runs agree on (same labels and probabilities, to 6 decimals, on every training
# line), which makes the result reproducible; when no two of FASTTEXT_ATTEMPTS runs agree, the
# run with the best training-set accuracy is kept (a diverged run has chance accuracy) and a
# warning says the model is not bit-reproducible.
FASTTEXT_ATTEMPTS = 6
# The imports below are in the order measured to fail least often (the order changes the rate).
_FASTTEXT_TRAIN = """
import fasttext, hashlib, sys, json
import numpy as np
args = json.loads(sys.argv[1])
model = fasttext.train_supervised(args["input"], verbose=0, **args["params"])
if args.get("quantize"):
    model.quantize(input=args["input"], retrain=True, qnorm=True, cutoff=args["quantize"], thread=1,
                   verbose=0)
model.save_model(args["output"])
model = fasttext.load_model(args["output"])  # what was saved is what is checked
digest, right, total = hashlib.sha256(), 0, 0
with open(args["input"], encoding="utf-8") as handle:
    rows = [line.rstrip("\\n").split(" ", 1) for line in handle]
labels, probs = model.predict([r[1] if len(r) > 1 else "" for r in rows], k=-1, threshold=0.0)
for row, ls, ps in zip(rows, labels, probs):
    digest.update(repr([(l, round(float(p), 6)) for l, p in zip(ls, ps)]).encode())
    right += ls[0] == row[0]
    total += 1
print(json.dumps({"digest": digest.hexdigest(), "accuracy": right / max(total, 1)}))
"""


def train_fasttext(lines, path: Path, quantize_cutoff: int | None = None, **params) -> Path:
    """Train a supervised fastText model on `lines` ("__label__x words ...", one document per line)
    and save it at `path` (`.bin`, or a quantized `.ftz` when `quantize_cutoff` is set).
    thread=1 and a fixed seed by default (multi-threaded, Hogwild training is not reproducible);
    the model kept is chosen as explained above."""
    import json
    import shutil
    import subprocess
    import sys
    import tempfile
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    params = {"thread": 1, "seed": 0, **params}
    runs: list[tuple[str, float, Path]] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.txt"
        with data.open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line.replace("\n", " ") + "\n")
        for attempt in range(FASTTEXT_ATTEMPTS):
            output = Path(tmp) / f"attempt{attempt}{path.suffix}"
            args = {"input": str(data), "output": str(output), "params": params, "quantize": quantize_cutoff}
            done = subprocess.run([sys.executable, "-c", _FASTTEXT_TRAIN, json.dumps(args)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                errors.append(done.stderr.strip()[-500:])
                if "Encountered NaN" in done.stderr:
                    continue
                raise RuntimeError(f"fastText training for {path} failed: {done.stderr.strip()[-2000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            agreed = [r for r in runs if r[0] == result["digest"]]
            runs.append((result["digest"], float(result["accuracy"]), output))
            if agreed:
                shutil.copyfile(agreed[0][2], path)
                return path
        if not runs:
            raise RuntimeError(f"fastText training for {path}: all {FASTTEXT_ATTEMPTS} runs failed; "
                               f"last error: {errors[-1] if errors else 'none'}")
        best = max(runs, key=lambda r: r[1])  # max() keeps the earliest of equals
        print(f"warning: fastText training for {path.name}: no two of {len(runs)} successful runs agreed "
              f"(fastText 0.9.2 is not deterministic here); kept the one with the best training "
              f"accuracy ({best[1]:.4f}); the model is not bit-reproducible", file=sys.stderr)
        shutil.copyfile(best[2], path)
    return path
