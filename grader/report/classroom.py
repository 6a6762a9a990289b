"""The report for GitHub Classroom's autograding reporter.

GitHub Classroom's ``autograding-grading-reporter`` action reads, for each runner named in
its ``runners`` input, the environment variable ``<RUNNER>_RESULTS``: base64 of a JSON
object ``{"version": 1, "status": "pass"|"fail"|"error", "max_score": …, "tests": [{"name",
"status", "message", "test_code", "filename", "line_no", "duration", "score"}]}`` — the
format its own graders (``autograding-io-grader``, ``autograding-command-grader``) write to
their ``result`` step output. The reporter adds up the tests' ``score`` and posts
``Points X/Y`` on the run, which is what Classroom records.

Sources: github.com/classroom-resources/autograding-io-grader ``src/main.js`` (the result
object) and github.com/classroom-resources/autograding-grading-reporter ``src/main.js``,
``src/notify-classroom.js`` (how it is read and totalled).

A fault of the grader or the engine is one test in ``error`` with score 0, and the status
``error``: the run fails as "Some tests errored." and the learner reruns it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from grader.report.faults import fault_hint, fault_reason, is_fault
from grader.report.json import dumps
from grader.results import CheckResult, CheckStatus, GradeReport

__all__ = ["render", "render_notice", "render_output", "to_dict"]

STATUSES = {
    CheckStatus.PASSED: "pass",
    CheckStatus.FAILED: "fail",
    CheckStatus.ERROR: "error",
    CheckStatus.SKIPPED: "fail",
}


def _test(report: GradeReport, check: CheckResult) -> dict[str, Any]:
    message = check.message
    if check.hint and check.status is not CheckStatus.PASSED:
        message += f" Hint: {check.hint}"
    return {
        "name": check.title,
        "status": STATUSES[check.status],
        "message": message,
        "test_code": f"grader check --exercise {report.exercise} ({check.id})",
        "filename": check.file if check.line else "",
        "line_no": check.line or 0,
        "duration": 0,
        "score": check.points,
    }


def to_dict(report: GradeReport) -> dict[str, Any]:
    """The result object, before base64."""
    if is_fault(report):
        return {
            "version": 1,
            "status": "error",
            "max_score": report.max_score,
            "tests": [
                {
                    "name": "The grader ran to the end",
                    "status": "error",
                    "message": f"{fault_reason(report)} {fault_hint(report)}",
                    "test_code": f"grader check --exercise {report.exercise}",
                    "filename": "",
                    "line_no": 0,
                    "duration": round(report.timings.get("total", 0.0) * 1000),
                    "score": 0,
                }
            ],
        }
    return {
        "version": 1,
        "status": "pass" if report.exit_code == 0 else "fail",
        "max_score": report.max_score,
        "tests": [_test(report, check) for check in report.checks],
    }


def points(report: GradeReport) -> tuple[float, float]:
    """The total the reporter computes: the tests' scores, out of ``max_score``."""
    data = to_dict(report)
    return sum(t["score"] for t in data["tests"]), data["max_score"]


def render(report: GradeReport) -> str:
    """The result object as readable JSON (``--format classroom``)."""
    return dumps(to_dict(report))


def render_output(report: GradeReport, name: str = "result") -> str:
    """``result=<base64>`` for $GITHUB_OUTPUT, as Classroom's own graders write it."""
    compact = json.dumps(to_dict(report), ensure_ascii=False, separators=(",", ":"))
    return f"{name}={base64.b64encode(compact.encode('utf-8')).decode('ascii')}\n"


def render_notice(report: GradeReport) -> str:
    """The ``Points X/Y`` notice Classroom's reporter posts, as a workflow command."""
    score, max_score = points(report)
    return f"::notice title=Autograding complete::Points {score:g}/{max_score:g}\n"
