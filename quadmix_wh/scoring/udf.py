"""Scorers as plain DuckDB vectorized (Arrow) UDFs, `score_<name>(text)` -> STRUCT(outputs...,
null_reason), for ad-hoc analyst queries. DuckDB calls them 2,048 rows at a time under the GIL,
so models should use the `score()` context function instead; and since Python UDFs are not stored
in the database file, persisted views must not call them."""
from __future__ import annotations

import duckdb
import pyarrow as pa

from .batching import score_texts
from .declarations import load_declarations
from .fingerprint import scorer_fingerprint
from .loaders import load_scorer, output_types


def udf_name(scorer_name: str) -> str:
    return f"score_{scorer_name}"


def register_udfs(con, project) -> list[str]:
    """Register one UDF per declared scorer; models load on the first call, not here, so opening
    a connection stays cheap. Returns the registered function names."""
    names = []
    for spec in load_declarations(project).values():
        names.append(_register(con, spec))
    return names


def _register(con, spec) -> str:
    types = output_types(spec)
    struct = duckdb.struct_type({**types, "null_reason": "VARCHAR"})
    name = udf_name(spec.name)

    def run(texts: pa.Array) -> pa.StructArray:
        scorer = load_scorer(spec, scorer_fingerprint(spec))
        table = score_texts(scorer, texts.to_pylist(), types, spec.batch_size)
        return pa.StructArray.from_arrays([column.combine_chunks() for column in table.columns],
                                          names=table.column_names)

    try:
        con.remove_function(name)  # re-registering on the same connection replaces the old one
    except Exception:  # duckdb raises InvalidInputException when there is none
        pass
    con.create_function(name, run, [duckdb.sqltype("VARCHAR")], struct, type="arrow",
                        null_handling="special", side_effects=False)
    return name
