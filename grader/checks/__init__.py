"""The checks: one object per check, one module per family, one registry.

A check (:class:`~grader.checks.base.Check`) carries its id, title, what it needs
(:class:`~grader.checks.base.Needs`), its default points and ``run(context) ->
Verdict``. Families: ``starter_files``, ``dockerfile_rules`` (the static rules),
``build``, ``runtime_probes``, ``volume``, ``cache``, ``secrets``, ``image_size``;
:mod:`grader.checks.registry` finds them. The pipeline (:mod:`grader.api`) walks the
stages and runs the checks each stage can feed, under one fault policy
(:mod:`grader.checks.runner`).
"""

from __future__ import annotations

from typing import Any

from grader.checks.base import Check, EngineContext, FilesContext, Needs, StaticContext, Verdict

__all__ = [
    "CHECKS",
    "KNOWN_CHECKS",
    "Check",
    "EngineContext",
    "FilesContext",
    "Needs",
    "StaticContext",
    "Verdict",
]


def __getattr__(name: str) -> Any:
    # The registry imports every family (and through them the engine): only on demand,
    # so that `from grader.checks.base import Verdict` stays light and free of cycles.
    if name in {"CHECKS", "KNOWN_CHECKS"}:
        from grader.checks import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'grader.checks' has no attribute {name!r}")
