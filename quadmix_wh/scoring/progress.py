"""Progress of a scoring run on stderr: documents done, documents/s and time left.

On a terminal, a rich progress bar (it nests under the `run` command's own bar); elsewhere (CI
logs, pipes) one plain line per committed chunk. QUADMIX_WH_PROGRESS=0 silences both.
"""
from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager


class _Plain:
    def __init__(self, label: str, total: int):
        self.label, self.total, self.done, self.started = label, total, 0, time.perf_counter()

    def advance(self, n: int) -> None:
        self.done += n

    def committed(self) -> None:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else float("nan")
        print(f"{self.label}: {self.done}/{self.total} documents committed, {rate:,.0f} docs/s, "
              f"{left:.0f}s left", file=sys.stderr, flush=True)


class _Silent:
    def advance(self, n: int) -> None:
        pass

    def committed(self) -> None:
        pass


@contextmanager
def scoring_progress(label: str, total: int):
    """Yields an object with `advance(n)` (documents done) and `committed()` (a chunk is stored)."""
    if total == 0 or os.environ.get("QUADMIX_WH_PROGRESS", "1") == "0":
        yield _Silent()
        return
    if not sys.stderr.isatty():
        yield _Plain(label, total)
        return
    with _rich_bar(label, total) as bar:
        yield bar


@contextmanager
def _rich_bar(label: str, total: int):
    from rich.console import Console
    from rich.errors import LiveError
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} docs/s"), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    progress = Progress(*columns, console=Console(stderr=True), transient=False)
    try:
        progress.start()
    except LiveError:  # rich < 14 cannot nest live displays: fall back to plain lines
        yield _Plain(label, total)
        return
    try:
        task = progress.add_task(label, total=total, rate="-")

        class _Bar:
            def advance(self, n: int) -> None:
                progress.advance(task, n)
                speed = progress.tasks[task].speed
                progress.update(task, rate=f"{speed:,.0f}" if speed else "-")

            def committed(self) -> None:
                pass
        yield _Bar()
    finally:
        progress.stop()
