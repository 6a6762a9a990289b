"""The renderers, each against a golden file (`--update-goldens` rewrites them)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.errors import EngineUnavailable
from grader.report import RENDERERS, terminal
from grader.results import BuildStepResult, CheckResult, CheckStatus, Finding, GradeReport

GOLDENS = Path(__file__).parent / "goldens"
SUFFIX = {
    "text": "txt",
    "json": "json",
    "markdown": "md",
    "junit": "xml",
    "html": "html",
    "gradescope": "gradescope.json",
    "prairielearn": "prairielearn.json",
    "classroom": "classroom.json",
    "sarif": "sarif",
}


def sample_report() -> GradeReport:
    checks = (
        CheckResult(
            "builds",
            "The image builds",
            CheckStatus.PASSED,
            10,
            10,
            "Built in 31.0 s (14 steps, 12 from cache).",
            required=True,
        ),
        CheckResult(
            "cache_app_edit",
            "Editing the app code reuses the cached dependency layer",
            CheckStatus.FAILED,
            0,
            8,
            "After an edit to app/main.py, the dependency install on line 6 ran again.",
            hint="Copy only requirements.txt before the install.",
            line=5,
            required=True,
            findings=(Finding("COPY . . before the install", 5),),
        ),
        CheckResult(
            "pip_no_cache_dir",
            "pip does not keep its download cache in the image",
            CheckStatus.FAILED,
            0,
            3,
            "Line 6: pip keeps its download cache.",
            hint="Add `--no-cache-dir`.",
            line=6,
            details="Step 6/9 output\nline | with a pipe",
        ),
        CheckResult(
            "secret_not_in_image",
            "The .env file does not end up in the image",
            CheckStatus.ERROR,
            0,
            5,
            "The Docker engine failed: connection reset.",
            hint="Not your mistake.",
        ),
        CheckResult(
            "image_size",
            "The image stays within its size budget",
            CheckStatus.SKIPPED,
            0,
            4,
            "Skipped: the image did not build.",
        ),
    )
    return GradeReport(
        exercise="model-api",
        title="Dockerize the iris model API",
        submission="exercises/model-api",
        checks=checks,
        timings={"static": 0.42, "build": 31.0, "total": 40.5},
        build_steps=(
            BuildStepResult(1, "FROM python:3.11-slim", line=1, started=0.0),
            BuildStepResult(
                2,
                "RUN pip install -r requirements.txt",
                line=6,
                cached=True,
                seconds=0.1,
                started=0.0,
                install=True,
            ),
        ),
        engine="Docker Engine 20.10.24 (linux/amd64, API 1.41)",
        builder="buildkit",
    )


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_renderer_matches_golden(fmt: str, request: pytest.FixtureRequest) -> None:
    """Does each format render the sample report exactly as reviewed?"""
    rendered = RENDERERS[fmt](sample_report())
    golden = GOLDENS / f"report.{SUFFIX[fmt]}"
    if request.config.getoption("--update-goldens"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_json_has_the_contracted_fields() -> None:
    """Does the JSON carry every field other tools rely on?"""
    data = json.loads(RENDERERS["json"](sample_report()))
    assert {"exercise", "score", "max_score", "checks", "timings"} <= set(data)
    assert data["score"] == 10
    assert data["max_score"] == 30
    for check in data["checks"]:
        assert {"id", "title", "status", "points", "max_points", "message", "hint", "line"} <= set(
            check
        )
    assert data["timings"]["total"] == 40.5


def test_junit_counts_failures_errors_and_skips() -> None:
    """Do JUnit viewers see two failures, one error and one skip?"""
    suite = ET.fromstring(RENDERERS["junit"](sample_report()))
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == ("5", "2", "1", "1")
    failure = suite.find("testcase[@name='cache_app_edit']/failure")
    assert failure is not None
    assert "(Dockerfile:5)" in failure.get("message", "")


def test_terminal_colour_only_when_asked() -> None:
    """Are ANSI colours left out unless the output is a terminal?"""
    assert "\x1b[" not in terminal.render(sample_report(), color=False)
    assert "\x1b[" in terminal.render(sample_report(), color=True)


def test_grader_failure_is_a_report_not_a_traceback() -> None:
    """Does a fault of the engine become a scored report that says so, exit status 2?"""
    report = GradeReport.from_error(EngineUnavailable("no engine", hint="start Docker"))
    assert report.exit_code == 2
    assert report.checks[0].status is CheckStatus.ERROR
    assert "start Docker" in RENDERERS["markdown"](report)
    assert "Traceback" not in RENDERERS["text"](report)


def test_exit_code_follows_required_checks() -> None:
    """Is the exit status 0 only when every required check passed and nothing errored?"""
    report = sample_report()
    passing = report.with_checks(tuple(c for c in report.checks if c.status is CheckStatus.PASSED))
    assert passing.exit_code == 0
    failing = report.with_checks(report.checks[:3])
    assert failing.exit_code == 1
    assert report.exit_code == 2


def test_report_round_trips_through_json() -> None:
    """Does a report read back from its JSON render exactly like the original?"""
    report = sample_report()
    again = GradeReport.from_dict(json.loads(RENDERERS["json"](report)))
    assert again == report
    assert RENDERERS["markdown"](again) == RENDERERS["markdown"](report)
