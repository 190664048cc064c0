"""A small, real warehouse for the simulation tests: documents in three domains with distinct
vocabularies, quality scores, domain labels, a held-out target set and a BPE tokenizer trained on
the texts. Everything is generated from a seed in tmp_path (no shared data)."""
from __future__ import annotations

import duckdb
import numpy as np
import pytest
import torch

from quadmix_wh.simulation.config import load_simulation_config
from quadmix_wh.simulation.token_store import TokenStore
from quadmix_wh.tokenizer import count_tokens, train_bpe

DOMAIN_WORDS = {
    "animals": "cat dog horse bird fish cow sheep goat lion tiger bear wolf fox deer".split(),
    "cooking": "salt pepper bread butter oven boil fry bake sugar flour egg milk cheese soup".split(),
    "space": "star planet orbit moon rocket comet galaxy solar light dust gravity mass sun void".split(),
}
COMMON = "the a of and to in is was it for on with as by at from".split()
@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models on one thread: faster than two, and immune to other processes on the cores
    (OpenMP threads that wait for a busy core make small kernels 10-100x slower)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


CRITERIA = [{"name": "edu", "direction": "higher"}, {"name": "junk", "direction": "lower"}]


def _text(rng, words, n_words, noise):
    vocab = words + COMMON
    picks = [vocab[i] for i in rng.integers(0, len(vocab), n_words)]
    if noise:  # low-quality documents: random character junk
        picks = [w if rng.random() > noise else "".join(rng.choice(list("qxzjkv#%"), 4)) for w in picks]
    return " ".join(picks) + "."


def small_corpus(n_per_domain=20, seed=0):
    rng = np.random.default_rng(seed)
    docs = []
    for domain, words in DOMAIN_WORDS.items():
        for i in range(n_per_domain):
            noise = float(rng.random() * 0.6)
            docs.append((f"{domain}-{i:03d}", domain, _text(rng, words, int(rng.integers(20, 80)), noise), noise))
    target = [(f"t-{i:03d}", _text(rng, DOMAIN_WORDS["space"] + DOMAIN_WORDS["animals"], 60, 0.0))
              for i in range(12)]
    return docs, target


def make_warehouse(tmp_path, n_per_domain=20, seed=0, vocab_size=320):
    """(con, tokenizer, store) with tables documents, quality_scores, doc_domains, target_reference."""
    docs, target = small_corpus(n_per_domain, seed)
    tokenizer = train_bpe([d[2] for d in docs] + [t[1] for t in target], vocab_size,
                          tmp_path / "tokenizer.json")
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    counts = count_tokens([d[2] for d in docs], tokenizer)
    con.execute("CREATE TABLE documents (doc_id VARCHAR, text VARCHAR, source VARCHAR, n_chars BIGINT, n_tokens BIGINT)")
    con.executemany("INSERT INTO documents VALUES (?, ?, 'test', ?, ?)",
                    [(d[0], d[2], len(d[2]), n) for d, n in zip(docs, counts)])
    con.execute("CREATE TABLE doc_domains (doc_id VARCHAR, domain VARCHAR, confidence DOUBLE)")
    con.executemany("INSERT INTO doc_domains VALUES (?, ?, 1.0)", [(d[0], d[1]) for d in docs])
    con.execute("CREATE TABLE quality_scores (doc_id VARCHAR, criterion VARCHAR, value DOUBLE)")
    rows = []
    for d in docs:
        rows.append((d[0], "edu", 1.0 - d[3]))
        rows.append((d[0], "junk", d[3] + 0.1 * (hash(d[0]) % 3 == 0)))
    con.executemany("INSERT INTO quality_scores VALUES (?, ?, ?)", rows)
    con.execute("CREATE TABLE target_reference (doc_id VARCHAR, text VARCHAR)")
    con.executemany("INSERT INTO target_reference VALUES (?, ?)", target)
    store = TokenStore(con, tmp_path / "target" / "token_store", tokenizer)
    return con, tokenizer, store


def tiny_config(**overrides):
    """A proxy and budget small enough for a run to take well under a second."""
    raw = {"n_param_sets": 6, "seed": 0, "tokens_per_run": 2048, "seq_len": 32, "batch_size": 4,
           "group_size": 3, "eval_tokens": 512, "learning_rate": 0.01,
           "proxy": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "intermediate_size": 64},
           "experiment": {"proxy": {"hidden_size": 48, "num_hidden_layers": 1, "num_attention_heads": 2,
                                    "intermediate_size": 96}, "tokens": 2048}}
    raw.update(overrides)
    return load_simulation_config(raw)
