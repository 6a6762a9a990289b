"""Renderers: each turns a GradeReport into text for one audience; none changes it.

:data:`FORMATS` is the one list of them: ``grader check --format`` offers its names and
``--reports DIR`` writes each as ``grade.<suffix>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grader.report import classroom, gradescope, junit, markdown, prairielearn, sarif, terminal
from grader.report import html as html_report
from grader.report import json as json_report
from grader.results import GradeReport

__all__ = ["FORMATS", "RENDERERS", "Format", "render"]


@dataclass(frozen=True)
class Format:
    render: Callable[[GradeReport], str]
    suffix: str
    """The file ``--reports`` writes it to: ``grade.<suffix>``."""


FORMATS: dict[str, Format] = {
    "text": Format(terminal.render, "txt"),
    "json": Format(json_report.render, "json"),
    "markdown": Format(markdown.render, "md"),
    "junit": Format(junit.render, "xml"),
    # One self-contained page to open in a browser: the checks and the build's timeline.
    "html": Format(html_report.render, "html"),
    # The LMS and code-scanning formats.
    "gradescope": Format(gradescope.render, "gradescope.json"),
    "prairielearn": Format(prairielearn.render, "prairielearn.json"),
    "classroom": Format(classroom.render, "classroom.json"),
    "sarif": Format(sarif.render, "sarif"),
}
RENDERERS: dict[str, Callable[[GradeReport], str]] = {
    name: fmt.render for name, fmt in FORMATS.items()
}


def render(report: GradeReport, fmt: str) -> str:
    return FORMATS[fmt].render(report)
