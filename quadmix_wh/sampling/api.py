"""build_mixture: run the QuaDMix sampling macros on an existing DuckDB connection.

This is what `quadmix-wh run` does through the models in models/mixture/, offered as a function
for callers that manage their own tables (the simulation draws thousands of parameter sets and
builds all their mixtures in one query).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..nodes import quote_ident
from ..sql_values import sql_identifier
from .params import ParamsError, param_columns, validate_criteria, validate_params
from .render import render_macro

NORMALIZATIONS = ("percentile", "minmax", "zscore")
DEFAULT_BINS = 1024
MAX_BINS = 1 << 20
DEFAULT_SAMPLE_DOCS = 65536
RANK_METHODS = ("exact", "binned", "sampled")
OUTPUTS = ("mixture", "scored")


@dataclass
class MixtureTotals:
    """What was built: per parameter set, the kept documents, copies and tokens."""
    table: str
    per_param_set: dict[str, dict] = field(default_factory=dict)

    def achieved_tokens(self, param_set: str) -> int:
        return int(self.per_param_set.get(param_set, {}).get("tokens", 0))


def relation_name(name: str) -> str:
    """'table' or 'schema.table', each part a plain identifier, quoted for SQL."""
    parts = str(name).split(".")
    try:
        return ".".join(quote_ident(sql_identifier(p)) for p in parts)
    except ValueError as exc:
        raise ParamsError(f"table name {name!r}: {exc}") from None


@dataclass(frozen=True)
class MixtureStatements:
    """What builds a mixture: `prepare` (SQL statements, each ending with ';'; empty unless
    rank_method='sampled', which creates its temp tables there), the `select` to materialize,
    and `cleanup` (drops the temp tables). Run them on ONE connection: temp tables are per
    connection."""
    prepare: str
    select: str
    cleanup: str


def _check_options(seed, normalization, rank_method, output, budget_tokens, bins, scores_format,
                   sample_docs=DEFAULT_SAMPLE_DOCS) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParamsError(f"seed must be an integer, got {seed!r}")
    for value, allowed, what in ((normalization, NORMALIZATIONS, "normalization"),
                                 (rank_method, RANK_METHODS, "rank_method"), (output, OUTPUTS, "output"),
                                 (scores_format, ("long", "wide"), "scores_format")):
        if value not in allowed:
            raise ParamsError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    if budget_tokens is not None and (isinstance(budget_tokens, bool) or not budget_tokens >= 0):
        raise ParamsError(f"budget_tokens must be a number >= 0 or None, got {budget_tokens!r}")
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= MAX_BINS:
        raise ParamsError(f"bins must be an integer in 1 .. {MAX_BINS}, got {bins!r}")
    if isinstance(sample_docs, bool) or not isinstance(sample_docs, int) or sample_docs < 1:
        raise ParamsError(f"sample_docs must be an integer >= 1, got {sample_docs!r}")
    if rank_method == "sampled" and normalization != "percentile":
        raise ParamsError(f"rank_method 'sampled' estimates percentiles: it needs normalization 'percentile', "
                          f"got {normalization!r}")


def _input_relations(inputs_table, scores_table, domains_table, documents_table) -> dict:
    """The macros' input arguments: a prepared inputs table, or the three raw relations."""
    if inputs_table is not None:
        return {"inputs": relation_name(inputs_table)}
    return {"scores": relation_name(scores_table), "domains": relation_name(domains_table),
            "documents": relation_name(documents_table)}


def check_params_table(con, params_table: str, criteria: list[dict]) -> None:
    """Validate the parameter rows in `params_table` (raises ParamsError before anything is built)."""
    cursor = con.execute(f"SELECT * FROM {relation_name(params_table)}")
    names = [d[0] for d in cursor.description]
    missing = [c for c in param_columns(criteria) if c not in names]
    if missing:
        raise ParamsError(f"parameter table {params_table}: missing column(s) {', '.join(missing)}")
    validate_params((dict(zip(names, row)) for row in cursor.fetchall()), criteria)


