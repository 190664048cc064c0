"""The project tokenizer: deterministic byte-level BPE training, batched counts, the n_tokens UDF."""

import gzip
import json
import pathlib
import types

import duckdb
import pytest

from quadmix_wh.tokenizer import TokenizerError, count_tokens, load_tokenizer, register_udfs, train_bpe

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Quality and diversity both matter when choosing training data.",
    "def add(a, b):\n    return a + b\n",
    "Ünïcödé and emoji 🙂 are bytes to a byte-level BPE.",
] * 20


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    train_bpe(TEXTS, 400, path)
    return path


def test_training_is_deterministic(tmp_path, tokenizer_file):
    again = tmp_path / "again.json"
    train_bpe(TEXTS, 400, again)
    assert again.read_bytes() == tokenizer_file.read_bytes()
    assert 256 < load_tokenizer(tokenizer_file).get_vocab_size() <= 400


def test_training_from_jsonl_gz_and_text_files_equals_training_from_texts(tmp_path, tokenizer_file):
    half = len(TEXTS) // 2
    jsonl = tmp_path / "docs.jsonl.gz"
    jsonl.write_bytes(gzip.compress("".join(json.dumps({"id": i, "text": t}) + "\n"
                                            for i, t in enumerate(TEXTS[:half])).encode()))
    out = tmp_path / "from_files.json"
    train_bpe([jsonl, *TEXTS[half:]], 400, out)
    assert out.read_bytes() == tokenizer_file.read_bytes()


def test_training_file_without_text_field_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"body": "no text"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        train_bpe([bad], 300, tmp_path / "t.json")


def test_count_tokens_matches_single_encodes_and_round_trips(tokenizer_file):
    tokenizer = load_tokenizer(tokenizer_file)
    texts = TEXTS[:4] + ["", "x" * 5000]
    counts = count_tokens(texts, tokenizer_file)
    assert counts == [len(tokenizer.encode(t, add_special_tokens=False).ids) for t in texts]
    assert counts[4] == 0 and all(c > 0 for c in counts[:4])
    assert tokenizer.decode(tokenizer.encode(TEXTS[3]).ids) == TEXTS[3]  # byte-level: lossless


def test_load_tokenizer_is_cached_and_missing_file_is_named(tmp_path, tokenizer_file):
    assert load_tokenizer(tokenizer_file) is load_tokenizer(str(tokenizer_file))
    with pytest.raises(TokenizerError, match="no_such_tokenizer.json"):
        load_tokenizer(tmp_path / "no_such_tokenizer.json")


def test_n_tokens_udf_counts_in_sql_with_nulls(tmp_path, tokenizer_file):
    project = types.SimpleNamespace(tokenizer_path=tokenizer_file)
    con = duckdb.connect()
    register_udfs(con, project)
    texts = [TEXTS[i % 4] + f" {i}" for i in range(5000)]  # several vectors of 2048 rows
    con.execute("CREATE TABLE t AS SELECT * FROM (SELECT unnest(?) AS text) UNION ALL SELECT NULL", [texts])
    got = con.execute("SELECT text, n_tokens(text) FROM t").fetchall()
    expected = dict(zip(texts, count_tokens(texts, tokenizer_file)))
    assert all(n is None if text is None else n == expected[text] for text, n in got)
    assert sum(n is None for _, n in got) == 1
    assert con.execute("SELECT typeof(n_tokens('a'))").fetchall() == [("BIGINT",)]
    register_udfs(con, project)  # registering twice on a connection is fine


def test_relative_tokenizer_path_resolves_against_project_root(tokenizer_file):
    project = types.SimpleNamespace(tokenizer_path=pathlib.Path(tokenizer_file.name), root=tokenizer_file.parent)
    con = duckdb.connect()
    register_udfs(con, project)
    assert con.execute("SELECT n_tokens('hello world')").fetchall()[0][0] > 0


def test_register_udfs_without_tokenizer_registers_nothing_and_missing_file_fails(tmp_path):
    con = duckdb.connect()
    register_udfs(con, types.SimpleNamespace())
    with pytest.raises(duckdb.Error):
        con.execute("SELECT n_tokens('x')")
    with pytest.raises(TokenizerError, match="missing/tokenizer.json"):
        register_udfs(con, types.SimpleNamespace(tokenizer_path=tmp_path / "missing" / "tokenizer.json"))
