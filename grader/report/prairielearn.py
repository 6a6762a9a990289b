"""The report as a PrairieLearn external grader's ``results.json``.

Spec: https://prairielearn.readthedocs.io/en/latest/externalGrading/ ("Grading results"):
``score`` in [0, 1], ``gradable``, ``message``, ``output``, ``format_errors`` and
``tests[]`` with ``name``, ``description``, ``points``, ``max_points``, ``message`` and
``output``; the top-level ``points``/``max_points`` follow PrairieLearn's Python grader
(``graders/python/python_autograder/pl_main.py``). The grading script writes it with
``grader check … --format prairielearn --output /grade/results/results.json``.

A fault of the grader or the engine sets ``gradable: false`` with the reason in
``format_errors``: PrairieLearn then awards and takes no points and the learner keeps the
attempt.
"""

from __future__ import annotations

from typing import Any

from grader.report.faults import fault_hint, fault_reason, is_fault
from grader.report.json import dumps
from grader.results import CheckResult, CheckStatus, GradeReport

__all__ = ["render"]

REQUIRED = "Required: the exercise is passed only when this check passes."


def _test(check: CheckResult) -> dict[str, Any]:
    message = check.message
    if check.line:
        message += f" ({check.file} line {check.line})"
    if check.hint and check.status is not CheckStatus.PASSED:
        message += f"\nHint: {check.hint}"
    return {
        "name": check.title,
        "description": REQUIRED if check.required else "",
        "points": check.points,
        "max_points": check.max_points,
        "message": message,
        "output": check.details if check.status is not CheckStatus.PASSED else "",
    }


def to_dict(report: GradeReport) -> dict[str, Any]:
    """The ``results.json`` object."""
    tests = [_test(check) for check in report.checks]
    if is_fault(report):
        reason = fault_reason(report)
        # Only what ran is shown; nothing is scored on a grade that did not finish.
        ran = {CheckStatus.PASSED, CheckStatus.FAILED}
        tests = [t for t, c in zip(tests, report.checks, strict=True) if c.status in ran]
        return {
            "gradable": False,
            "score": 0.0,
            "message": f"{reason} {fault_hint(report)} This attempt was not counted.",
            "format_errors": [reason],
            "output": "",
            "tests": tests,
        }
    score = report.score / report.max_score if report.max_score else 0.0
    verdict = (
        "All required checks passed."
        if report.exit_code == 0
        else "Some required checks failed: each failed test says what to change."
    )
    return {
        "gradable": True,
        "score": round(min(max(score, 0.0), 1.0), 4),
        "points": report.score,
        "max_points": report.max_score,
        "message": f"{report.score:g}/{report.max_score:g} points. {verdict}",
        "output": f"Graded on {report.graded_on}." if report.graded_on else "",
        "tests": tests,
    }


def render(report: GradeReport) -> str:
    return dumps(to_dict(report))
