"""The engine hook: reject invalid sampling parameters before `run`/`build` builds any table."""
from __future__ import annotations

from .params import ParamsError, load_rows

PARAMS_MODEL = "sampling_params"


def _has_params_model(project) -> bool:
    return any(path.stem == PARAMS_MODEL for root in project.model_paths if root.is_dir()
               for path in root.rglob(f"{PARAMS_MODEL}.*"))


def validate_project_params(project, con) -> None:
    """Engine validator: load and check the parameters the sampling_params model would build."""
    if not _has_params_model(project):
        return
    settings = project.vars.get("quadmix") or {}
    try:
        load_rows(settings, project.root, con)
    except ParamsError as exc:
        raise ParamsError(f"sampling parameters: {exc}") from None


def register() -> None:
    try:
        from ..runner import register_validator  # noqa: PLC0415 - the engine is optional for API users
    except ImportError:
        return
    register_validator(validate_project_params)
