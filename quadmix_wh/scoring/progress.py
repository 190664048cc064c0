"""A rich progress bar for scoring runs: documents done, docs/s and ETA (on stderr)."""
from __future__ import annotations

import os
from contextlib import contextmanager


@contextmanager
def scoring_progress(label: str, total: int):
    """Yields `advance(n)`; silent when QUADMIX_WH_PROGRESS=0 or there is nothing to do."""
    if total == 0 or os.environ.get("QUADMIX_WH_PROGRESS", "1") == "0":
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} docs/s"), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(label, total=total, rate="-")

        def advance(n: int) -> None:
            progress.advance(task, n)
            speed = progress.tasks[task].speed
            progress.update(task, rate=f"{speed:,.0f}" if speed else "-")
        yield advance
