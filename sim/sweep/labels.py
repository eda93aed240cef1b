"""Short case labels from the overridden paths that vary between a sweep's cases."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["labeller"]

OverrideSets = list[tuple[str, str | None, dict[str, Any]]]


def _label(overrides: Mapping[str, Any], paths: list[str]) -> str:
    """Label from ``paths`` (in order), each shortened to the shortest suffix that still
    tells it apart from the other paths, e.g. ``daily_order_limit=20, web.methods.bopis=0.1``."""
    short: dict[str, str] = {}
    for path in paths:
        parts = path.split(".")
        for n in range(1, len(parts) + 1):
            tail = ".".join(parts[-n:])
            if sum(p == tail or p.endswith("." + tail) for p in paths) == 1:
                break
        short[path] = tail
    return ", ".join(f"{short[p]}={overrides[p]}" for p in paths if p in overrides) or "base"


def _varying(combos: list[dict[str, Any]], paths: list[str]) -> list[str]:
    """The paths whose value differs between cases (the ones worth a label)."""
    unset = object()

    def text(value: Any) -> str:
        return "<unset>" if value is unset else json.dumps(value, sort_keys=True, default=str)

    return [p for p in paths if len({text(c.get(p, unset)) for c in combos}) > 1]


def labeller(
    grid: Mapping[str, Any], grid_points: list[dict[str, Any]], sets: OverrideSets
) -> Callable[[dict[str, Any], str | None, dict[str, Any]], str]:
    """A function giving each case a short label from the paths that vary between cases."""
    grid_paths = _varying(grid_points, list(grid))
    set_paths = list(dict.fromkeys(p for _, name, one in sets if not name for p in one))
    set_paths = _varying([one for _, name, one in sets if not name], set_paths)
    if not grid_paths and not set_paths and not any(name for _, name, _ in sets):
        grid_paths, set_paths = list(grid), [p for _, _, one in sets for p in one]

    def label(point: dict[str, Any], name: str | None, one: dict[str, Any]) -> str:
        parts = [_label(point, grid_paths) if grid_paths else ""]
        parts.append(name or (_label(one, set_paths) if set_paths else ""))
        return ", ".join(p for p in parts if p) or "base"

    return label
