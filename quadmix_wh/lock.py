"""One writer at a time: a lock file next to the warehouse (DuckDB itself allows one writer process)."""
from __future__ import annotations

import contextlib

import filelock


class LockTimeout(Exception):
    """Another quadmix-wh command holds the warehouse."""


@contextlib.contextmanager
def warehouse_lock(project, timeout: float = 0.0):
    path = project.warehouse_path.with_name(project.warehouse_path.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=max(timeout, 0.0))
    except filelock.Timeout:
        raise LockTimeout(f"{project.warehouse_path}: another quadmix-wh command is using this warehouse "
                          f"(lock {path.name}); waited {timeout:g}s. Retry later or pass --lock-timeout SECONDS"
                          ) from None
    try:
        yield
    finally:
        lock.release()
