"""Documents tokenized once: token ids in an append-only memory-mapped file, indexed in the warehouse.

Layout: `<store_dir>/<tokenizer hash>/tokens.bin` (uint16 when the vocabulary fits, else uint32)
and the warehouse table `token_index(tokenizer, source_table, doc_id, text_md5, offset, length)`.
Ids are appended and flushed before their index rows commit, so a crash leaves at worst unindexed
bytes at the end of the file (never an index row pointing at missing tokens). A document whose
text changes (new md5) is tokenized again; nothing is ever re-tokenized otherwise.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pyarrow as pa

INDEX_TABLE = "token_index"
END_OF_TEXT = "<|endoftext|>"
ENCODE_BATCH = 1024


def tokenizer_hash(tokenizer) -> str:
    return hashlib.sha256(tokenizer.to_str().encode()).hexdigest()[:16]


def eos_id(tokenizer) -> int:
    token_id = tokenizer.token_to_id(END_OF_TEXT)
    if token_id is None:
        raise ValueError(f"tokenizer has no {END_OF_TEXT!r} token to separate documents")
    return int(token_id)


class TokenStore:
    def __init__(self, con, store_dir: Path | str, tokenizer):
        self.con = con
        self.tokenizer = tokenizer
        self.key = tokenizer_hash(tokenizer)
        self.vocab_size = tokenizer.get_vocab_size()
        self.dtype = np.uint16 if self.vocab_size <= np.iinfo(np.uint16).max + 1 else np.uint32
        self.dir = Path(store_dir) / self.key
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "tokens.bin"
        self.path.touch(exist_ok=True)
        self.eos = eos_id(tokenizer)
        con.execute(f"CREATE TABLE IF NOT EXISTS {INDEX_TABLE} (tokenizer VARCHAR, source_table VARCHAR, "
                    "doc_id VARCHAR, text_md5 VARCHAR, \"offset\" BIGINT, length BIGINT)")
        self._forget_missing_tokens()

    def _forget_missing_tokens(self) -> None:
        """Drop index rows pointing past the end of tokens.bin (the file was deleted or truncated,
        e.g. with the target/ folder): those documents are simply tokenized again."""
        stored = os.path.getsize(self.path) // np.dtype(self.dtype).itemsize
        self.con.execute(f"DELETE FROM {INDEX_TABLE} WHERE tokenizer = ? AND \"offset\" + length > ?",
                         [self.key, stored])

    # -- writing -----------------------------------------------------------------------------
    def _missing(self, table: str) -> list[tuple[str, str, str]]:
        """(doc_id, md5, text) of documents of `table` not yet tokenized with this tokenizer."""
        return self.con.execute(
            f"""SELECT d.doc_id, md5(d.text), d.text FROM "{table}" d
                LEFT JOIN {INDEX_TABLE} i ON i.tokenizer = ? AND i.source_table = ?
                     AND i.doc_id = d.doc_id AND i.text_md5 = md5(d.text)
                WHERE i.doc_id IS NULL AND d.text IS NOT NULL ORDER BY d.doc_id""",
            [self.key, table]).fetchall()

    def ensure(self, table: str) -> int:
        """Tokenize the documents of `table` (doc_id, text) that are not in the store; returns how many."""
        missing = self._missing(table)
        for start in range(0, len(missing), ENCODE_BATCH * 8):
            self._append(table, missing[start:start + ENCODE_BATCH * 8])
        return len(missing)

    def _append(self, table: str, rows: list[tuple[str, str, str]]) -> None:
        encodings = self.tokenizer.encode_batch([r[2] for r in rows], add_special_tokens=False)
        ids = [np.asarray(e.ids, dtype=self.dtype) for e in encodings]
        lengths = np.array([len(a) for a in ids], dtype=np.int64)
        start = os.path.getsize(self.path) // np.dtype(self.dtype).itemsize
        offsets = start + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        with open(self.path, "ab") as handle:
            handle.write(np.concatenate(ids).tobytes() if ids else b"")
            handle.flush()
            os.fsync(handle.fileno())
        index = pa.table({"doc_id": [r[0] for r in rows], "text_md5": [r[1] for r in rows],
                          "offset": offsets, "length": lengths})
        self.con.register("_token_index_new", index)
        try:
            self.con.execute("BEGIN TRANSACTION")
            self.con.execute(f"DELETE FROM {INDEX_TABLE} WHERE tokenizer = ? AND source_table = ? "
                             "AND doc_id IN (SELECT doc_id FROM _token_index_new)", [self.key, table])
            self.con.execute(f"INSERT INTO {INDEX_TABLE} SELECT ?, ?, doc_id, text_md5, \"offset\", length "
                             "FROM _token_index_new", [self.key, table])
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        finally:
            self.con.unregister("_token_index_new")

    # -- reading -----------------------------------------------------------------------------
    def tokens(self) -> np.ndarray:
        size = os.path.getsize(self.path)
        if size == 0:
            return np.zeros(0, dtype=self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="r")

    def spans(self, table: str) -> dict[str, tuple[int, int]]:
        rows = self.con.execute(f"SELECT doc_id, \"offset\", length FROM {INDEX_TABLE} "
                                "WHERE tokenizer = ? AND source_table = ?", [self.key, table]).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def document_ids(self, table: str, doc_id: str) -> np.ndarray:
        span = self.spans(table).get(doc_id)
        if span is None:
            raise KeyError(f"{table}: document {doc_id!r} is not in the token store")
        return np.asarray(self.tokens()[span[0]:span[0] + span[1]])
