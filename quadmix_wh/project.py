"""Loading a project: `project.yml` (or a dbt `dbt_project.yml`), paths, vars, sources, folder configs."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_FILE = "project.yml"
DBT_PROJECT_FILE = "dbt_project.yml"

# Keys that are configs (not sub-folder names) even when written without the dbt `+` prefix.
KNOWN_CONFIG_KEYS = {
    "materialized", "tags", "enabled", "unique_key", "schema", "alias", "docs", "persist_docs",
    "pre-hook", "post-hook", "pre_hook", "post_hook", "severity", "description", "meta", "grants",
    "incremental_strategy", "on_schema_change", "full_refresh", "column_types", "quote_columns",
    "delimiter", "database", "contract", "store_failures", "where", "limit", "warn_if", "error_if",
}


class ProjectError(Exception):
    """A project file is missing or malformed; the message names the file and the problem."""


@dataclass
class Project:
    root: Path
    config: dict
    vars: dict = field(default_factory=dict)
    is_dbt: bool = False

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.root.name))

    @property
    def project_file(self) -> Path:
        return self.root / (DBT_PROJECT_FILE if self.is_dbt else PROJECT_FILE)

    def _paths(self, key: str, default: list[str]) -> list[Path]:
        value = self.config.get(key, default)
        if isinstance(value, str):
            value = [value]
        return [self.root / p for p in value]

    @property
    def model_paths(self) -> list[Path]:
        return self._paths("model-paths", ["models"])

    @property
    def macro_paths(self) -> list[Path]:
        return self._paths("macro-paths", ["macros"])

    @property
    def seed_paths(self) -> list[Path]:
        return self._paths("seed-paths", ["seeds"])

    @property
    def test_paths(self) -> list[Path]:
        # dbt projects keep singular tests in tests/; ours use data_tests/ so they never mix
        # with the repository's pytest folder.
        return self._paths("test-paths", ["tests"] if self.is_dbt else ["data_tests"])

    @property
    def docs_paths(self) -> list[Path]:
        return self._paths("docs-paths", [str(p.relative_to(self.root)) for p in
                                          self.model_paths + self.macro_paths])

    @property
    def target_path(self) -> Path:
        return self.root / str(self.config.get("target-path", "target"))

    @property
    def warehouse_settings(self) -> dict:
        return dict(self.config.get("warehouse") or {})

    @property
    def warehouse_path(self) -> Path:
        raw = self.warehouse_settings.get("path", "quadmix.duckdb")
        path = Path(str(raw))
        return path if path.is_absolute() else self.root / path

    @property
    def threads(self) -> int | None:
        value = self.warehouse_settings.get("threads")
        return int(value) if value is not None else None

    @property
    def memory_limit(self) -> str | None:
        value = self.warehouse_settings.get("memory_limit")
        return str(value) if value is not None else None

    @property
    def temp_directory(self) -> Path:
        """Where DuckDB spills when a query outgrows memory_limit: `warehouse.temp_directory`,
        by default a folder beside the warehouse file (never the caller's working directory)."""
        raw = self.warehouse_settings.get("temp_directory")
        if raw:
            path = Path(str(raw))
            return path if path.is_absolute() else self.root / path
        return self.warehouse_path.with_name(self.warehouse_path.name + ".tmp")

    @property
    def tokenizer_path(self) -> Path | None:
        raw = self.config.get("tokenizer")
        if not raw:
            return None
        path = Path(str(raw))
        return path if path.is_absolute() else self.root / path

    def with_overrides(self, vars_override: dict | None = None, threads: int | None = None) -> "Project":
        config = copy.deepcopy(self.config)
        if threads is not None:
            config.setdefault("warehouse", {})
            config["warehouse"] = dict(config["warehouse"] or {}, threads=threads)
        merged = merge_vars(self.vars, vars_override or {})
        return Project(root=self.root, config=config, vars=merged, is_dbt=self.is_dbt)

    def folder_config(self, resource: str, rel_parts: tuple[str, ...]) -> dict:
        """Config for a resource (models/seeds/tests) in the folder `rel_parts`, dbt style."""
        tree = self.config.get(resource) or {}
        if not isinstance(tree, dict):
            raise ProjectError(f"{self.project_file}: '{resource}:' must be a mapping")
        if self.name in tree and isinstance(tree[self.name], dict):
            merged = _configs_at(tree, ())  # top-level (+key) defaults outside the project name
            return merge_configs(merged, _walk_folder_configs(tree[self.name], rel_parts))
        return _walk_folder_configs(tree, rel_parts)


def merge_vars(base: dict, override: dict) -> dict:
    """Deep-merge `override` into a copy of `base` (mappings merge, everything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_vars(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_configs(base: dict, override: dict) -> dict:
    """dbt semantics: tags accumulate, meta merges, everything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        if key == "tags":
            tags = list(out.get("tags") or [])
            for tag in ([value] if isinstance(value, str) else list(value or [])):
                if tag not in tags:
                    tags.append(tag)
            out["tags"] = tags
        elif key == "meta" and isinstance(value, dict):
            out["meta"] = {**(out.get("meta") or {}), **value}
        else:
            out[key] = value
    return out


def _configs_at(tree: dict, _parts: tuple) -> dict:
    found = {}
    for key, value in tree.items():
        if key.startswith("+"):
            found[key[1:]] = value
        elif key in KNOWN_CONFIG_KEYS:
            found[key] = value
    return merge_configs({}, found)


def _walk_folder_configs(tree: dict, rel_parts: tuple[str, ...]) -> dict:
    config = _configs_at(tree, ())
    node = tree
    for part in rel_parts:
        child = node.get(part) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            break
        config = merge_configs(config, _configs_at(child, ()))
        node = child
    return config


def parse_vars_option(text: str | None) -> dict:
    """`--vars` accepts a YAML or JSON mapping."""
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProjectError(f"--vars: not valid YAML/JSON: {exc}") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProjectError(f"--vars: expected a mapping like '{{key: value}}', got {json.dumps(value)}")
    return value


def load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ProjectError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read: {exc.strerror}") from exc


def load_project(project_dir: str | Path = ".", vars_override: dict | None = None,
                 threads: int | None = None) -> Project:
    root = Path(project_dir).resolve()
    ours, dbt = root / PROJECT_FILE, root / DBT_PROJECT_FILE
    if ours.is_file():
        path, is_dbt = ours, False
    elif dbt.is_file():
        path, is_dbt = dbt, True
    else:
        raise ProjectError(f"{root}: no {PROJECT_FILE} (or {DBT_PROJECT_FILE}) found; "
                           f"pass --project-dir or run `quadmix-wh init DIR`")
    config = load_yaml(path) or {}
    if not isinstance(config, dict):
        raise ProjectError(f"{path}: expected a mapping at the top level")
    raw_vars = config.get("vars") or {}
    if not isinstance(raw_vars, dict):
        raise ProjectError(f"{path}: 'vars:' must be a mapping")
    project = Project(root=root, config=config, vars=copy.deepcopy(raw_vars), is_dbt=is_dbt)
    return project.with_overrides(vars_override, threads)
