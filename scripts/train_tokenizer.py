"""Train the project tokenizer (8,192-token byte-level BPE) on the demo corpus.

Usage (from the repository root, after scripts/build_demo_corpus.py):

    python scripts/train_tokenizer.py                       # -> data/tokenizer.json
    python scripts/train_tokenizer.py --vocab-size 8192 --out data/tokenizer.json

Deterministic: the files are read in sorted order and the trainer has no random state, so the
same demo corpus gives a byte-identical tokenizer.json. Only the training candidates are used;
the held-out target set (data/demo/target/) is left out so it stays unseen.
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib

from quadmix_wh.tokenizer import count_tokens, load_tokenizer, train_bpe

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=REPO_ROOT / "data" / "demo")
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--out", type=pathlib.Path, default=REPO_ROOT / "data" / "tokenizer.json")
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*.jsonl.gz"))
    if not files:
        raise SystemExit(f"no *.jsonl.gz files in {args.corpus}; run scripts/build_demo_corpus.py first")
    train_bpe(files, args.vocab_size, args.out)
    tokenizer = load_tokenizer(args.out)
    sample = "QuaDMix balances quality and diversity when choosing training data."
    print(f"wrote {args.out}: vocab {tokenizer.get_vocab_size()}, "
          f"sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()[:16]}, "
          f"sample sentence = {count_tokens([sample], tokenizer)[0]} tokens")


if __name__ == "__main__":
    main()
