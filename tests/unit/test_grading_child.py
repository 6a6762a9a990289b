"""`grader batch` grades each student in a child process: forked from a fork server that
has the grader imported (where the platform has one), or a new `python -m grader`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import batch
from grader.batch import GradingChild


@pytest.fixture(params=["fork server", "new interpreter"])
def start_method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "new interpreter":
        monkeypatch.setattr(batch, "_fork_server", lambda: None)
    elif batch._fork_server() is None:
        pytest.skip("this platform has no fork server")
    return str(request.param)


def test_a_child_runs_grader_check_with_its_own_environment(
    start_method: str, tmp_path: Path
) -> None:
    """Does the child exit with `grader check`'s code, write its report, keep its errors
    for the batch to read, and see the environment it was given (not the batch's)?"""
    report, summary = tmp_path / "report.json", tmp_path / "summary.md"
    argv = ["check", str(tmp_path / "no-such-folder"), "--exercise", "model-api"]
    argv += ["--format", "json", "--output", str(report), "--no-progress"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    os.environ["GITHUB_STEP_SUMMARY"] = str(summary)  # the batch's, kept from the child
    try:
        child = GradingChild(argv, environment, tmp_path / "child.stderr")
        assert child.wait(60) == 2
    finally:
        del os.environ["GITHUB_STEP_SUMMARY"]
    assert json.loads(report.read_text())["fault_kind"] == "submission"
    assert "no-such-folder does not exist" in child.stderr()
    assert not summary.exists()


# Run by the test below in an interpreter of its own, so that its fork server starts
# there, from a batch that ignores SIGINT as a background job (`make test &`) does.
_BATCH_IGNORING_SIGINT = """
import os, signal, socket, sys
from pathlib import Path
signal.signal(signal.SIGINT, signal.SIG_IGN)
from grader.batch import GradingChild
tmp = Path(sys.argv[1])
listener = socket.socket(socket.AF_UNIX)
listener.bind(str(tmp / "never.sock"))  # an engine that never answers: the grade waits
listener.listen()
environment = {**os.environ, "DOCKER_HOST": f"unix://{tmp / 'never.sock'}"}
argv = ["check", str(tmp), "--exercise", "model-api", "--format", "json", "--no-progress"]
child = GradingChild(argv, environment, tmp / "child.stderr")
still_running = child.wait(3) is None
child.send_signal(signal.SIGINT)  # what the batch sends its children when it is stopped
print(still_running, child.wait(30), child.stderr()[-300:].replace(chr(10), " "))
"""


def test_a_forked_child_stops_on_sigint_though_the_batch_ignores_it(tmp_path: Path) -> None:
    """A batch started in the background ignores SIGINT, and a stopped batch (SIGTERM from
    CI) sends its children SIGINT: does the fork server's child stop on it (exit 130)?"""
    if batch._fork_server() is None:
        pytest.skip("this platform has no fork server")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    result = subprocess.run(
        [sys.executable, "-c", _BATCH_IGNORING_SIGINT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    still_running, code, stderr = (result.stdout.strip() + "  ").split(" ", 2)
    assert still_running == "True", result.stdout + result.stderr
    assert code == "130", stderr
