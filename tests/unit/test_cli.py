"""The command line, run in-process: usage errors and missing engines exit 2 quickly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.cli import main
from grader.report import FORMATS


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Does a wrong option get argparse's message and exit status 2?"""
    with pytest.raises(SystemExit) as caught:
        main(["check", "x", "--format", "pdf"])
    assert caught.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err


def test_missing_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Does grading a folder that does not exist say so, with exit status 2?"""
    code = main(["check", str(tmp_path / "nope"), "--exercise", "model-api"])
    err = capsys.readouterr().err
    assert code == 2
    assert "does not exist" in err
    assert "Traceback" not in err


def test_file_instead_of_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Does passing the Dockerfile itself say to pass its folder?"""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim\n")
    assert main(["check", str(dockerfile), "--exercise", "model-api"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_static_failures_are_reported_without_an_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no engine, is a broken Dockerfile still explained, and the run marked as error?"""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCMD uvicorn app.main:app\n")
    code = main(
        ["check", str(tmp_path), "--exercise", "model-api", "--format", "json", "--no-progress"]
    )
    out = capsys.readouterr().out
    assert code == 2
    assert '"id": "exec_form_cmd"' in out
    assert '"status": "failed"' in out
    assert "The Docker engine failed" in out


def test_engine_status_without_engine_fails_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Does `grader engine status` with no engine say what to do, exit 2, no traceback?"""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert main(["engine", "status"]) == 2
    err = capsys.readouterr().err
    assert "No Docker engine answers" in err
    assert "Hint:" in err


def test_engine_up_when_not_allowed_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When no engine answers and none may be installed, does `engine up` exit 2 with a hint?"""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("GRADER_NO_ENGINE_INSTALL", "1")
    assert main(["engine", "up"]) == 2
    err = capsys.readouterr().err
    assert "No Docker engine answers" in err
    assert "Hint:" in err


def test_output_file_and_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does --output write the chosen format to the file?"""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    (tmp_path / "sub").mkdir()
    out = tmp_path / "reports" / "grade.xml"
    main(
        [
            "check",
            str(tmp_path / "sub"),
            "--exercise",
            "model-api",
            "--format",
            "junit",
            "--output",
            str(out),
            "--no-progress",
        ]
    )
    assert out.read_text().startswith('<?xml version="1.0"')


def test_invalid_spec_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Does a broken exercise spec stop the grade with exit 2, naming the file and field?"""
    (tmp_path / "exercises" / "demo").mkdir(parents=True)
    (tmp_path / "exercises" / "demo.toml").write_text(
        'name = "demo"\ntitle = "Demo"\nchecks = []\n'
    )
    code = main(["check", str(tmp_path), "--exercise", "demo", "--course", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "demo.toml is invalid: checks" in err
    assert "Traceback" not in err


def _static_course(tmp_path: Path) -> Path:
    """A course whose one exercise has only static checks: graded without an engine."""
    course = tmp_path / "course"
    (course / "exercises" / "demo").mkdir(parents=True)
    (course / "exercises" / "demo.toml").write_text(
        'name = "demo"\ntitle = "Demo"\n'
        'checks = [{ id = "dockerfile_valid", points = 0, required = true },'
        ' { id = "exec_form_cmd", required = true }, { id = "base_image_pinned" }]\n'
    )
    return course


@pytest.mark.parametrize(
    ("cmd", "code"),
    [('CMD ["python", "-m", "http.server"]', 0), ("CMD python -m http.server", 1)],
    ids=["passed", "failed"],
)
def test_exit_status_0_passed_1_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cmd: str, code: int
) -> None:
    """Is the exit status 0 when the required checks pass and 1 when one fails?"""
    course = _static_course(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").write_text(f"FROM python:3.11-slim\n{cmd}\n")
    args = ["check", str(tmp_path / "sub"), "--exercise", "demo", "--course", str(course)]
    assert main([*args, "--no-progress"]) == code
    assert capsys.readouterr().err == ""


def test_exit_status_2_on_a_grader_bug_with_every_format_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Does a bug in a check exit 2 and still write JSON (and every --reports format)
    naming it a grader bug?"""
    from dataclasses import replace

    from grader.checks import CHECKS

    def broken(ctx: object) -> object:
        raise KeyError("boom")

    monkeypatch.setitem(
        CHECKS, "base_image_pinned", replace(CHECKS["base_image_pinned"], run=broken)
    )
    course = _static_course(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").write_text('FROM python:3.11-slim\nCMD ["python"]\n')
    reports = tmp_path / "reports"
    out = tmp_path / "grade.json"
    code = main(
        [
            "check",
            str(tmp_path / "sub"),
            "--exercise",
            "demo",
            "--course",
            str(course),
            "--format",
            "json",
            "--output",
            str(out),
            "--reports",
            str(reports),
            "--no-progress",
        ]
    )
    assert code == 2
    data = json.loads(out.read_text())
    assert data["fault_kind"] == "grader"
    assert "base_image_pinned" in data["fault_hint"]
    assert {c["id"]: c["status"] for c in data["checks"]}["exec_form_cmd"] == "passed"
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        f"grade.{fmt.suffix}" for fmt in FORMATS.values()
    )
    assert "a bug in the grader" in capsys.readouterr().err


def test_a_missing_folder_still_writes_the_json_report(tmp_path: Path) -> None:
    """Is the JSON report written, naming the submission as the fault, when the folder is
    missing?"""
    out = tmp_path / "grade.json"
    code = main(
        [
            "check",
            str(tmp_path / "nope"),
            "--exercise",
            "model-api",
            "--format",
            "json",
            "--output",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 2
    data = json.loads(out.read_text())
    assert data["fault_kind"] == "submission"
    assert data["passed"] is False


def test_an_invalid_spec_still_writes_the_json_report(tmp_path: Path) -> None:
    """Before any spec loads, is the report still written, naming the spec as the fault?"""
    (tmp_path / "exercises" / "demo").mkdir(parents=True)
    (tmp_path / "exercises" / "demo.toml").write_text('name = "demo"\ntitle = "D"\nchecks = []\n')
    out = tmp_path / "grade.json"
    code = main(
        [
            "check",
            str(tmp_path),
            "--exercise",
            "demo",
            "--course",
            str(tmp_path),
            "--format",
            "json",
            "--output",
            str(out),
        ]
    )
    assert code == 2
    assert json.loads(out.read_text())["fault_kind"] == "spec"


def test_help_documents_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    """Does `grader check --help` say what exit statuses 0, 1 and 2 mean?"""
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 every required check passed; 1 a required check failed" in text
    assert "2 a usage error, or a fault of the Docker engine" in text


def test_the_progress_display_is_closed_when_the_folder_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, is the live display closed (the cursor shown again) even when the
    grade cannot start?"""
    closed = []

    class Recorder:
        def stage(self, title: str) -> None:
            pass

        def build_event(self, event: object) -> None:
            pass

        def close(self) -> None:
            closed.append(True)

    monkeypatch.setattr("grader.commands.progress_for", lambda enabled: Recorder())
    assert main(["check", str(tmp_path / "nope"), "--exercise", "model-api"]) == 2
    assert closed


def test_batch_no_progress_is_honoured_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does `grader batch --no-progress` hide the progress bar even on a terminal?"""
    import sys

    from grader.batch import BatchResult

    seen = {}

    def fake_grade_class(*args: object, **kwargs: object) -> BatchResult:
        seen.update(kwargs)
        return BatchResult([], [], [], tmp_path / "grades.csv")

    monkeypatch.setattr("grader.batch.grade_class", fake_grade_class)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    (tmp_path / "class" / "ann").mkdir(parents=True)
    assert main(["batch", str(tmp_path / "class"), "--exercise", "model-api", "--no-progress"]) == 0
    assert seen["show_progress"] is False