def mixture_sql(*, params_table: str, seed: int, criteria: list[dict], scores_table: str = "quality_scores",
                domains_table: str = "doc_domains", documents_table: str = "documents",
                inputs_table: str | None = None, budget_tokens: float | None = None,
                normalization: str = "percentile", rank_method: str = "exact", bins: int = DEFAULT_BINS,
                scores_format: str = "long", output: str = "mixture", include_zero: bool = False,
                check_inputs: bool = True, macro_dir: Path | None = None) -> str:
    """The SELECT that build_mixture runs (rendered from macros/quadmix), for inspection. For
    rank_method='sampled', which prepares temp tables first, use mixture_statements()."""
    criteria = validate_criteria(criteria)
    _check_options(seed, normalization, rank_method, output, budget_tokens, bins, scores_format)
    if rank_method == "sampled":
        raise ParamsError("rank_method 'sampled' is not one query: use mixture_statements() (prepare, "
                          "select, cleanup) or build_mixture()")
    relations = _input_relations(inputs_table, scores_table, domains_table, documents_table)
    return render_macro(
        "quadmix_mixture_query", macro_dir, params=relation_name(params_table), **relations,
        criteria=criteria, seed=seed, normalization=normalization, rank_method=rank_method, bins=bins,
        budget_tokens=budget_tokens, scores_format=scores_format, output=output, include_zero=include_zero,
        check_inputs=bool(check_inputs))


def mixture_statements(*, params_table: str, seed: int, criteria: list[dict], scores_table: str = "quality_scores",
                       domains_table: str = "doc_domains", documents_table: str = "documents",
                       inputs_table: str | None = None, budget_tokens: float | None = None,
                       normalization: str = "percentile", rank_method: str = "exact", bins: int = DEFAULT_BINS,
                       sample_docs: int = DEFAULT_SAMPLE_DOCS, scores_format: str = "long",
                       output: str = "mixture", include_zero: bool = False, check_inputs: bool = True,
                       temp_prefix: str | None = None, macro_dir: Path | None = None) -> MixtureStatements:
    """Every statement build_mixture runs, for any rank method (see MixtureStatements).
    temp_prefix names the temp tables of rank_method='sampled' (default: a fresh random prefix,
    so concurrent builds on one connection do not collide)."""
    common = dict(params_table=params_table, seed=seed, criteria=criteria, scores_table=scores_table,
                  domains_table=domains_table, documents_table=documents_table, inputs_table=inputs_table,
                  budget_tokens=budget_tokens, normalization=normalization, bins=bins, scores_format=scores_format,
                  output=output, include_zero=include_zero, check_inputs=check_inputs, macro_dir=macro_dir)
    if rank_method != "sampled":
        return MixtureStatements("", mixture_sql(rank_method=rank_method, **common), "")
    criteria = validate_criteria(criteria)
    _check_options(seed, normalization, rank_method, output, budget_tokens, bins, scores_format, sample_docs)
    prefix = temp_prefix if temp_prefix is not None else f"qm_{uuid.uuid4().hex[:12]}_"
    try:
        sql_identifier(prefix + "x")
    except ValueError as exc:
        raise ParamsError(f"temp_prefix {prefix!r}: {exc}") from None
    relations = _input_relations(inputs_table, scores_table, domains_table, documents_table)
    prepare = render_macro(
        "quadmix_sampled_prepare", macro_dir, prefix=prefix, params=relation_name(params_table),
        criteria=criteria, **relations, bins=bins, sample_docs=sample_docs,
        check_inputs=bool(check_inputs), scores_format=scores_format)
    select = render_macro("quadmix_sampled_query", macro_dir, prefix=prefix, criteria=criteria, seed=seed,
                          inputs=relations.get("inputs"), bins=bins, budget_tokens=budget_tokens, output=output,
                          include_zero=include_zero)
    return MixtureStatements(prepare, select, render_macro("quadmix_sampled_cleanup", macro_dir, prefix=prefix))


def inputs_sql(*, criteria: list[dict], scores_table: str = "quality_scores", domains_table: str = "doc_domains",
               documents_table: str = "documents", scores_format: str = "long",
               macro_dir: Path | None = None) -> str:
    """The SELECT of the prepared inputs (doc_id, domain, n_tokens, <criterion>...), checked row by row."""
    criteria = validate_criteria(criteria)
    if scores_format not in ("long", "wide"):
        raise ParamsError(f"scores_format must be one of long, wide, got {scores_format!r}")
    return render_macro("quadmix_inputs_query", macro_dir, scores=relation_name(scores_table),
                        domains=relation_name(domains_table), documents=relation_name(documents_table),
                        criteria=criteria, scores_format=scores_format)


