"""The LMS and code-scanning formats: each against golden files for a passing, a failing
and an engine-fault report, and against a schema of what the LMS reads.

The schemas in ``schemas/`` are transcribed from each format's documentation and reader
(see their ``$comment``): Gradescope, PrairieLearn and GitHub Classroom publish none, and
the SARIF one is a subset of the official schema (no package on PyPI ships that).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lms_reports import CASES, failing_report, fault_report, passing_report

from grader.report import RENDERERS, classroom
from grader.report.faults import is_fault
from grader.results import CheckStatus, GradeReport

GOLDENS = Path(__file__).parent / "goldens" / "lms"
SCHEMAS = Path(__file__).parent / "schemas"
FORMATS = {
    "gradescope": ("gradescope.json", "gradescope-results.schema.json"),
    "prairielearn": ("prairielearn.json", "prairielearn-results.schema.json"),
    "classroom": ("classroom.json", "classroom-result.schema.json"),
    "sarif": ("sarif", "sarif-2.1.0-subset.schema.json"),
}


def _check_golden(name: str, rendered: str, request: pytest.FixtureRequest) -> None:
    golden = GOLDENS / name
    if request.config.getoption("--update-goldens"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def _validate(fmt: str, data: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / FORMATS[fmt][1]).read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(data)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_format_matches_golden(fmt: str, case: str, request: pytest.FixtureRequest) -> None:
    """Does each LMS format render each kind of report exactly as reviewed?"""
    _check_golden(f"{case}.{FORMATS[fmt][0]}", RENDERERS[fmt](CASES[case]()), request)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_format_validates_against_its_schema(fmt: str, case: str) -> None:
    """Does each format hold only fields, types and values its reader knows?"""
    _validate(fmt, json.loads(RENDERERS[fmt](CASES[case]())))


def test_schemas_reject_what_the_readers_reject() -> None:
    """Would the schemas catch a wrong status, a score above 1 or a line 0 (are they live)?"""
    gradescope = json.loads(RENDERERS["gradescope"](failing_report()))
    gradescope["tests"][0]["status"] = "error"
    prairielearn = json.loads(RENDERERS["prairielearn"](passing_report()))
    prairielearn["score"] = 100
    sarif = json.loads(RENDERERS["sarif"](failing_report()))
    sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    for fmt, data in (("gradescope", gradescope), ("prairielearn", prairielearn), ("sarif", sarif)):
        with pytest.raises(jsonschema.ValidationError):
            _validate(fmt, data)


def test_fixture_reports_are_what_their_names_say() -> None:
    assert passing_report().exit_code == 0
    assert failing_report().exit_code == 1
    assert is_fault(fault_report())
    assert not is_fault(failing_report())


# Gradescope


def test_gradescope_scores_what_the_grader_scored() -> None:
    """Are the total and each test's points and pass/fail the grader's own?"""
    report = failing_report()
    data = json.loads(RENDERERS["gradescope"](report))
    assert data["score"] == report.score == 78
    assert data["execution_time"] == 114
    assert [t["score"] for t in data["tests"]] == [c.points for c in report.checks]
    assert [t["max_score"] for t in data["tests"]] == [c.max_points for c in report.checks]
    failed = [t["name"] for t in data["tests"] if t["status"] == "failed"]
    assert "Editing the app code reuses the cached dependency layer (required)" in failed
    cache = next(t for t in data["tests"] if t["name"].startswith("Editing the app code"))
    assert "Dockerfile line 5" in cache["output"]
    assert "Hint: Copy only requirements.txt" in cache["output"]


def test_gradescope_marks_zero_point_checks_by_their_status() -> None:
    """Is a failed 0-point check (hadolint) shown failed, not passed by default?"""
    data = json.loads(RENDERERS["gradescope"](failing_report()))
    hadolint = next(t for t in data["tests"] if t["name"] == "hadolint has no further warnings")
    assert (hadolint["score"], hadolint["max_score"], hadolint["status"]) == (0, 0, "failed")


@pytest.mark.parametrize(
    "report",
    [fault_report(), GradeReport.from_error(RuntimeError("boom"), exercise="model-api")],
    ids=["engine-fault", "grader-crash"],
)
def test_gradescope_fault_is_zero_with_the_reason(report: GradeReport) -> None:
    """On a fault, is the score 0, the reason in the output, and no test passed?"""
    data = json.loads(RENDERERS["gradescope"](report))
    assert data["score"] == 0
    reason = report.fault
    assert reason in data["output"]
    assert all(t["status"] == "failed" and t["score"] == 0 for t in data["tests"])
    assert "not your mistake" in data["output"].lower()


# PrairieLearn


def test_prairielearn_score_is_a_fraction_with_points() -> None:
    """Is the score points/max_points in [0, 1], with the tests' points beside it?"""
    data = json.loads(RENDERERS["prairielearn"](failing_report()))
    assert (data["gradable"], data["score"], data["points"], data["max_points"]) == (
        True,
        0.78,
        78,
        100,
    )
    assert sum(t["points"] for t in data["tests"]) == data["points"]
    assert json.loads(RENDERERS["prairielearn"](passing_report()))["score"] == 1.0


