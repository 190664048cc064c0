"""What the simulation reads from a project: criteria, input tables, tokenizer, and the mixtures.

The mixtures of the simulation are built exactly as `quadmix-wh run` builds the final one (same
macros, same vars.quadmix options: normalization, rank method, bins, score format), for every
parameter set at once, in one query (quadmix_wh.sampling.build_mixture).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from quadmix_wh.sampling import ParamsError, build_mixture, validate_criteria
from quadmix_wh.sampling.api import DEFAULT_SAMPLE_DOCS
from quadmix_wh.simulation.algorithm1 import sample_param_sets
from quadmix_wh.simulation.config import SimulationConfig, SimulationConfigError
from quadmix_wh.simulation.results import table_exists

PARAM_TABLE, MIXTURE_TABLE = "sim_param_sets", "sim_mixture"


@dataclass(frozen=True)
class ProjectInputs:
    criteria: list[dict]
    documents: str = "documents"
    scores: str = "quality_scores"
    domains: str = "doc_domains"
    options: dict = field(default_factory=dict)   # build_mixture's normalization, rank_method, ...

    @classmethod
    def from_vars(cls, quadmix_vars: dict | None) -> "ProjectInputs":
        """From vars.quadmix, with the same defaults as models/mixture/mixture_scored.sql."""
        qm = quadmix_vars or {}
        try:
            criteria = validate_criteria(qm.get("criteria"))
        except ParamsError as exc:
            raise SimulationConfigError(f"vars.quadmix.criteria: {exc}") from None
        rank_method = qm.get("rank_method", "exact")
        options = {"normalization": qm.get("normalization", "percentile"), "rank_method": rank_method,
                   "bins": qm.get("bins", 1024 if rank_method == "sampled" else 16384),
                   "scores_format": qm.get("scores_format", "long")}
        if rank_method == "sampled":
            options["sample_docs"] = qm.get("sample_docs", DEFAULT_SAMPLE_DOCS)
        return cls(criteria, qm.get("documents_model", "documents"), qm.get("scores_model", "quality_scores"),
                   qm.get("domains_model", "doc_domains"), options)

    @property
    def criterion_names(self) -> list[str]:
        return [c["name"] for c in self.criteria]

    def check(self, con) -> list[str]:
        """The input tables exist and hold tokens; returns the domains (sorted)."""
        for table, what in ((self.documents, "documents"), (self.scores, "quality scores"),
                            (self.domains, "domain labels")):
            if not table_exists(con, table):
                raise SimulationConfigError(f"simulation: the {what} table {table!r} does not exist; "
                                            "build the project first (`quadmix-wh build`)")
        total = con.execute(f'SELECT coalesce(sum(n_tokens), 0) FROM "{self.documents}"').fetchall()[0][0]
        if not total:
            raise SimulationConfigError(f"simulation: {self.documents!r} holds no tokens (no documents, or "
                                        "n_tokens is 0 everywhere): nothing to train on")
        domains = [r[0] for r in con.execute(f'SELECT DISTINCT domain FROM "{self.domains}" '
                                             "WHERE domain IS NOT NULL ORDER BY domain").fetchall()]
        if not domains:
            raise SimulationConfigError(f"simulation: {self.domains!r} labels no document with a domain")
        return domains


def prepare_mixtures(con, cfg: SimulationConfig, inputs: ProjectInputs) -> list[str]:
    """Draw the parameter sets (Algorithm 1) into sim_param_sets and build all their mixtures
    into sim_mixture in one query. Deterministic: a resumed simulation rebuilds the same tables."""
    domains = inputs.check(con)
    sample_param_sets(con, domains=domains, criteria=inputs.criterion_names, ranges=cfg.values,
                      n_sets=cfg["n_param_sets"], seed=cfg["seed"], out_table=PARAM_TABLE)
    try:
        build_mixture(con, params_table=PARAM_TABLE, seed=cfg["seed"], out_table=MIXTURE_TABLE,
                      criteria=inputs.criteria, scores_table=inputs.scores, domains_table=inputs.domains,
                      documents_table=inputs.documents, budget_tokens=cfg["budget_tokens"], **inputs.options)
    except (ParamsError, duckdb.Error) as exc:
        raise SimulationConfigError(f"simulation: building the mixtures failed: {exc}") from None
    return [r[0] for r in con.execute(f"SELECT DISTINCT param_set FROM {PARAM_TABLE} ORDER BY 1").fetchall()]
