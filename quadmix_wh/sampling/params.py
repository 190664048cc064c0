"""QuaDMix sampling parameters as data: loading, validating, and turning them into a table.

A parameter table has one row per (param_set, domain):
    param_set, domain, alpha_<criterion> (one per configured criterion), lambda, omega, eta, epsilon
`domain: '*'` is a parameter set's default row, used for every domain without its own row.

Sources (vars.quadmix.params_source):
    file    a YAML or CSV file in the project (vars.quadmix.params_file, default data/params/default.yml)
    vars    the mapping or list in vars.quadmix.params (e.g. given with --vars)
    search  the table search_best_params written by `quadmix-wh search` (same schema)
YAML / vars mapping form: {param_set: {domain: {alpha: {criterion: w, ...}, lambda, omega, eta,
epsilon}}}; a row without `alpha` gets equal weights 1/N. The list form holds flat rows.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import pyarrow as pa
import yaml

SHAPE_FIELDS = ("lambda", "omega", "eta", "epsilon")
DEFAULT_DOMAIN = "*"
ALPHA_SUM_TOLERANCE = 1e-9
SOURCES = ("file", "vars", "search")
SEARCH_TABLE = "search_best_params"
DEFAULT_PARAMS_FILE = "data/params/default.yml"


class ParamsError(ValueError):
    """Invalid sampling parameters or criteria; the message names param_set, domain and field."""


def validate_criteria(criteria: Any) -> list[dict]:
    """criteria: [{name, direction: higher|lower}]; returns them as plain dicts."""
    if not isinstance(criteria, (list, tuple)) or not criteria:
        raise ParamsError("quadmix criteria: expected a non-empty list of {name, direction} "
                          "(vars.quadmix.criteria)")
    seen, out = set(), []
    for i, item in enumerate(criteria):
        if not isinstance(item, Mapping) or "name" not in item:
            raise ParamsError(f"quadmix criteria[{i}]: expected {{name, direction}}, got {item!r}")
        name, direction = str(item["name"]), str(item.get("direction", "higher"))
        if not name.isidentifier() or not name.isascii():
            raise ParamsError(f"quadmix criteria[{i}]: name {name!r} must be letters, digits and _")
        if direction not in ("higher", "lower"):
            raise ParamsError(f"quadmix criterion {name}: direction must be 'higher' or 'lower', got {direction!r}")
        if name in seen:
            raise ParamsError(f"quadmix criterion {name} is listed twice")
        seen.add(name)
        out.append({"name": name, "direction": direction})
    return out


def param_columns(criteria: list[dict]) -> list[str]:
    return ["param_set", "domain"] + [f"alpha_{c['name']}" for c in criteria] + list(SHAPE_FIELDS)


def _number(row_label: str, field: str, value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise ParamsError(f"{row_label}: field '{field}' is {value!r}, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParamsError(f"{row_label}: field '{field}' is {value!r}, not a number") from None
    if not math.isfinite(number):
        raise ParamsError(f"{row_label}: field '{field}' is {value!r}, not a finite number")
    return number


def _check_ranges(label: str, row: Mapping, alphas: list[str]) -> None:
    for field in alphas:
        if _number(label, field, row[field]) < 0:
            raise ParamsError(f"{label}: field '{field}' = {row[field]} is negative (alphas must be >= 0)")
    total = math.fsum(float(row[f]) for f in alphas)
    if abs(total - 1.0) > ALPHA_SUM_TOLERANCE:
        raise ParamsError(f"{label}: fields {', '.join(alphas)} sum to {total!r}, not 1 (tolerance 1e-9)")
    lam, omega = _number(label, "lambda", row["lambda"]), _number(label, "omega", row["omega"])
    eta, eps = _number(label, "eta", row["eta"]), _number(label, "epsilon", row["epsilon"])
    if lam < 0:
        raise ParamsError(f"{label}: field 'lambda' = {lam} is negative")
    if not 0.0 <= omega <= 1.0:
        raise ParamsError(f"{label}: field 'omega' = {omega} is outside [0, 1]")
    if eta < 0:
        raise ParamsError(f"{label}: field 'eta' = {eta} is negative")
    if eps < 0:
        raise ParamsError(f"{label}: field 'epsilon' = {eps} is negative")


def validate_params(rows: Iterable[Mapping], criteria: list[dict]) -> list[dict]:
    """Check parameter rows against the criteria; return them as clean dicts (floats, strings).

    Rejects (ParamsError naming param_set / domain / field): a missing field, an alpha for an
    unknown criterion, a non-number, alphas < 0 or not summing to 1 within 1e-9, lambda < 0,
    omega outside [0, 1], eta < 0, epsilon < 0, a repeated (param_set, domain), no rows at all.
    """
    criteria = validate_criteria(criteria)
    alphas = [f"alpha_{c['name']}" for c in criteria]
    clean, seen = [], set()
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ParamsError(f"parameter row {index}: expected a mapping, got {row!r}")
        label = f"param_set {row.get('param_set')!r}, domain {row.get('domain')!r}"
        for key in row:
            if str(key).startswith("alpha_") and key not in alphas:
                raise ParamsError(f"{label}: field '{key}' names an unknown criterion "
                                  f"(configured: {', '.join(c['name'] for c in criteria)})")
        for field in ["param_set", "domain"] + alphas + list(SHAPE_FIELDS):
            if field not in row or row[field] is None or (isinstance(row[field], str) and not row[field].strip()):
                raise ParamsError(f"{label}: field '{field}' is missing")
        _check_ranges(label, row, alphas)
        key = (str(row["param_set"]), str(row["domain"]))
        if key in seen:
            raise ParamsError(f"{label}: the (param_set, domain) pair appears more than once")
        seen.add(key)
        clean.append({"param_set": key[0], "domain": key[1],
                      **{f: float(row[f]) for f in alphas + list(SHAPE_FIELDS)}})
    if not clean:
        raise ParamsError("sampling parameters: no rows")
    return clean


def rows_from_mapping(sets: Mapping, criteria: list[dict]) -> list[dict]:
    """{param_set: {domain: {alpha: {crit: w}, lambda, ...}}} -> flat rows (alpha default 1/N)."""
    if not isinstance(sets, Mapping):
        raise ParamsError(f"sampling parameters: expected {{param_set: {{domain: {{...}}}}}}, got {sets!r}")
    rows = []
    for param_set, domains in sets.items():
        if not isinstance(domains, Mapping):
            raise ParamsError(f"param_set {param_set!r}: expected a mapping of domain -> parameters")
        for domain, values in domains.items():
            if not isinstance(values, Mapping):
                raise ParamsError(f"param_set {param_set!r}, domain {domain!r}: expected a mapping of fields")
            rows.append(_flatten(str(param_set), str(domain), values, criteria))
    return rows


def _flatten(param_set: str, domain: str, values: Mapping, criteria: list[dict]) -> dict:
    row = {"param_set": param_set, "domain": domain}
    alpha = values.get("alpha")
    if alpha is None:
        alpha = {c["name"]: 1.0 / len(criteria) for c in criteria}
    elif not isinstance(alpha, Mapping):
        raise ParamsError(f"param_set {param_set!r}, domain {domain!r}: field 'alpha' must map criterion -> weight")
    row.update({f"alpha_{name}": weight for name, weight in alpha.items()})
    row.update({k: v for k, v in values.items() if k != "alpha"})
    return row


def rows_from_value(value: Any, criteria: list[dict]) -> list[dict]:
    """A YAML / vars value: the mapping form, {param_sets: mapping}, or a list of flat rows."""
    if isinstance(value, Mapping) and "param_sets" in value:
        value = value["param_sets"]
    if isinstance(value, list):
        return [dict(r) if isinstance(r, Mapping) else r for r in value]
    return rows_from_mapping(value, criteria)


def rows_from_file(path: Path, criteria: list[dict]) -> list[dict]:
    if not path.is_file():
        raise ParamsError(f"sampling parameters file {path} does not exist (vars.quadmix.params_file)")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return [dict(r) for r in csv.DictReader(handle)]
    try:
        return rows_from_value(yaml.safe_load(path.read_text(encoding="utf-8")), criteria)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: invalid YAML: {exc}") from exc


def rows_from_search(con, criteria: list[dict]) -> list[dict]:
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE lower(table_name) = ?",
                         [SEARCH_TABLE]).fetchone()[0]
    if not exists:
        raise ParamsError(f"params_source 'search': table {SEARCH_TABLE} does not exist; run `quadmix-wh search` first")
    cursor = con.execute(f"SELECT * FROM {SEARCH_TABLE}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


def load_rows(settings: Mapping, project_root: Path, con=None) -> list[dict]:
    """Validated parameter rows from the source named by settings['params_source']."""
    criteria = validate_criteria(settings.get("criteria"))
    source = str(settings.get("params_source", "file"))
    if source == "file":
        path = Path(str(settings.get("params_file", DEFAULT_PARAMS_FILE)))
        rows = rows_from_file(path if path.is_absolute() else project_root / path, criteria)
    elif source == "vars":
        if settings.get("params") is None:
            raise ParamsError("params_source 'vars': vars.quadmix.params is not set")
        rows = rows_from_value(settings["params"], criteria)
    elif source == "search":
        if con is None:
            raise ParamsError("params_source 'search' needs a warehouse connection")
        rows = rows_from_search(con, criteria)
    else:
        raise ParamsError(f"vars.quadmix.params_source must be one of {', '.join(SOURCES)}, got {source!r}")
    rows = validate_params(rows, criteria)
    wanted = settings.get("param_set")
    if wanted is not None:
        rows = [r for r in rows if r["param_set"] == str(wanted)]
        if not rows:
            raise ParamsError(f"vars.quadmix.param_set {wanted!r} is not among the loaded parameter sets")
    return rows


def to_arrow(rows: list[dict], criteria: list[dict]) -> pa.Table:
    columns = param_columns(validate_criteria(criteria))
    types = [pa.string(), pa.string()] + [pa.float64()] * (len(columns) - 2)
    schema = pa.schema(list(zip(columns, types)))
    return pa.table({c: [r[c] for r in rows] for c in columns}, schema=schema)
