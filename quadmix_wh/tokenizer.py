"""The project tokenizer: training a byte-level BPE and counting tokens (also as a DuckDB UDF).

Token counts weight the QuaDMix quality ranks and the mixture budget, so every part of the
project must count with the same tokenizer: the one at ``project.tokenizer_path``
(``data/tokenizer.json`` in the default project, built by ``scripts/train_tokenizer.py``).
"""

from __future__ import annotations

import functools
import gzip
import json
import pathlib
from collections.abc import Iterable, Iterator

import duckdb
import pyarrow as pa
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

END_OF_TEXT = "<|endoftext|>"
# Texts handed to the Rust tokenizer per call: enough to keep its thread pool busy.
BATCH_SIZE = 2048


class TokenizerError(FileNotFoundError):
    """The project's tokenizer file is missing or unreadable."""


# ---------------------------------------------------------------------------------------------
# Training


def train_bpe(files_or_texts: Iterable[str | pathlib.Path], vocab_size: int, out_path) -> Tokenizer:
    """Train a byte-level BPE and save it as a tokenizers JSON file at ``out_path``.

    Items that are ``pathlib.Path`` are files: JSON Lines (``.jsonl``/``.jsonl.gz``, the
    ``text`` field of each line) or plain text; ``str`` items are texts. Same inputs in the same
    order give a byte-identical file.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_iter_texts(files_or_texts), trainer=trainer)
    out_path = pathlib.Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(tokenizer.to_str(pretty=True) + "\n", encoding="utf-8")
    return tokenizer


def _iter_texts(files_or_texts: Iterable[str | pathlib.Path]) -> Iterator[str]:
    for item in files_or_texts:
        if isinstance(item, pathlib.Path):
            yield from _texts_in_file(item)
        else:
            yield item


def _texts_in_file(path: pathlib.Path) -> Iterator[str]:
    name = path.name.lower()
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        if ".jsonl" in name or ".ndjson" in name:
            for line_no, line in enumerate(handle, start=1):
                if line.strip():
                    yield _text_of_line(line, path, line_no)
        else:
            yield handle.read()


def _text_of_line(line: str, path: pathlib.Path, line_no: int) -> str:
    try:
        text = json.loads(line)["text"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}:{line_no}: no JSON 'text' field ({exc})") from exc
    if not isinstance(text, str):
        raise ValueError(f"{path}:{line_no}: 'text' is not a string")
    return text


# ---------------------------------------------------------------------------------------------
# Loading and counting


def load_tokenizer(path) -> Tokenizer:
    """The tokenizer at ``path``, loaded once per process (reloaded if the file changes)."""
    path = pathlib.Path(path)
    try:
        stat = path.resolve().stat()
    except OSError as exc:
        raise TokenizerError(f"tokenizer file not found: {path}") from exc
    return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> Tokenizer:
    try:
        return Tokenizer.from_file(path)
    except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
        raise TokenizerError(f"cannot load tokenizer {path}: {exc}") from exc


def count_tokens(texts: Iterable[str], tokenizer: Tokenizer | str | pathlib.Path | None = None) -> list[int]:
    """Token counts of ``texts`` (no special tokens), encoded in batches on all cores."""
    tokenizer = _resolve(tokenizer)
    texts = list(texts)
    counts: list[int] = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = texts[start : start + BATCH_SIZE]
        counts.extend(len(enc.ids) for enc in tokenizer.encode_batch_fast(batch, add_special_tokens=False))
    return counts


def _resolve(tokenizer) -> Tokenizer:
    if isinstance(tokenizer, Tokenizer):
        return tokenizer
    if tokenizer is None:
        raise TokenizerError("count_tokens needs a tokenizer or the path of one")
    return load_tokenizer(tokenizer)


# ---------------------------------------------------------------------------------------------
# DuckDB UDF


def tokenizer_path_of(project) -> pathlib.Path | None:
    """``project.tokenizer_path``, made absolute against ``project.root`` when relative."""
    path = getattr(project, "tokenizer_path", None)
    if path is None:
        return None
    path = pathlib.Path(path)
    root = getattr(project, "root", None)
    if not path.is_absolute() and root is not None:
        path = pathlib.Path(root) / path
    return path


def register_udfs(con, project) -> None:
    """Register ``n_tokens(VARCHAR) -> BIGINT`` when the project names a tokenizer."""
    path = tokenizer_path_of(project)
    if path is None:
        return
    tokenizer = load_tokenizer(path)  # fails now, naming the path, rather than mid-query

    def n_tokens(texts: pa.Array) -> pa.Array:
        values = texts.to_pylist()
        present = [t for t in values if t is not None]
        counts = iter(count_tokens(present, tokenizer))
        return pa.array([None if t is None else next(counts) for t in values], pa.int64())

    try:
        con.remove_function("n_tokens")
    except duckdb.Error:
        pass  # not registered yet on this connection
    con.create_function(
        "n_tokens",
        n_tokens,
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("BIGINT"),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
