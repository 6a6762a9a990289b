"""The report as JSON: the contract other tools (CI, class grading) read."""

from __future__ import annotations

import json
from typing import Any

from grader.results import GradeReport

__all__ = ["dumps", "render"]


def dumps(data: Any) -> str:
    """JSON as every file the grader writes has it: indented, UTF-8 as it is, a last newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render(report: GradeReport) -> str:
    return dumps(report.to_dict())
