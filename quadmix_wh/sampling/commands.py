"""The `quadmix-wh` commands of the sampling part, attached by quadmix_wh.cli."""
from __future__ import annotations


def register(main) -> None:
    """Attach this part's commands to the `quadmix-wh` group."""
