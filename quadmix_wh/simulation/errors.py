"""The simulation part's user errors, in a module with no heavy imports (the CLI loads it at start)."""
from __future__ import annotations


class SimulationConfigError(ValueError):
    """A `vars.simulation` value or a simulation input is invalid; the message names it and why."""


class ResultsConflictError(RuntimeError):
    """sim_results holds runs made with another configuration; the message says how to proceed."""


class FitError(ValueError):
    """Bad fit/search input; the message names the table/column/setting and the reason."""
