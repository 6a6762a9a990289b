"""The ``builds`` check, and what it says about the build context: too large to send,
or symlinks that could not be sent. The build itself is the pipeline's build stage
(:mod:`grader.build`); this check reports on it."""

from __future__ import annotations

from dataclasses import replace

from grader.checks.base import EngineContext, Needs, Verdict, check
from grader.results import CheckStatus, Finding
from grader.spec import Limits, MiB
from grader.workspace import Workspace


@check("builds", "The image builds", Needs.BUILD, 10)
def builds(ctx: EngineContext) -> Verdict:
    assert ctx.build is not None
    verdict = ctx.build.verdict
    if ctx.builder_note:
        verdict = replace(verdict, message=verdict.message + ctx.builder_note)
    return with_symlink_note(verdict, ctx.workspace)


def context_refused(workspace: Workspace, limits: Limits) -> Verdict | None:
    """A build context over the limit is never sent: the failed ``builds`` verdict."""
    if workspace.context_bytes <= limits.max_context_mb * MiB:
        return None
    largest = ", ".join(f"{name} ({size / MiB:.1f} MB)" for name, size in workspace.largest_files)
    return Verdict.failed(
        f"The build context is {workspace.context_bytes / MiB:.0f} MB, over the limit of "
        f"{limits.max_context_mb:.0f} MB; it was not sent to the engine. Largest: {largest}.",
        "Exclude data, models you do not serve, virtualenvs and caches in .dockerignore.",
        file=".dockerignore",
    )


def with_symlink_note(verdict: Verdict, workspace: Workspace) -> Verdict:
    """Symlinks that point outside the folder are never sent: say so where it matters."""
    links = workspace.outside_symlinks
    if not links:
        return verdict
    one = len(links) == 1
    note = (
        f"{', '.join(links)} {'is a symlink' if one else 'are symlinks'} to files outside the "
        f"exercise folder and {'was' if one else 'were'} not sent to the engine; copy the real "
        "file into the folder instead."
    )
    findings = (*verdict.findings, *(Finding(note, None, link, "warning") for link in links))
    if verdict.status is CheckStatus.FAILED:
        return replace(verdict, hint=f"{note} {verdict.hint}", findings=findings)
    return replace(verdict, findings=findings)
