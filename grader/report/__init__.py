"""Renderers: each turns a GradeReport into text for one audience; none changes it."""

from __future__ import annotations

from collections.abc import Callable

from grader.report import json as json_report
from grader.report import junit, markdown, terminal
from grader.results import GradeReport

__all__ = ["RENDERERS", "render"]

RENDERERS: dict[str, Callable[[GradeReport], str]] = {
    "text": terminal.render,
    "json": json_report.render,
    "markdown": markdown.render,
    "junit": junit.render,
}


def render(report: GradeReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
