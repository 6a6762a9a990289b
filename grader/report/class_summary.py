"""A class's grades at a glance, as Markdown for a GitHub Actions job summary.

One heading with the counts (passed, needs work, not graded), then one row per student
with the score and the verdict in the words of :mod:`grader.report.markdown`. A student
the grader could not grade says why, so that the instructor knows to grade them again.
"""

from __future__ import annotations

from collections.abc import Mapping

from grader.report.faults import fault_reason, is_fault
from grader.results import GradeReport

__all__ = ["render"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict(report: GradeReport) -> str:
    if is_fault(report):
        return f"⚠️ could not be graded: {fault_reason(report)}"
    return "✅ passed" if report.exit_code == 0 else "❌ needs work"


def render(reports: Mapping[str, GradeReport], title: str, *, shards: int = 1) -> str:
    """The class summary: ``reports`` is student id -> report, in the order to list them."""
    faults = sum(1 for r in reports.values() if is_fault(r))
    passed = sum(1 for r in reports.values() if not is_fault(r) and r.exit_code == 0)
    needs_work = len(reports) - passed - faults
    graded_in = f" graded in {shards} shards" if shards > 1 else ""
    lines = [
        f"## {title}: {len(reports)} students{graded_in}",
        "",
        f"{passed} passed, {needs_work} need work, {faults} could not be graded"
        + (" (a fault of the engine or the grader: grade them again)" if faults else "")
        + ".",
        "",
        "| Student | Points | Result |",
        "|---|---:|---|",
    ]
    lines += [
        f"| {_cell(student)} | {r.score:g}/{r.max_score:g} | {_cell(_verdict(r))} |"
        for student, r in reports.items()
    ]
    return "\n".join(lines) + "\n"
