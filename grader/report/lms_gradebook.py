"""A class's grades as CSV files that Canvas and Moodle import into their gradebooks.

- **Canvas** (Grades → Import): the columns of Canvas's own gradebook export, ``Student``,
  ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment
  holding its points. Canvas needs one of ``Student``/``ID``/``SIS User ID`` to find the
  student; this file has the student's id (the submission folder's name: their GitHub or
  nbgrader login) in ``Student`` and ``SIS Login ID``, the others blank. An assignment
  column named like Canvas's export, ``Title (12345)``, updates that assignment; a plain
  title makes a new one.
- **Moodle** (Grades → Import → CSV file): any header row; the import form maps one column
  to a user field (here ``Username``) and the others to grade items and their feedback.

A student whose grade is a fault of the grader or the engine gets an empty cell, which both
LMSs import as "no change": a fault never becomes a 0 in the gradebook.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from grader.report.faults import fault_hint, fault_reason, is_fault
from grader.results import CheckStatus, GradeReport

__all__ = ["CANVAS_COLUMNS", "render_canvas", "render_moodle"]

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _points(report: GradeReport) -> str:
    return "" if is_fault(report) else f"{report.score:g}"


def _feedback(report: GradeReport) -> str:
    if is_fault(report):
        return f"Not graded, not the learner's fault: {fault_reason(report)} {fault_hint(report)}"
    to_change = [
        f"{c.title}{f' ({c.file} line {c.line})' if c.line else ''}: {c.hint}"
        for c in report.checks
        if c.status is CheckStatus.FAILED
    ]
    total = f"{report.score:g}/{report.max_score:g} points."
    return total + (f" To change: {' '.join(to_change)}" if to_change else " Every check passed.")


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render_canvas(reports: Mapping[str, GradeReport], assignment: str) -> str:
    """Canvas's gradebook import: student columns, then ``assignment`` with the points."""
    rows = [[student, "", "", student, "", _points(r)] for student, r in reports.items()]
    return _csv([*CANVAS_COLUMNS, assignment], rows)


def render_moodle(reports: Mapping[str, GradeReport], assignment: str) -> str:
    """Moodle's CSV grade import: ``Username``, the grade, and feedback to map with it."""
    rows = [[student, _points(r), _feedback(r)] for student, r in reports.items()]
    return _csv(["Username", assignment, f"Feedback: {assignment}"], rows)
