"""Turning data (project vars, `--vars`) into SQL text safely: literals and validated identifiers.

Values that come from `var()` are wrapped in marker types; the Jinja environment renders them
as SQL literals by default, so a `--vars` value can never become SQL code.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import math
import re

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class VarStr(str):
    """A string that came from var(): rendered as a quoted SQL literal."""


class VarList(list):
    """A list that came from var(): rendered as a SQL tuple of literals `(a, b)`."""


class VarDict(dict):
    """A mapping that came from var(): rendered as a DuckDB struct literal."""


def mark_var_value(value):
    """Wrap a var value (recursively) so that printing it yields a SQL literal."""
    if isinstance(value, str):
        return VarStr(value)
    if isinstance(value, dict):
        return VarDict({k: mark_var_value(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return VarList(mark_var_value(v) for v in value)
    return value


def is_var_value(value) -> bool:
    return isinstance(value, (VarStr, VarList, VarDict))


def sql_literal(value) -> str:
    """SQL literal text for a Python value (strings quoted with '' escaping)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f"'{value}'::DOUBLE"
        return repr(float(value))
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, _dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, _dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, dict):
        items = ", ".join(f"{sql_literal(str(k))}: {sql_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(sql_literal(v) for v in value) + ")"
    return "'" + str(value).replace("'", "''") + "'"


def sql_identifier(value) -> str:
    """A bare identifier (letters, digits, underscore); anything else is refused, not escaped."""
    text = str(value)
    if not IDENTIFIER_RE.match(text):
        raise ValueError(f"not a safe SQL identifier: {text!r} (only letters, digits and _ allowed)")
    return text


def sql_number(value) -> str:
    """A numeric literal; anything that is not a number is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        try:
            value = float(str(value)) if "." in str(value) or "e" in str(value).lower() else int(str(value))
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
    return sql_literal(value)
