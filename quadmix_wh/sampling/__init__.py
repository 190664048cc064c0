"""QuaDMix sampling: parameters as data (params), the mixture API (api), Parquet export (export).

Importing this package registers the parameter validator with the engine's runner, so invalid
parameters stop `quadmix-wh run` before any table is built.
"""
from .api import MixtureStatements, MixtureTotals, build_mixture, mixture_sql, mixture_statements
from .export import ExportError, export_mixture, verify_export
from .params import ParamsError, validate_criteria, validate_params
from .validator import register

register()

__all__ = ["ExportError", "MixtureStatements", "MixtureTotals", "ParamsError", "build_mixture", "export_mixture",
           "mixture_sql", "mixture_statements", "validate_criteria", "validate_params", "verify_export"]
