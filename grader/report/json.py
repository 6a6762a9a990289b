"""The report as JSON: the contract other tools (CI, class grading) read."""

from __future__ import annotations

import json

from grader.results import GradeReport


def render(report: GradeReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