def build_mixture(con, *, params_table: str, seed: int, out_table: str, criteria: list[dict],
                  scores_table: str = "quality_scores", domains_table: str = "doc_domains",
                  documents_table: str = "documents", inputs_table: str | None = None,
                  budget_tokens: float | None = None,
                  normalization: str = "percentile", rank_method: str = "exact", bins: int = DEFAULT_BINS,
                  sample_docs: int = DEFAULT_SAMPLE_DOCS, scores_format: str = "long", output: str = "mixture",
                  include_zero: bool = False, validate: bool = True, check_inputs: bool = True,
                  macro_dir: Path | None = None) -> MixtureTotals:
    """Materialize the QuaDMix mixture(s) of every parameter set in `params_table` as `out_table`.

    con             an open DuckDB connection holding the input tables
    params_table    (param_set, domain, alpha_<criterion>..., lambda, omega, eta, epsilon); many
                    parameter sets are evaluated in the same query; domain '*' is a set's default
    seed            integer seed of the draw (u = md5(doc_id:seed), see docs/SAMPLING.md)
    out_table       created or replaced; output='mixture' gives (param_set, doc_id, copies, tokens)
                    with copies > 0 (all rows with include_zero=True); output='scored' adds domain,
                    n_tokens, qbar, rbar and s (expected copies) for every (param_set, doc)
    criteria        [{name, direction: 'higher'|'lower'}], the order of the alpha_ columns
    scores_table    long (doc_id, criterion, value), or wide (doc_id, <criterion>...) with
                    scores_format='wide'
    domains_table   (doc_id, domain, ...), one row per document
    documents_table (doc_id, n_tokens, ...)
    inputs_table    instead of the three tables above: a prepared table (doc_id, doc_hash, domain,
                    n_tokens, <criterion>...), e.g. built by inputs_sql() / the mixture_inputs model;
                    its rows are checked unless check_inputs=False (they were checked when it was
                    built by inputs_sql())
    budget_tokens   None, or rescale S per parameter set so the EXPECTED total equals it; the
                    achieved total is in the returned MixtureTotals
    normalization   'percentile' (token-weighted, within domain) | 'minmax' | 'zscore'
    rank_method     'exact' (window sorts) | 'binned' (approximate: `bins` equal-width bins per
                    domain with linear interpolation inside a bin) | 'sampled' (the paper's
                    approach: those histograms from a subset of about `sample_docs` documents per
                    domain, then one pass over all documents; see docs/SAMPLING.md)
    validate        check the parameter rows first (ParamsError names param_set/domain/field)
    Bad input rows (a doc without a score, negative tokens, ...) raise duckdb errors naming the
    doc_id. Same inputs and seed give the same table whatever the thread count.
    """
    criteria = validate_criteria(criteria)
    if validate:
        check_params_table(con, params_table, criteria)
    statements = mixture_statements(
        params_table=params_table, seed=seed, criteria=criteria, scores_table=scores_table,
        domains_table=domains_table, documents_table=documents_table, inputs_table=inputs_table,
        budget_tokens=budget_tokens, normalization=normalization, rank_method=rank_method, bins=bins,
        sample_docs=sample_docs, scores_format=scores_format, output=output, include_zero=include_zero,
        check_inputs=check_inputs, macro_dir=macro_dir)
    target = relation_name(out_table)
    try:
        if statements.prepare:
            con.execute(statements.prepare)
        con.execute(f"CREATE OR REPLACE TABLE {target} AS {statements.select}")
    finally:
        if statements.cleanup:
            con.execute(statements.cleanup)
    return _totals(con, target)


def _totals(con, target: str) -> MixtureTotals:
    rows = con.execute(f"SELECT param_set, count(*) FILTER (WHERE copies > 0), sum(copies), sum(tokens) "
                       f"FROM {target} GROUP BY param_set ORDER BY param_set").fetchall()
    return MixtureTotals(target, {ps: {"documents": int(n), "copies": int(c or 0), "tokens": int(t or 0)}
                                  for ps, n, c, t in rows})
