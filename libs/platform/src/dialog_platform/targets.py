"""Which components a `dialog run` serves, known from their entry points without importing them.

Light on purpose: `dialog run` decides what to start before it imports the components.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points

__all__ = ["ENTRY_POINT_GROUP", "component_names", "resolve_targets"]

ENTRY_POINT_GROUP = "dialog.components"


def component_names() -> list[str]:
    """The installed components' names, from their entry points, without importing them."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def resolve_targets(spec: str, available: Iterable[str]) -> list[str]:
    names = list(available)
    if spec.strip() in ("", "all"):
        return names
    wanted = [t.strip() for t in spec.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in names]
    if unknown:
        raise ValueError(f"unknown target(s) {', '.join(unknown)}; known: all, {', '.join(names)}")
    return wanted
