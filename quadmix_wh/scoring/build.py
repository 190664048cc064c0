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
                    pad_token_id: int = 0):
    """BertForSequenceClassification from a config: num_labels=1 is a regression head."""
    from transformers import BertConfig, BertForSequenceClassification
    extra = {"problem_type": "regression"} if num_labels == 1 else {
        "id2label": dict(enumerate(labels)), "label2id": {l: i for i, l in enumerate(labels)}}
    config = BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=intermediate,
                        max_position_embeddings=max_positions, num_labels=num_labels,
                        pad_token_id=pad_token_id, **extra)
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


# fastText 0.9.2 (also the numpy2 wheel) is flaky here: `train_supervised` sometimes stops with
# "Encountered NaN" on input and settings that train fine on the next attempt (more often when
# the machine is busy, and on a second training in the same interpreter). A run that succeeds
# gives the same weights every time (one thread, fixed seed), so each training runs in a fresh
# interpreter and a NaN failure is retried a few times.
FASTTEXT_ATTEMPTS = 6
_FASTTEXT_TRAIN = """
import json, sys
import fasttext
args = json.loads(sys.argv[1])
model = fasttext.train_supervised(args["input"], verbose=0, **args["params"])
if args.get("quantize"):
    model.quantize(input=args["input"], retrain=True, qnorm=True, cutoff=args["quantize"], thread=1,
                   verbose=0)
model.save_model(args["output"])
"""


def train_fasttext(lines, path: Path, quantize_cutoff: int | None = None, **params) -> Path:
    """Train a supervised fastText model on `lines` ("__label__x words ...", one document per line)
    in a subprocess and save it at `path` (`.bin`, or a quantized `.ftz` when `quantize_cutoff`
    is set). thread=1 and a fixed seed by default: multi-threaded (Hogwild) training is not
    reproducible."""
    import json
    import subprocess
    import sys
    import tempfile
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    params = {"thread": 1, "seed": 0, **params}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.txt"
        with data.open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line.replace("\n", " ") + "\n")
        args = {"input": str(data), "output": str(path), "params": params, "quantize": quantize_cutoff}
        for _ in range(FASTTEXT_ATTEMPTS):
            done = subprocess.run([sys.executable, "-c", _FASTTEXT_TRAIN, json.dumps(args)],
                                  capture_output=True, text=True)
            if done.returncode == 0 or "Encountered NaN" not in done.stderr:
                break
    if done.returncode != 0:
        raise RuntimeError(f"fastText training for {path} failed: {done.stderr.strip()[-2000:]}")
    return path
