"""dbt-style node selection: `name`, `name+`, `+name`, `tag:x`, `path:models/x`, `source:s`,
glob names (`stg_*`), several space-separated selectors, and `--exclude`."""
from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath

from .nodes import TEST


class SelectionError(Exception):
    """A selector matched nothing or is malformed."""


def _split(selectors) -> list[str]:
    tokens = []
    for item in selectors or ():
        tokens.extend(str(item).split())
    return tokens


def _match_method(plan, method: str, value: str) -> set[str]:
    nodes = plan.nodes.values()
    if method == "tag":
        return {n.unique_id for n in nodes if value in n.tags}
    if method == "path":
        want = PurePosixPath(value.rstrip("/"))
        return {n.unique_id for n in nodes if n.path and n.kind != "source"
                and (PurePosixPath(n.path.as_posix()) == want or want in PurePosixPath(n.path.as_posix()).parents
                     or fnmatch.fnmatch(n.path.as_posix(), value))}
    if method == "source":
        return {n.unique_id for n in nodes if n.kind == "source"
                and (n.name == value or n.name.split(".")[0] == value)}
    if method in ("config.materialized", "materialized"):
        return {n.unique_id for n in nodes if n.materialized == value}
    if method in ("resource_type", "kind"):
        return {n.unique_id for n in nodes if n.kind == value}
    raise SelectionError(f"unknown selector method '{method}:' (use tag:, path:, source:, materialized:)")


def _match_token(plan, token: str) -> set[str]:
    up, down = token.startswith("+"), token.endswith("+")
    core = token.strip("+")
    if not core:
        raise SelectionError(f"empty selector '{token}'")
    if ":" in core:
        method, value = core.split(":", 1)
        matched = _match_method(plan, method, value)
    else:
        matched = {n.unique_id for n in plan.nodes.values()
                   if fnmatch.fnmatchcase(n.name, core) or n.unique_id == core}
    if not matched:
        raise SelectionError(f"selector '{token}' matches no node")
    result = set(matched)
    for uid in matched:
        if up:
            result |= plan.graph.ancestors(uid)
        if down:
            result |= plan.graph.descendants(uid)
    return result


def select_nodes(plan, select=None, exclude=None) -> set[str]:
    """unique_ids chosen by the selectors; tests come along with the nodes they test."""
    tokens = _split(select)
    chosen = set(plan.nodes) if not tokens else set().union(*(_match_token(plan, t) for t in tokens))
    for token in _split(exclude):
        try:
            chosen -= _match_token(plan, token)
        except SelectionError:
            continue  # excluding something absent is not an error
    excluded = set().union(*(_match_token_quiet(plan, t) for t in _split(exclude))) if exclude else set()
    for uid, node in plan.nodes.items():
        if node.kind == TEST and uid not in excluded and any(d in chosen for d in node.depends_on):
            attached = node.test.get("attached_to")
            if attached is None or attached in chosen:
                chosen.add(uid)
    return chosen


def _match_token_quiet(plan, token: str) -> set[str]:
    try:
        return _match_token(plan, token)
    except SelectionError:
        return set()
