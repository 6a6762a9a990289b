"""The command line the way pytest and ruff behave: a clear message and exit 2 for bad
input, before any grading and without a traceback; --version; -q; colour as the
environment asks. No engine: the one grade below asks a socket where none listens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "unix:///tmp/docker-ml-course-no-engine-here.sock"


def grader(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**env, "DOCKER_HOST": NOWHERE, **environment},
    )


def test_version() -> None:
    result = grader("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("grader ")
    assert result.stdout.split()[1][0].isdigit()


@pytest.fixture
def one_student(tmp_path: Path) -> Path:
    (tmp_path / "class" / "ann").mkdir(parents=True)
    return tmp_path / "class"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["check", "solutions/model-api", "--output", "{tmp}"], "is a folder: give a file name"),
        (["batch", "{class}", "--workers", "0"], "'0' is not a whole number of 1 or more"),
        (["batch", "{class}", "--workers", "-3"], "'-3' is not a whole number of 1 or more"),
        (["batch", "{class}", "--workers", "two"], "'two' is not a whole number of 1 or more"),
        (["batch", "{tmp}/none"], "is not a folder of submissions"),
        (["batch", "{tmp}/empty"], "holds no student folders"),
        (["batch", "{class}", "--merge-nbgrader", "{tmp}/missing.csv"], "no such file"),
        (["batch", "{class}", "--merge-nbgrader", "{tmp}/other.csv"], "lacks the columns"),
    ],
    ids=[
        "output-is-a-folder",
        "workers-0",
        "workers-negative",
        "workers-not-a-number",
        "no-such-class-folder",
        "empty-class-folder",
        "merge-csv-missing",
        "merge-csv-not-nbgrader",
    ],
)
def test_bad_input_is_refused_before_grading(
    tmp_path: Path, one_student: Path, args: list[str], said: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "other.csv").write_text("name,points\nann,3\n")
    filled = [a.replace("{tmp}", str(tmp_path)).replace("{class}", str(one_student)) for a in args]
    result = grader(*filled)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # Refused before any grading: no feedback folder was made.
    assert not (one_student.parent / "class-feedback").exists()


def test_no_engine_is_said_once_naming_where_it_was_sought() -> None:
    result = grader(
        "check", "solutions/model-api", "--exercise", "model-api", "--no-progress", COLUMNS="300"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert f"No Docker engine answers at {NOWHERE} (from DOCKER_HOST)" in result.stdout
    # The whole reason once in the table (and once in the footer), not in every row.
    assert result.stdout.count("Connection aborted") <= 2
    assert "Not graded: a fault of the Docker engine" in result.stdout


def test_no_color_is_honoured_and_force_color_too() -> None:
    args = ("check", "solutions/model-api", "--exercise", "model-api", "--no-progress")
    assert "\x1b[" not in grader(*args, NO_COLOR="1", FORCE_COLOR="1").stdout
    assert "\x1b[" in grader(*args, FORCE_COLOR="1").stdout


def test_quiet_shows_only_what_did_not_pass() -> None:
    args = ("check", "solutions/model-api", "--exercise", "model-api")
    full = grader(*args, "--no-progress", COLUMNS="200").stdout
    quiet = grader(*args, "-q", COLUMNS="200").stdout
    assert "The Dockerfile can be read and parsed" in full
    assert "The Dockerfile can be read and parsed" not in quiet
    assert "The image builds" in quiet
    assert "Total" in quiet
