"""`grader check --format gradescope|prairielearn|classroom|sarif` and `--reports`, in-process.

The grade itself is faked (a report from data) except in the engine-less test, which runs
the real static stage and meets the real "no engine" fault.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from lms_reports import failing_report

from grader import commands
from grader.cli import main
from grader.results import GradeReport


@pytest.fixture
def graded_as_failing(monkeypatch: pytest.MonkeyPatch) -> GradeReport:
    report = failing_report()
    monkeypatch.setattr(commands, "grade", lambda *_args, **_kwargs: report)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return report


@pytest.mark.parametrize("fmt", ["gradescope", "prairielearn", "classroom", "sarif"])
def test_check_prints_each_lms_format(
    fmt: str, graded_as_failing: GradeReport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Does `--format` print the LMS's JSON, with the grade's exit status?"""
    code = main(["check", str(tmp_path), "--exercise", "model-api", "--format", fmt])
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    assert data  # the format's own content is covered by test_lms_reports.py


def test_reports_folder_gets_every_format_with_conventional_names(
    graded_as_failing: GradeReport, tmp_path: Path
) -> None:
    """Does `--reports DIR` write today's reports and the LMS ones side by side?"""
    out = tmp_path / "reports"
    main(["check", str(tmp_path), "--exercise", "model-api", "--reports", str(out)])
    assert sorted(p.name for p in out.iterdir()) == [
        "grade.classroom.json",
        "grade.gradescope.json",
        "grade.html",
        "grade.json",
        "grade.md",
        "grade.prairielearn.json",
        "grade.sarif",
        "grade.txt",
        "grade.xml",
    ]
    assert json.loads((out / "grade.gradescope.json").read_text())["score"] == 78
    assert json.loads((out / "grade.sarif").read_text())["version"] == "2.1.0"


def test_github_actions_gets_the_classroom_result_and_points_notice(
    graded_as_failing: GradeReport,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In Actions, is `result` (base64) in the step outputs and `Points X/Y` a notice?"""
    outputs = tmp_path / "outputs.txt"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    main(["check", str(tmp_path), "--exercise", "model-api", "--format", "json"])
    lines = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert lines["score"] == "78"
    result = json.loads(base64.b64decode(lines["result"]))
    assert (result["status"], result["max_score"]) == ("fail", 100)
    assert "::notice title=Autograding complete::Points 78/100\n" in capsys.readouterr().out


def test_no_engine_makes_prairielearn_not_gradable_and_gradescope_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no engine, does the real fault reach the LMS formats as 'not gradable' / 0?"""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCMD uvicorn app.main:app\n")
    out = tmp_path / "reports"
    code = main(
        ["check", str(tmp_path), "--exercise", "model-api", "--no-progress", "--reports", str(out)]
    )
    capsys.readouterr()
    assert code == 2
    prairielearn = json.loads((out / "grade.prairielearn.json").read_text())
    assert prairielearn["gradable"] is False
    assert prairielearn["format_errors"]
    gradescope = json.loads((out / "grade.gradescope.json").read_text())
    assert gradescope["score"] == 0
    assert "could not finish" in gradescope["output"]
    assert all(t["status"] == "failed" for t in gradescope["tests"])
    assert json.loads((out / "grade.classroom.json").read_text())["status"] == "error"
