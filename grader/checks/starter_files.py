"""The starter project's own files: the learner writes the Dockerfile, not the app."""

from __future__ import annotations

from grader.checks.base import FilesContext, Needs, Verdict, check


@check("starter_unchanged", "Only the files you were meant to write were changed", Needs.FILES, 0)
def starter_unchanged(ctx: FilesContext) -> Verdict:
    changed = ctx.workspace.changed_starter_files
    if changed:
        return Verdict.failed(
            f"You changed files of the starter project: {', '.join(changed)}. The grader uses "
            "your versions, but the exercise is about the Dockerfile only.",
            "Restore them (`git checkout -- FILE`) unless your teacher asked for the change.",
            file=changed[0],
        )
    return Verdict.passed("The starter project's files are as handed out.")
