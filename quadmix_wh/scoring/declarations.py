"""Scorer declarations: one YAML file per scorer under the project's `udfs/` folder(s).

A declaration names the scorer, the loader kind, the checkpoint (relative to the project root)
and run settings. Outputs are fixed by the loader kind; a declaration may list them, and then
they must match, so a typo fails at load time rather than in the middle of a run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_SETTINGS = {"batch_size": 32, "device": "auto", "max_length": 512, "chunk_size": 8192}
# Loader-specific settings (see each loader's docstring); anything else is a typo.
LOADER_SETTINGS = {"positive_label", "prompt", "yes_token"}
TOP_LEVEL_KEYS = {"name", "loader", "checkpoint", "settings", "outputs", "description"}
DEVICES = ("auto", "cpu", "cuda")
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class ScorerDeclarationError(Exception):
    """A scorer declaration is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class ScorerSpec:
    name: str
    loader: str
    checkpoint: Path
    settings: dict = field(default_factory=dict, hash=False, compare=False)
    source_file: Path | None = None
    description: str = field(default="", compare=False)

    @property
    def batch_size(self) -> int:
        return int(self.settings["batch_size"])

    @property
    def chunk_size(self) -> int:
        return int(self.settings["chunk_size"])

    @property
    def max_length(self) -> int:
        return int(self.settings["max_length"])

    @property
    def device(self) -> str:
        return str(self.settings["device"])


def udf_dirs(project) -> list[Path]:
    raw = (getattr(project, "config", None) or {}).get("udf-paths", ["udfs"])
    if isinstance(raw, str):
        raw = [raw]
    return [Path(project.root) / p for p in raw]


def load_declarations(project) -> dict[str, ScorerSpec]:
    """All scorer declarations of a project, by name (files sorted, so the order is stable)."""
    specs: dict[str, ScorerSpec] = {}
    for folder in udf_dirs(project):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.y*ml")):
            spec = parse_declaration(path, Path(project.root))
            if spec.name in specs:
                raise ScorerDeclarationError(
                    f"{path}: scorer '{spec.name}' is already declared in {specs[spec.name].source_file}")
            specs[spec.name] = spec
    return specs


def parse_declaration(path: Path, root: Path) -> ScorerSpec:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScorerDeclarationError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ScorerDeclarationError(f"{path}: expected a mapping with name, loader, checkpoint")
    return spec_from_mapping(raw, root, path)


def spec_from_mapping(raw: dict, root: Path, path: Path | None = None) -> ScorerSpec:
    where = str(path) if path else "scorer declaration"
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise ScorerDeclarationError(f"{where}: unknown key(s) {unknown}; expected {sorted(TOP_LEVEL_KEYS)}")
    name = _required(raw, "name", where)
    if not set(name) <= NAME_CHARS or not name[0].isalpha():
        raise ScorerDeclarationError(
            f"{where}: name '{name}' must be lower-case letters, digits and '_' (it becomes part of a table name)")
    loader = _required(raw, "loader", where)
    from .loaders import LOADERS  # late import: loaders import torch lazily but name the kinds here
    if loader not in LOADERS:
        raise ScorerDeclarationError(f"{where}: unknown loader '{loader}'; expected one of {sorted(LOADERS)}")
    checkpoint = Path(_required(raw, "checkpoint", where))
    checkpoint = checkpoint if checkpoint.is_absolute() else Path(root) / checkpoint
    settings = _settings(raw.get("settings") or {}, where)
    spec = ScorerSpec(name=name, loader=loader, checkpoint=checkpoint, settings=settings, source_file=path,
                      description=str(raw.get("description") or "").strip())
    _check_outputs(raw.get("outputs"), spec, where)
    return spec


def _required(raw: dict, key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScorerDeclarationError(f"{where}: '{key}' is required and must be a non-empty string")
    return value.strip()


def _settings(raw: dict, where: str) -> dict:
    if not isinstance(raw, dict):
        raise ScorerDeclarationError(f"{where}: 'settings' must be a mapping")
    unknown = sorted(set(raw) - set(DEFAULT_SETTINGS) - LOADER_SETTINGS)
    if unknown:
        raise ScorerDeclarationError(f"{where}: unknown setting(s) {unknown}; expected some of "
                                     f"{sorted(set(DEFAULT_SETTINGS) | LOADER_SETTINGS)}")
    settings = {**DEFAULT_SETTINGS, **raw}
    for key in ("batch_size", "max_length", "chunk_size"):
        value = settings[key]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ScorerDeclarationError(f"{where}: settings.{key} must be a positive integer, got {value!r}")
    if settings["device"] not in DEVICES:
        raise ScorerDeclarationError(f"{where}: settings.device must be one of {DEVICES}, got {settings['device']!r}")
    return settings


def _check_outputs(declared, spec: ScorerSpec, where: str) -> None:
    if declared is None:
        return
    from .loaders import output_types
    actual = output_types(spec)
    if not isinstance(declared, dict):
        raise ScorerDeclarationError(f"{where}: 'outputs' must map output name to SQL type")
    normalized = {str(k): str(v).upper() for k, v in declared.items()}
    if normalized != actual:
        raise ScorerDeclarationError(
            f"{where}: outputs {normalized} do not match what loader '{spec.loader}' produces: {actual}")
