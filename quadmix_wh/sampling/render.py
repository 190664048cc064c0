"""Rendering the QuaDMix macros (macros/quadmix/*.sql) outside the engine.

The API renders the very same macro files the project's models call, in a plain sandboxed Jinja
environment that offers the helpers the macros use (sql_identifier, sql_literal, sql_number,
exceptions.raise_compiler_error, the `do` extension).
"""
from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..sql_values import sql_identifier, sql_literal, sql_number

MACRO_SUBDIR = Path("macros") / "quadmix"


class SamplingRenderError(ValueError):
    """The sampling macros could not be found or rendered."""


def default_macro_dir() -> Path:
    # The macros ship at the repository root next to the package (editable / source installs).
    return Path(__file__).resolve().parents[2] / MACRO_SUBDIR


def _raise(message):
    raise SamplingRenderError(str(message))


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                               extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    env.globals.update(sql_identifier=sql_identifier, sql_literal=sql_literal, sql_number=sql_number,
                       exceptions={"raise_compiler_error": _raise})
    return env


def macro_source(macro_dir: Path | None = None) -> str:
    folder = Path(macro_dir) if macro_dir else default_macro_dir()
    files = sorted(folder.glob("*.sql"))
    if not files:
        raise SamplingRenderError(f"no QuaDMix macros found in {folder} (expected macros/quadmix/*.sql)")
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def render_macro(name: str, macro_dir: Path | None = None, **kwargs) -> str:
    """Render `{{ name(**kwargs) }}` with every QuaDMix macro in scope (one template holds them
    all, so they call each other as in the engine)."""
    try:
        module = _environment().from_string(macro_source(macro_dir)).make_module()
        macro = getattr(module, name, None)
        if macro is None:
            raise SamplingRenderError(f"no macro named {name} in the QuaDMix macros")
        return str(macro(**kwargs)).strip()
    except SamplingRenderError:
        raise
    except (jinja2.TemplateError, ValueError) as exc:
        raise SamplingRenderError(f"rendering {name}: {exc}") from exc