@pytest.mark.parametrize(
    "report",
    [fault_report(), GradeReport.from_error(RuntimeError("boom"), exercise="model-api")],
    ids=["engine-fault", "grader-crash"],
)
def test_prairielearn_fault_is_not_gradable(report: GradeReport) -> None:
    """On a fault, is the submission not gradable (no attempt lost), with the reason?"""
    data = json.loads(RENDERERS["prairielearn"](report))
    assert data["gradable"] is False
    assert report.fault in data["format_errors"][0]
    assert report.fault in data["message"]
    statuses = {c.title: c.status for c in report.checks}
    assert all(statuses[t["name"]] is not CheckStatus.ERROR for t in data["tests"])


# GitHub Classroom


def test_classroom_output_is_the_base64_result_the_reporter_reads() -> None:
    """Does `result=` decode to the same JSON, and do its scores add up to the grade?"""
    report = failing_report()
    name, _, encoded = classroom.render_output(report).strip().partition("=")
    assert name == "result"
    decoded = json.loads(base64.b64decode(encoded))
    assert decoded == json.loads(classroom.render(report))
    assert sum(t["score"] for t in decoded["tests"]) == report.score
    assert (decoded["status"], decoded["max_score"]) == ("fail", 100)


@pytest.mark.parametrize("case", sorted(CASES))
def test_classroom_notice_matches_golden(case: str, request: pytest.FixtureRequest) -> None:
    """Is the `Points X/Y` notice the reporter's own wording, on one workflow command?"""
    notice = classroom.render_notice(CASES[case]())
    assert re.fullmatch(r"::notice title=Autograding complete::Points \d+(\.\d+)?/\d+\n", notice)
    _check_golden(f"{case}.classroom-notice.txt", notice, request)


def test_classroom_fault_is_an_error_worth_nothing() -> None:
    """On a fault, is the status `error` (the run fails) and the total 0?"""
    data = json.loads(classroom.render(fault_report()))
    assert data["status"] == "error"
    assert [t["status"] for t in data["tests"]] == ["error"]
    assert classroom.points(fault_report()) == (0, 100)


# SARIF


def test_sarif_has_a_rule_per_check_and_a_result_per_failed_place() -> None:
    """Is every failed check a result on its file and line, its rule indexed, levels right?"""
    run = json.loads(RENDERERS["sarif"](failing_report()))["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rules == [c.id for c in failing_report().checks]
    places = [
        (
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"),
        )
        for r in run["results"]
    ]
    assert places == [
        ("requirements_before_app", "warning", "submissions/ann/Dockerfile", 5),
        ("pip_no_cache_dir", "warning", "submissions/ann/Dockerfile", 6),
        ("non_root_user", "warning", "submissions/ann/Dockerfile", None),
        ("hadolint_clean", "warning", "submissions/ann/Dockerfile", 6),
        ("hadolint_clean", "warning", "submissions/ann/Dockerfile", 7),
        ("cache_app_edit", "error", "submissions/ann/Dockerfile", 5),
        ("process_not_root", "warning", "submissions/ann/Dockerfile", None),
    ]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_sarif_fault_is_a_failed_invocation_not_an_alert() -> None:
    """Does an engine fault stay off the learner's code, as a failed invocation?"""
    report = fault_report()
    run = json.loads(RENDERERS["sarif"](report))["runs"][0]
    assert {r["ruleId"] for r in run["results"]} == {
        c.id for c in report.checks if c.status is CheckStatus.FAILED
    }
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert report.fault in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_uri_for_an_absolute_submission_is_a_file_uri() -> None:
    report = GradeReport.from_dict({**failing_report().to_dict(), "submission": "/home/ann/ex"})
    result = json.loads(RENDERERS["sarif"](report))["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "file:///home/ann/ex/Dockerfile"
