"""The sandboxed Jinja environment that renders models, macros, tests and descriptions.

Templates see `ref`, `source`, `var`, `config`, `this`, `is_incremental`, `doc`, the project's
macros and every registered context function. `ref()`/`source()`/`this` render to sentinels
(`__qwh_rel_N__`) that the planner later swaps for real relation names: that lets the DAG check
tell a ref'd relation from a raw table name, and lets tests run against a not-yet-swapped table.
"""
from __future__ import annotations

import contextvars
import re
import traceback
from pathlib import Path
from typing import Any, Callable

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .nodes import MODEL, SEED, SOURCE, Node
from .sql_values import is_var_value, mark_var_value, sql_identifier, sql_literal, sql_number

SENTINEL_RE = re.compile(r"__qwh_rel_(\d+)__")
_CONTEXT_FUNCTIONS: dict[str, Callable] = {}
_CURRENT: contextvars.ContextVar["RenderContext | None"] = contextvars.ContextVar("qwh_render", default=None)
_MISSING = object()
_DOCS_RE = re.compile(r"{%-?\s*docs\s+(\w+)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.S)
_TEST_BLOCK_RE = re.compile(r"{%(-?)\s*test\s+(\w+)\s*\(")
_ENDTEST_RE = re.compile(r"{%(-?)\s*endtest\s*(-?)%}")


class RenderError(Exception):
    """A template could not be rendered; the message names the file, line and reason."""


def context_function(name: str):
    """Register `fn(render_ctx, *args, **kwargs)` as the Jinja function `name(...)`."""
    def decorate(fn: Callable) -> Callable:
        _CONTEXT_FUNCTIONS[name] = fn
        return fn
    return decorate


def registered_context_functions() -> dict[str, Callable]:
    return dict(_CONTEXT_FUNCTIONS)


class Relation:
    """What ref()/source()/this return: prints as a sentinel, exposes dbt-like attributes."""

    def __init__(self, sentinel: str, schema: str, identifier: str, name: str):
        self._sentinel = sentinel
        self.schema = schema
        self.identifier = identifier
        self.name = name
        self.database = None

    def __str__(self) -> str:
        return self._sentinel

    def __html__(self) -> str:
        return self._sentinel


class _ConfigProxy:
    """`config(...)` records settings; `config.get(key, default)` reads the node's config."""

    def __call__(self, *args, **kwargs) -> str:
        ctx = _current()
        if args:
            raise RenderError(f"{ctx.where()}: config() takes keyword arguments only")
        ctx.config_calls.update(kwargs)
        return ""

    def get(self, key, default=None):
        ctx = _current()
        return {**ctx.node.config, **ctx.config_calls}.get(key, default)


class _ThisProxy:
    """`this`: the relation of the node being rendered (also inside macros)."""

    def __str__(self) -> str:
        return str(_current().this())

    def __html__(self) -> str:
        return str(self)

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(_current().this(), attr)


class RenderContext:
    """Per-node rendering state; also the `render_ctx` handed to context functions."""

    def __init__(self, renderer: "Renderer", node: Node, relation_exists: Callable[[str], bool],
                 full_refresh: bool = False):
        self.renderer = renderer
        self.project = renderer.project
        self.node = node
        self.relation_exists = relation_exists
        self.full_refresh = full_refresh
        self.depends_on: list[str] = []
        self.sentinel_targets: dict[str, str] = {}
        self.config_calls: dict[str, Any] = {}
        self.fingerprint_extras: list[str] = []
        self.prerequisites: dict[str, Callable] = {}
        self.saw_incremental = False  # is_incremental() answered True during this render

    def where(self) -> str:
        return str(self.node.path or self.node.unique_id)

    def _sentinel_for(self, unique_id: str) -> str:
        sentinel = f"__qwh_rel_{len(self.sentinel_targets)}__"
        self.sentinel_targets[sentinel] = unique_id
        return sentinel

    def _relation(self, target: Node, record: bool = True) -> Relation:
        if record and target.unique_id not in self.depends_on:
            self.depends_on.append(target.unique_id)
        return Relation(self._sentinel_for(target.unique_id), target.schema,
                        target.identifier or target.name, target.name)

    def ref(self, *names, **kwargs) -> Relation:
        if not names:
            raise RenderError(f"{self.where()}: ref() needs a model name")
        name = str(names[-1])  # ref('package', 'model') and ref('model') both work
        target = self.renderer.lookup.get(name)
        if target is None:
            raise RenderError(f"{self.where()}: ref('{name}') names no model or seed in this project")
        if target.unique_id == self.node.unique_id:
            raise RenderError(f"{self.where()}: model '{name}' refs itself; use {{{{ this }}}}")
        return self._relation(target)

    def source(self, source_name, table_name) -> Relation:
        target = self.renderer.lookup.get(f"{source_name}.{table_name}")
        if target is None or target.kind != SOURCE:
            raise RenderError(f"{self.where()}: source('{source_name}', '{table_name}') is not declared "
                              f"in project.yml or a models YAML file")
        return self._relation(target)

    def this(self) -> Relation:
        return self._relation(self.node, record=False)

    def var(self, name, default=_MISSING):
        vars_ = self.project.vars
        if name in vars_:
            return mark_var_value(vars_[name])
        if default is _MISSING:
            raise RenderError(f"{self.where()}: required var '{name}' is not set (project.yml vars: or --vars)")
        return mark_var_value(default)

    def is_incremental(self) -> bool:
        config = {**self.node.config, **self.config_calls}
        answer = (config.get("materialized") == "incremental" and not self.full_refresh
                  and self.relation_exists(self.node.identifier or self.node.name))
        self.saw_incremental = self.saw_incremental or answer
        return answer

    def add_fingerprint(self, text) -> None:
        self.fingerprint_extras.append(str(text))

    def add_prerequisite(self, key: str, fn: Callable) -> None:
        self.prerequisites[str(key)] = fn


def _current() -> RenderContext:
    ctx = _CURRENT.get()
    if ctx is None:
        raise RenderError("ref()/source()/var()/this are only available while rendering a node")
    return ctx


def _finalize(value):
    # Values that came from var() are data: print them as SQL literals, never as code.
    if is_var_value(value):
        return sql_literal(value)
    if value is None:
        return ""
    return value


def _raise_compiler_error(message):
    raise RenderError(str(message))


def _bind(fn: Callable) -> Callable:
    def call(*args, **kwargs):
        return fn(_current(), *args, **kwargs)
    call.__name__ = getattr(fn, "__name__", "context_function")
    return call


def rewrite_test_blocks(text: str) -> str:
    """dbt's `{% test name(args) %}` generic-test blocks become macros named `test_name`."""
    text = _TEST_BLOCK_RE.sub(lambda m: "{%" + m.group(1) + " macro test_" + m.group(2) + "(", text)
    return _ENDTEST_RE.sub(lambda m: "{%" + m.group(1) + " endmacro " + m.group(2) + "%}", text)


class Renderer:
    """Holds the project's environment: macros and docs loaded once, nodes rendered many times."""

    def __init__(self, project, lookup: dict[str, Node]):
        self.project = project
        self.lookup = lookup
        self.docs: dict[str, str] = {}
        self.macros: dict[str, Any] = {}
        self.macro_files: dict[str, str] = {}
        self._sources: dict[str, tuple[str, str]] = {}
        self.env = SandboxedEnvironment(loader=jinja2.FunctionLoader(self._load_source),
                                        undefined=jinja2.StrictUndefined, finalize=_finalize,
                                        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
                                        keep_trailing_newline=True, autoescape=False)
        self._install_globals()
        self._load_docs()
        self._load_macros()

    # -- environment ---------------------------------------------------------------------------
    def _install_globals(self) -> None:
        env = self.env
        env.filters.update(sql_literal=sql_literal, sql_identifier=sql_identifier, sql_number=sql_number)
        for name, fn in _CONTEXT_FUNCTIONS.items():
            env.globals[name] = _bind(fn)
        env.globals.update(
            ref=lambda *a, **k: _current().ref(*a, **k),
            source=lambda s, t: _current().source(s, t),
            var=lambda name, default=_MISSING: _current().var(name, default),
            is_incremental=lambda: _current().is_incremental(),
            config=_ConfigProxy(), this=_ThisProxy(), doc=self.doc,
            sql_literal=sql_literal, sql_identifier=sql_identifier, sql_number=sql_number,
            zip=zip, enumerate=enumerate, log=lambda *a, **k: "",
            exceptions={"raise_compiler_error": _raise_compiler_error},
            target={"name": "dev", "type": "duckdb", "schema": "main", "profile_name": self.project.name},
            project_name=self.project.name,
        )

    def _load_source(self, name: str):
        if name in self._sources:
            text, filename = self._sources[name]
            return text, filename, lambda: True
        return None

    def add_template(self, name: str, text: str, filename: str) -> None:
        self._sources[name] = (text, filename)

    def _files(self, roots: list[Path], suffix: str) -> list[Path]:
        found = []
        for root in roots:
            if root.is_dir():
                found.extend(p for p in root.rglob(f"*{suffix}") if p.is_file())
        return sorted(set(found))

    def _load_docs(self) -> None:
        for path in self._files(self.project.docs_paths, ".md"):
            for name, body in _DOCS_RE.findall(path.read_text(encoding="utf-8")):
                self.docs[name] = body.strip()

    def _load_macros(self) -> None:
        for path in self._files(self.project.macro_paths, ".sql"):
            rel = str(path.relative_to(self.project.root))
            text = rewrite_test_blocks(path.read_text(encoding="utf-8"))
            self.add_template(rel, text, rel)
            try:
                # shared=True: the module resolves names in env.globals itself (live) rather than
                # in a snapshot taken now, so a macro can call macros of files loaded after it.
                module = self.env.get_template(rel).make_module(vars=self.env.globals, shared=True)
            except jinja2.TemplateSyntaxError as exc:
                raise RenderError(f"{rel}:{exc.lineno}: macro syntax error: {exc.message}") from None
            except Exception as exc:  # noqa: BLE001 - report any failure with its file
                raise RenderError(f"{rel}: cannot load macros: {exc}") from None
            for attr in dir(module):
                macro = getattr(module, attr)
                if isinstance(macro, jinja2.runtime.Macro):
                    if attr in self.macros:
                        raise RenderError(f"{rel}: macro '{attr}' is also defined in {self.macro_files[attr]}")
                    self.macros[attr] = macro
                    self.macro_files[attr] = rel
        # Macros resolve each other (and ref/var) through the live globals at call time.
        protected = {"ref", "source", "var", "config", "this", "is_incremental"}
        for name, macro in self.macros.items():
            if name not in protected:
                self.env.globals[name] = macro

    def doc(self, name: str) -> str:
        if name not in self.docs:
            raise RenderError(f"doc('{name}'): no {{% docs {name} %}} block in any .md file")
        return self.docs[name]

    # -- rendering -----------------------------------------------------------------------------
    def render_node(self, node: Node, relation_exists: Callable[[str], bool] = lambda _n: False,
                    full_refresh: bool = False, text: str | None = None) -> RenderContext:
        ctx = RenderContext(self, node, relation_exists, full_refresh)
        name = str(node.path or node.unique_id)
        self.add_template(name, node.raw if text is None else text, name)
        ctx.rendered = self._render(name, ctx)
        return ctx

    def _render(self, name: str, ctx: RenderContext) -> str:
        token = _CURRENT.set(ctx)
        try:
            return self.env.get_template(name).render()
        except RenderError as exc:
            raise RenderError(_with_location(str(exc), name, exc)) from None
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"{exc.filename or name}:{exc.lineno}: syntax error: {exc.message}") from None
        except jinja2.exceptions.SecurityError as exc:
            raise RenderError(f"{_location(name, exc)}: blocked by the template sandbox: {exc}") from None
        except jinja2.UndefinedError as exc:
            raise RenderError(f"{_location(name, exc)}: {exc.message}") from None
        except Exception as exc:  # noqa: BLE001 - any template failure names the file and line
            raise RenderError(f"{_location(name, exc)}: {type(exc).__name__}: {exc}") from None
        finally:
            _CURRENT.reset(token)

    def render_string(self, text: str, node: Node) -> str:
        """Render free text (e.g. a YAML description using doc()) in the context of `node`."""
        if "{" not in text:
            return text
        ctx = RenderContext(self, node, lambda _n: False)
        token = _CURRENT.set(ctx)
        try:
            return self.env.from_string(text).render()
        except Exception as exc:  # noqa: BLE001
            raise RenderError(f"{node.path or node.unique_id}: cannot render {text[:60]!r}: {exc}") from None
        finally:
            _CURRENT.reset(token)


def _location(name: str, exc: BaseException) -> str:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == name:
            line = frame.lineno
    return f"{name}:{line}" if line else name


def _with_location(message: str, name: str, exc: BaseException) -> str:
    loc = _location(name, exc)
    return message if message.startswith(name) and loc == name else (
        message if message.startswith(loc) else f"{loc}: {message}" if not message.startswith(name) else message)


def substitute_relations(sql: str, targets: dict[str, str], relation_of: Callable[[str], str]) -> str:
    """Replace sentinels with relation text; `relation_of(unique_id)` decides what each one is."""
    return SENTINEL_RE.sub(lambda m: relation_of(targets[m.group(0)]), sql)


_ = (MODEL, SEED)  # node kinds are re-exported for context-function authors
