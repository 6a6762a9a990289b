"""The report as Gradescope's ``results.json`` (the autograder's output file).

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ — a top-level
``score``, ``execution_time`` (seconds), ``output``, and ``tests[]`` with ``name``,
``score``, ``max_score``, ``status`` (``passed``/``failed``), ``output`` and ``visibility``.
``run_autograder`` writes it with ``grader check … --format gradescope --output
/autograder/results/results.json``.

A fault of the grader or the engine scores 0 with the reason in ``output`` and a single
failed test that says so: no check is shown as passed or failed on a grade that did not
finish, and the learner resubmits.
"""

from __future__ import annotations

from typing import Any

from grader.report.faults import fault_hint, fault_reason, is_fault
from grader.report.json import dumps
from grader.results import CheckResult, CheckStatus, GradeReport

__all__ = ["render"]

VISIBILITY = "visible"
"""Feedback is the point of the exercise: every test is shown at once."""

SYMBOLS = {
    CheckStatus.PASSED: "passed",
    CheckStatus.FAILED: "failed",
    CheckStatus.ERROR: "could not run",
    CheckStatus.SKIPPED: "skipped",
}


def _test_output(check: CheckResult) -> str:
    parts = [check.message]
    if check.line:
        parts.append(f"Where: {check.file} line {check.line}")
    if check.hint and check.status is not CheckStatus.PASSED:
        parts.append(f"Hint: {check.hint}")
    if check.details and check.status is not CheckStatus.PASSED:
        parts.append(check.details)
    return "\n\n".join(parts)


def _test(check: CheckResult) -> dict[str, Any]:
    return {
        "name": check.title + (" (required)" if check.required else ""),
        "score": check.points,
        "max_score": check.max_points,
        # Explicit, because a 0-point check would otherwise show as passed.
        "status": "passed" if check.status is CheckStatus.PASSED else "failed",
        "output": _test_output(check),
        "visibility": VISIBILITY,
    }


def _summary(report: GradeReport) -> str:
    verdict = (
        "All required checks passed."
        if report.exit_code == 0
        else "Some required checks failed: each failed test says what to change."
    )
    graded_on = f" Graded on {report.graded_on}." if report.graded_on else ""
    return f"{report.title}: {report.score:g}/{report.max_score:g} points. {verdict}{graded_on}"


def _fault_output(report: GradeReport) -> str:
    lines = [fault_reason(report), "", fault_hint(report), "", "No points were recorded."]
    ran = [c for c in report.checks if c.status in {CheckStatus.PASSED, CheckStatus.FAILED}]
    if ran:
        lines += ["", "Checks that ran before the fault (not scored):"]
        lines += [f"- {c.title}: {SYMBOLS[c.status]}" for c in ran]
    return "\n".join(lines)


def to_dict(report: GradeReport) -> dict[str, Any]:
    """The ``results.json`` object."""
    execution_time = round(report.timings.get("total", 0.0))
    if is_fault(report):
        return {
            "score": 0,
            "execution_time": execution_time,
            "output": _fault_output(report),
            "output_format": "text",
            "visibility": VISIBILITY,
            "tests": [
                {
                    "name": "The grader ran to the end",
                    "score": 0,
                    "max_score": report.max_score,
                    "status": "failed",
                    "output": f"{fault_reason(report)}\n\nHint: {fault_hint(report)}",
                    "visibility": VISIBILITY,
                }
            ],
        }
    return {
        "score": report.score,
        "execution_time": execution_time,
        "output": _summary(report),
        "output_format": "text",
        "visibility": VISIBILITY,
        "tests": [_test(check) for check in report.checks],
    }


def render(report: GradeReport) -> str:
    return dumps(to_dict(report))
