"""The cache proof's two checks: one proof (two rebuilds of edited copies) feeds both.

How the proof works is in :mod:`grader.cache_probe`.
"""

from __future__ import annotations

from grader.cache_probe import CacheProof, prove_cache
from grader.checks.base import EngineContext, Needs, Verdict, check


def _proof(ctx: EngineContext) -> CacheProof:
    return prove_cache(
        ctx.session,
        ctx.workspace,
        ctx.dockerfile,
        ctx.spec,
        ctx.builder,
        ctx.progress.build_event,
    )


@check(
    "cache_app_edit",
    "Editing the app code reuses the cached dependency layer",
    Needs.REBUILD,
    8,
)
def cache_app_edit(ctx: EngineContext) -> Verdict:
    return ctx.once(_proof).app_edit


@check(
    "cache_requirements_edit",
    "Editing requirements.txt reinstalls the dependencies",
    Needs.REBUILD,
    5,
)
def cache_requirements_edit(ctx: EngineContext) -> Verdict:
    return ctx.once(_proof).requirements_edit
