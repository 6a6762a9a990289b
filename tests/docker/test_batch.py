"""Grading a class: a dozen good and bad submissions, an interruption, a resume, a CSV."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.engine import LABEL_RUN, sweep
from grader.results import CheckStatus, GradeReport
from tests.signals import interruptible

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "submissions"
# student id -> submission; the last three use nbgrader's submitted/<student>/<assignment>/ layout
CLASS = {
    "ada": ROOT / "solutions" / "model-api",
    "ben": FIXTURES / "model-api--pass--entrypoint-and-cmd",
    "cy": FIXTURES / "model-api--pass--crlf-and-bom",
    "dee": FIXTURES / "model-api--fail--shell-form-cmd",
    "eve": FIXTURES / "model-api--fail--no-dockerignore",
    "fay": FIXTURES / "model-api--fail--secret-in-env",
    "gus": FIXTURES / "model-api--fail--runs-as-root",
    "hal": FIXTURES / "model-api--fail--syntax-error",
    "ivy": FIXTURES / "model-api--fail--copy-missing-file",
    "jo": FIXTURES / "model-api--fail--missing-dockerfile",
    "kai": FIXTURES / "model-api--fail--starter-changed",
    "lu": FIXTURES / "model-api--fail--container-exits-at-once",
}
NBGRADER_LAYOUT = {"jo", "kai", "lu"}


def make_class(root: Path) -> Path:
    submissions = root / "submitted"
    for student, source in CLASS.items():
        target = submissions / student / ("model-api" if student in NBGRADER_LAYOUT else "")
        shutil.copytree(
            source, target, symlinks=True, ignore=shutil.ignore_patterns("expected.toml")
        )
        if student == "jo":
            (target / "NOTES.md").write_text("I did not get to the Dockerfile.\n")
    return submissions


def batch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "grader", "batch", *args, "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
        start_new_session=True,  # its fork server and grades in its group: see running()
    )


@contextlib.contextmanager
def running(process: subprocess.Popen[str], client) -> Iterator[subprocess.Popen[str]]:  # type: ignore[no-untyped-def]
    """The batch, killed with its process group if the test fails before it ends (a
    timeout), and the engine swept of what its killed grades made, so that nothing of it
    outlives the test."""
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            sweep(client)  # their processes are gone: their runs are stale


def faults_of(out: Path) -> str:
    """The faults the class's reports record, to say why a batch exited 2."""
    lines = []
    for path in sorted(out.glob("*.json")):
        with contextlib.suppress(ValueError, OSError, KeyError, TypeError):
            report = GradeReport.from_dict(json.loads(path.read_text()))
            lines += [f"{path.stem}: {report.fault}"] if report.fault else []
            lines += [
                f"{path.stem} {check.id}: {check.message}"
                for check in report.checks
                if check.status is CheckStatus.ERROR
            ]
    return "\n".join(lines)


@pytest.mark.slow
def test_class_is_graded_interrupted_and_resumed(tmp_path: Path, docker_client) -> None:  # type: ignore[no-untyped-def]
    """Are a dozen students graded with feedback files and a CSV, and does an interrupted
    batch resume without regrading anyone, leaving nothing on the engine?"""
    submissions = make_class(tmp_path)
    out = tmp_path / "feedback"
    with running(
        batch(str(submissions), "--exercise", "model-api", "--out", str(out)), docker_client
    ) as first:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and len(list(out.glob("*.json"))) < 3:
            time.sleep(0.5)
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    finished_before = {p.stem: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert 3 <= len(finished_before) < len(CLASS)
    assert not list(out.glob("*.partial"))
    assert not docker_client.containers.list(all=True, filters={"label": LABEL_RUN})

    with running(
        batch(str(submissions), "--exercise", "model-api", "--out", str(out)), docker_client
    ) as second:
        stdout, err = second.communicate(timeout=1200)
    assert second.returncode == 0, f"{stdout}{err}{faults_of(out)}"
    assert f"kept {len(finished_before)} from an earlier run" in stdout
    for student, mtime in finished_before.items():
        assert (out / f"{student}.json").stat().st_mtime_ns == mtime, f"{student} was regraded"

    reports = {s: json.loads((out / f"{s}.json").read_text()) for s in CLASS}
    assert all((out / f"{s}.md").read_text().startswith("## Dockerize") for s in CLASS)
    status = {s: {c["id"]: c["status"] for c in r["checks"]} for s, r in reports.items()}
    assert reports["ada"]["score"] == reports["ada"]["max_score"] == 100
    assert reports["ben"]["score"] == 100
    assert status["dee"]["exec_form_cmd"] == "failed"
    assert status["eve"]["secret_not_in_image"] == "failed"
    assert status["fay"]["no_secrets_in_dockerfile"] == "failed"
    assert status["gus"]["process_not_root"] == "failed"
    assert status["hal"]["dockerfile_valid"] == "failed"
    assert status["ivy"]["builds"] == "failed"
    assert status["jo"]["dockerfile_valid"] == "failed"
    assert status["kai"]["starter_unchanged"] == "failed"
    assert status["lu"]["serves_predict"] == "failed"

    with (out / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["student_id"] for r in rows] == list(CLASS)
    assert list(rows[0])[:4] == ["student_id", "assignment", "score", "max_score"]
    assert "cache_app_edit" in rows[0]
    assert float(rows[0]["score"]) == 100
    assert docker_client.containers.list(all=True, filters={"label": LABEL_RUN}) == []
    assert docker_client.volumes.list(filters={"label": LABEL_RUN, "dangling": True}) == []
