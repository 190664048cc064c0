"""A scorer's version: its code, its weights (hashes of the checkpoint files) and the settings
that change its values. The version names the score-cache table and enters the fingerprint of
every model that calls it, so changing a checkpoint rescores and rebuilds what depends on it."""
from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

from .base import require_path

# Settings that change a scorer's values; batch_size, chunk_size and device only change speed.
VALUE_SETTINGS = ("max_length", "positive_label", "prompt", "yes_token")
# Modules whose code decides the values every loader produces.
SHARED_VALUE_MODULES = ("base.py", "textcheck.py", "batching.py", "hf_common.py")

_file_hashes: dict[tuple, str] = {}


def file_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)  # re-hash only files that changed on disk
    if key not in _file_hashes:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _file_hashes[key] = digest.hexdigest()
    return _file_hashes[key]


def checkpoint_hash(path: Path) -> str:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        rel = file.name if file == path else file.relative_to(path).as_posix()
        digest.update(f"{rel}\0{file_sha256(file)}\n".encode())
    return digest.hexdigest()


def code_hash(loader_cls) -> str:
    here = Path(__file__).parent
    sources = [here / name for name in SHARED_VALUE_MODULES] + [Path(inspect.getfile(loader_cls))]
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def scorer_fingerprint(spec) -> str:
    from .loaders import LOADERS
    require_path(spec.checkpoint, "checkpoint", spec)
    payload = {
        "loader": spec.loader,
        "code": code_hash(LOADERS[spec.loader]),
        "weights": checkpoint_hash(spec.checkpoint),
        "settings": {k: spec.settings.get(k) for k in VALUE_SETTINGS},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
