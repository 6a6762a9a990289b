"""Renderers: each turns a GradeReport into text for one audience; none changes it."""

from __future__ import annotations

from collections.abc import Callable

from grader.report import classroom, gradescope, junit, markdown, prairielearn, sarif, terminal
from grader.report import json as json_report
from grader.results import GradeReport

__all__ = ["RENDERERS", "render"]

RENDERERS: dict[str, Callable[[GradeReport], str]] = {
    "text": terminal.render,
    "json": json_report.render,
    "markdown": markdown.render,
    "junit": junit.render,
    # The LMS and code-scanning formats.
    "gradescope": gradescope.render,
    "prairielearn": prairielearn.render,
    "classroom": classroom.render,
    "sarif": sarif.render,
}


def render(report: GradeReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
