"""The score cache: one table per scorer version, `scores__<scorer>__<fingerprint8>`, holding
(doc_id, text_md5, <outputs>, null_reason). A cached score belongs to a document's id AND its
text: a document whose text changed is scored again (its old row stays, unused).

Filling it streams only the documents it lacks out of DuckDB as Arrow, scores them in
length-sorted batches outside DuckDB's UDF machinery, and appends each chunk in its own committed
statement: an interrupted run keeps every finished chunk and the next run resumes with the rest.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa

from .batching import score_texts
from .fingerprint import scorer_fingerprint
from .loaders import load_scorer, output_types
from .progress import scoring_progress

_chunk_names = itertools.count()
CACHE_PREFIX = "scores__"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text_key(text_sql: str) -> str:
    """The text part of the cache key; NULL text gets a key of its own so its row still joins."""
    return f"coalesce(md5(CAST({text_sql} AS VARCHAR)), 'null')"


@dataclass(frozen=True)
class ScoreCache:
    spec: object
    fingerprint: str

    @classmethod
    def for_spec(cls, spec) -> "ScoreCache":
        return cls(spec, scorer_fingerprint(spec))

    @property
    def table(self) -> str:
        return cache_table(self.spec.name, self.fingerprint)

    @property
    def output_types(self) -> dict[str, str]:
        return output_types(self.spec)

    def create(self, con) -> None:
        columns = ", ".join(f"{quote(n)} {t}" for n, t in self.output_types.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {quote(self.table)} "
                    f"(doc_id VARCHAR, text_md5 VARCHAR, {columns}, null_reason VARCHAR)")

    def missing_query(self, relation: str, id_column: str, text_column: str) -> str:
        # Ordered by doc_id so chunks (and so batches) are the same whatever DuckDB's thread count.
        doc_id, text = f"CAST(r.{quote(id_column)} AS VARCHAR)", f"r.{quote(text_column)}"
        return (f"SELECT {doc_id} AS doc_id, {text_key(text)} AS text_md5, CAST({text} AS VARCHAR) AS text "
                f"FROM {relation} AS r WHERE NOT EXISTS (SELECT 1 FROM {quote(self.table)} AS c "
                f"WHERE c.doc_id = {doc_id} AND c.text_md5 = {text_key(text)}) ORDER BY 1, 2")

    def rows_sql(self, relation: str, id_column: str = "doc_id", text_column: str = "text") -> str:
        """The cached rows (doc_id, outputs..., null_reason) of the documents of `relation` as
        they are now (same id and same text)."""
        outputs = ", ".join(f"c.{quote(n)}" for n in self.output_types)
        return (f"(SELECT c.doc_id, {outputs}, c.null_reason FROM {quote(self.table)} AS c WHERE EXISTS "
                f"(SELECT 1 FROM {relation} AS r WHERE c.doc_id = CAST(r.{quote(id_column)} AS VARCHAR) "
                f"AND c.text_md5 = {text_key('r.' + quote(text_column))}))")

    def fill(self, con, relation: str, id_column: str = "doc_id", text_column: str = "text",
             progress: bool = True, on_chunk: Callable[[int], None] | None = None) -> int:
        """Score every document of `relation` not yet in the cache; returns how many were scored.
        `on_chunk(rows)` is called after each chunk is committed."""
        self.create(con)
        query = self.missing_query(relation, id_column, text_column)
        # fetchall, not fetchone: an unfinished result would block the register() below.
        total = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
        if total == 0:
            return 0
        scorer = load_scorer(self.spec, self.fingerprint)
        # A second cursor streams the documents while this connection appends results.
        reader = con.cursor().sql(query).to_arrow_reader(self.spec.chunk_size)
        with scoring_progress(f"scoring {self.spec.name}", total if progress else 0) as bar:
            for chunk in rechunk(reader, self.spec.chunk_size):
                self.append(con, chunk, scorer, bar.advance)
                bar.committed()
                if on_chunk:
                    on_chunk(chunk.num_rows)
        return total

    def append(self, con, chunk: pa.Table, scorer, advance) -> None:
        texts = chunk.column("text").to_pylist()
        scored = score_texts(scorer, texts, self.output_types, self.spec.batch_size, advance)
        rows = scored.add_column(0, "doc_id", chunk.column("doc_id")) \
                     .add_column(1, "text_md5", chunk.column("text_md5"))
        name = f"__quadmix_score_chunk_{next(_chunk_names)}"
        con.register(name, rows)
        try:
            # One autocommitted statement per chunk: the unit of resumption.
            con.execute(f"INSERT INTO {quote(self.table)} BY NAME SELECT * FROM {quote(name)}")
        finally:
            con.unregister(name)


def cache_table(scorer_name: str, fingerprint: str) -> str:
    return f"{CACHE_PREFIX}{scorer_name}__{fingerprint[:8]}"


def cache_tables(con) -> dict[str, list[str]]:
    """Existing score-cache tables by scorer name (every version present in the warehouse)."""
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                       "AND table_name LIKE 'scores\\_\\_%' ESCAPE '\\' ORDER BY 1").fetchall()
    found: dict[str, list[str]] = {}
    for (name,) in rows:
        scorer, _, version = name[len(CACHE_PREFIX):].rpartition("__")
        if scorer and len(version) == 8:
            found.setdefault(scorer, []).append(name)
    return found


def rechunk(reader, rows_per_chunk: int):
    """DuckDB hands out record batches of its own size; regroup them into chunks of the asked size."""
    pending, count = [], 0
    for batch in reader:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows_per_chunk:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows_per_chunk)
            rest = table.slice(rows_per_chunk)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema=reader.schema)
