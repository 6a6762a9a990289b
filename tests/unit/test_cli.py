"""The command line, run in-process: usage errors and missing engines exit 2 quickly."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.cli import main


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
