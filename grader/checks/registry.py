"""The one registry: every built-in check, found in its family's module.

Families are listed once, in the order their checks run within a stage (pytest's
``default_plugins`` habit); a family module declares its checks with
:func:`~grader.checks.base.check` and nothing else needs to know their ids.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from grader.checks import (
    build,
    cache,
    dockerfile_rules,
    health,
    image_size,
    job,
    runtime_probes,
    secrets,
    starter_files,
    volume,
)
from grader.checks.base import Check, Needs

__all__ = ["CHECKS", "KNOWN_CHECKS", "checks_needing"]

FAMILIES: tuple[ModuleType, ...] = (
    starter_files,
    dockerfile_rules,
    build,
    runtime_probes,
    health,
    volume,  # last among the container checks: it re-creates the container
    job,
    cache,
    secrets,
    image_size,
)


def _collect(families: tuple[ModuleType, ...]) -> dict[str, Check[Any]]:
    found: dict[str, Check[Any]] = {}
    for family in families:
        for value in vars(family).values():
            if isinstance(value, Check):
                if value.id in found and found[value.id] is not value:
                    raise RuntimeError(f"check id {value.id!r} is declared twice")
                found[value.id] = value
    return found


CHECKS: dict[str, Check[Any]] = _collect(FAMILIES)
"""Check id -> check, in the order checks run within a stage."""
KNOWN_CHECKS = frozenset(CHECKS)


def checks_needing(needs: Needs) -> list[Check[Any]]:
    return [c for c in CHECKS.values() if c.needs is needs]
