"""The report as SARIF 2.1.0, for code-scanning annotations on the learner's Dockerfile.

One rule per check of the exercise (``tool.driver.rules``), one result per place a failed
check points at (the check's own line, then its findings), each with the file and
``region.startLine`` (no region when the check names no line). Required checks that fail
are ``error``, the others ``warning``, as in the GitHub annotations. Faults of the grader or the engine are no result on the
learner's code: they are a failed invocation with a notification instead.

Spec: SARIF 2.1.0 (OASIS), https://docs.oasis-open.org/sarif/sarif/v2.1.0/ ; the subset
GitHub code scanning reads: https://docs.github.com/en/code-security/code-scanning/
integrating-with-code-scanning/sarif-support-for-code-scanning . Upload with
``github/codeql-action/upload-sarif``.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from grader.report.faults import fault_hint, fault_reason, is_fault
from grader.report.json import dumps
from grader.results import CheckResult, CheckStatus, GradeReport

__all__ = ["SCHEMA_URI", "render", "to_dict"]

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "docker-ml-course grader"


def _uri(report: GradeReport, file: str) -> str:
    """The file relative to the repository root (as code scanning wants it): the submission
    folder as graded, joined with the file; a ``file://`` URI when the folder was absolute."""
    path = PurePosixPath(report.submission.replace("\\", "/") or ".") / file
    return path.as_uri() if path.is_absolute() else str(path)


def _location(report: GradeReport, file: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(report, file)}}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _rule(check: CheckResult) -> dict[str, Any]:
    return {
        "id": check.id,
        "name": "".join(part.capitalize() for part in check.id.split("_")),
        "shortDescription": {"text": check.title},
        "defaultConfiguration": {"level": "error" if check.required else "warning"},
        "properties": {"required": check.required, "max_points": check.max_points},
    }


def _results(report: GradeReport) -> list[dict[str, Any]]:
    results = []
    for index, check in enumerate(report.checks):
        if check.status is not CheckStatus.FAILED:
            continue
        level = "error" if check.required else "warning"
        hint = f" Hint: {check.hint}" if check.hint else ""
        places = [(check.file, check.line, check.message, "")]
        places += [
            (f.file, f.line, f.message, f.code)
            for f in check.findings
            if (f.file, f.line) != (check.file, check.line)
        ]
        for file, line, message, code in places:
            result: dict[str, Any] = {
                "ruleId": check.id,
                "ruleIndex": index,
                "level": level,
                "message": {"text": f"{message}{hint}"},
                "locations": [_location(report, file, line)],
            }
            if code:
                result["properties"] = {"code": code}
            results.append(result)
    return results


def to_dict(report: GradeReport) -> dict[str, Any]:
    """The SARIF log object."""
    invocation: dict[str, Any] = {"executionSuccessful": not is_fault(report)}
    if is_fault(report):
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error",
                "message": {"text": f"{fault_reason(report)} {fault_hint(report)}"},
            }
        ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "rules": [_rule(check) for check in report.checks],
                    }
                },
                "automationDetails": {"id": f"grader/{report.exercise}/"},
                "invocations": [invocation],
                "results": _results(report),
                "properties": {"score": report.score, "max_score": report.max_score},
            }
        ],
    }


def render(report: GradeReport) -> str:
    return dumps(to_dict(report))
