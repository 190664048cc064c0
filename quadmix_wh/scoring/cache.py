"""The score cache: one table per scorer version, `scores__<scorer>__<fingerprint8>`, holding
(doc_id, <outputs>, null_reason). Filling it streams only the documents it lacks out of DuckDB
as Arrow, scores them in length-sorted batches outside DuckDB's UDF machinery, and appends each
chunk in its own committed statement: an interrupted run keeps every finished chunk and the
next run resumes with the rest."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyarrow as pa

from .batching import score_texts
from .fingerprint import scorer_fingerprint
from .loaders import load_scorer, output_types
from .progress import scoring_progress

_chunk_names = itertools.count()


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ScoreCache:
    spec: object
    fingerprint: str

    @classmethod
    def for_spec(cls, spec) -> "ScoreCache":
        return cls(spec, scorer_fingerprint(spec))

    @property
    def table(self) -> str:
        return f"scores__{self.spec.name}__{self.fingerprint[:8]}"

    @property
    def output_types(self) -> dict[str, str]:
        return output_types(self.spec)

    def create(self, con) -> None:
        columns = ", ".join(f"{quote(n)} {t}" for n, t in self.output_types.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {quote(self.table)} "
                    f"(doc_id VARCHAR, {columns}, null_reason VARCHAR)")

    def missing_query(self, relation: str, id_column: str, text_column: str) -> str:
        # Ordered by doc_id so chunks (and so batches) are the same whatever DuckDB's thread count.
        return (f"SELECT CAST(r.{quote(id_column)} AS VARCHAR) AS doc_id, "
                f"CAST(r.{quote(text_column)} AS VARCHAR) AS text FROM {relation} AS r "
                f"WHERE NOT EXISTS (SELECT 1 FROM {quote(self.table)} AS c "
                f"WHERE c.doc_id = CAST(r.{quote(id_column)} AS VARCHAR)) ORDER BY 1")

    def fill(self, con, relation: str, id_column: str = "doc_id", text_column: str = "text",
             progress: bool = True) -> int:
        """Score every document of `relation` not yet in the cache; returns how many were scored."""
        self.create(con)
        query = self.missing_query(relation, id_column, text_column)
        total = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
        if total == 0:
            return 0
        scorer = load_scorer(self.spec, self.fingerprint)
        # A second cursor streams the documents while this connection appends results.
        reader = con.cursor().sql(query).to_arrow_reader(self.spec.chunk_size)
        label = f"scoring {self.spec.name}" if progress else None
        with scoring_progress(label or "", total if progress else 0) as advance:
            for chunk in rechunk(reader, self.spec.chunk_size):
                self.append(con, chunk, scorer, advance)
        return total

    def append(self, con, chunk: pa.Table, scorer, advance) -> None:
        texts = chunk.column("text").to_pylist()
        scored = score_texts(scorer, texts, self.output_types, self.spec.batch_size, advance)
        rows = scored.add_column(0, "doc_id", chunk.column("doc_id"))
        name = f"__quadmix_score_chunk_{next(_chunk_names)}"
        con.register(name, rows)
        try:
            con.execute(f"INSERT INTO {quote(self.table)} BY NAME SELECT * FROM {quote(name)}")
        finally:
            con.unregister(name)


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
