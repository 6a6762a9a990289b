"""`grader batch` grades each student in a child process: forked from a fork server that
has the grader imported (where the platform has one), or a new `python -m grader`."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader import batch
from grader.batch import GradingChild, start_fork_server
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["fork server", "new interpreter"])
def fork_server(request: pytest.FixtureRequest) -> Any:
    """What :class:`GradingChild` forks from (None: a new interpreter each time)."""
    if request.param == "new interpreter":
        return None
    server = start_fork_server()
    if server is None:
        pytest.skip("this platform has no fork server")
    return server


@pytest.fixture
def never_answering_engine(tmp_path: Path) -> Iterator[str]:
    """A DOCKER_HOST whose socket accepts and never answers: a grade waits on it."""
    import socket

    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "never.sock"))
    listener.listen()
    yield f"unix://{tmp_path / 'never.sock'}"
    listener.close()


def test_a_child_runs_grader_check_with_its_own_environment(
    fork_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does the child exit with `grader check`'s code, write its report, keep its errors
    for the batch to read, and see the environment it was given, not the batch's (here:
    where the job summary of a GitHub Actions job goes)?"""
    report, ours, its = tmp_path / "report.json", tmp_path / "batch.md", tmp_path / "child.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(ours))
    argv = ["check", str(tmp_path / "no-such-folder"), "--exercise", "model-api"]
    argv += ["--format", "json", "--output", str(report), "--no-progress"]
    child = GradingChild(argv, {**os.environ, "GITHUB_STEP_SUMMARY": str(its)}, fork_server)
    try:
        assert child.wait(60) == 2
        assert "no-such-folder does not exist" in child.stderr()
    finally:
        child.close()
    assert json.loads(report.read_text())["fault_kind"] == "submission"
    assert "does not exist" in its.read_text()
    assert not ours.exists()
    assert not child.folder.exists()


def test_a_grade_past_its_time_is_stopped_and_recorded_not_taken_for_ctrl_c(
    fork_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    never_answering_engine: str,
) -> None:
    """A grade that hangs past the spec's total time: is it stopped (SIGTERM, which the
    grader answers with exit 143, like an interruption) and recorded as a fault that
    says so, while the batch goes on instead of stopping as on Ctrl-C?"""
    monkeypatch.setattr(batch, "CHILD_MARGIN_S", 0.0)
    monkeypatch.setattr(batch, "TIMED_OUT_GRACE_S", 30.0)
    monkeypatch.setenv("DOCKER_HOST", never_answering_engine)
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    spec = spec.model_copy(update={"limits": spec.limits.model_copy(update={"total_timeout_s": 3})})
    submission, out = tmp_path / "ann", tmp_path / "out"
    submission.mkdir()
    out.mkdir()
    (submission / "Dockerfile").write_text("FROM python:3.11-slim\n")
    outcome = batch._grade_one("ann", submission, spec, out, {}, threading.Event(), fork_server)
    assert outcome == "failed"
    report = json.loads((out / "ann.json").read_text())
    assert "took longer than 3 s and was stopped" in report["fault"]
    assert not (out / "ann.partial").exists()


# The start of a batch in an interpreter of its own (so that its fork server starts
# there), with one grade of SUBMISSION on ENGINE, one that never answers: the grade waits.
_A_BATCH_GRADING = """
import os, signal, sys
from pathlib import Path
from grader.batch import GradingChild, start_fork_server
tmp, engine = Path(sys.argv[1]), sys.argv[2]
argv = ["check", str(tmp), "--exercise", "model-api", "--format", "json", "--no-progress"]
child = GradingChild(argv, {**os.environ, "DOCKER_HOST": engine}, start_fork_server())
still_running = child.wait(3) is None
"""


def _run_batch(
    then: str, tmp_path: Path, engine: str, *, before: str = "", **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run :data:`_A_BATCH_GRADING` (after ``before``, then ``then``) in a new interpreter."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("this platform has no fork server")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    script = f"{before}\n{_A_BATCH_GRADING}\n{then}\nchild.close()\n"
    return subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), engine],
        capture_output=True,
        text=True,
        timeout=90,
        **options,
    )


def test_a_forked_child_stops_on_sigint_though_the_batch_ignores_it(
    tmp_path: Path, never_answering_engine: str
) -> None:
    """A batch started in the background ignores SIGINT, and a stopped batch (SIGTERM from
    CI) sends its children SIGINT: does the fork server's child stop on it (exit 130)?"""
    result = _run_batch(
        # What the batch sends its children when it is stopped.
        "child.send_signal(signal.SIGINT)\n"
        "print(still_running, child.wait(30), child.stderr()[-300:].replace(chr(10), ' '))",
        tmp_path,
        never_answering_engine,
        # As a background job (`make test &`) has it, before the fork server starts.
        before="import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)",
    )
    still_running, code, stderr = (result.stdout.strip() + "  ").split(" ", 2)
    assert still_running == "True", result.stdout + result.stderr
    assert code == "130", stderr


def test_the_fork_server_outlives_a_sigterm_to_the_whole_process_group(
    tmp_path: Path, never_answering_engine: str
) -> None:
    """A batch's process group gets SIGTERM (CI cancels the job): does the grade's own
    exit code (143: it stopped on SIGTERM and cleaned up) reach the batch, rather than the
    255 of a fork server killed under its children?"""
    result = _run_batch(
        "assert still_running\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the batch answers it elsewhere\n"
        "os.killpg(os.getpgrp(), signal.SIGTERM)  # the batch, its fork server, the grade\n"
        "print(child.wait(30))",
        tmp_path,
        never_answering_engine,
        start_new_session=True,  # a process group of its own, to signal as a whole
    )
    assert result.stdout.strip() == "143", result.stdout + result.stderr


class _FakeGrade:
    """A running grade that ends on ``ends_on`` (a real one ends on SIGINT, after its
    clean-up; one stuck in its clean-up ends only on SIGKILL), leaving ``processes`` as
    the batch's worker does."""

    def __init__(self, student: str, processes: dict[str, Any], ends_on: int) -> None:
        self.student, self.processes, self.ends_on = student, processes, ends_on
        self.ended = threading.Event()
        self.signals: list[int] = []
        processes[student] = self

    def send_signal(self, signum: int) -> None:
        self.signals.append(signum)
        if signum == self.ends_on:
            self.processes.pop(self.student, None)
            self.ended.set()


def test_a_grade_stuck_after_ctrl_c_is_killed_and_what_it_made_is_swept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C never leaves a batch hanging: a grade that does not end within STOP_WAIT_S
    of SIGINT gets SIGKILL, and the engine is swept of what it made; one that ended on
    SIGINT is not killed."""
    import signal
    from concurrent.futures import ThreadPoolExecutor

    import grader.engine.session as session

    swept: list[object] = []
    monkeypatch.setattr(batch, "STOP_WAIT_S", 0.5)
    monkeypatch.setattr(session, "connect", lambda timeout: "the engine")
    monkeypatch.setattr(session, "sweep", swept.append)
    processes: dict[str, Any] = {}
    stuck = _FakeGrade("ann", processes, ends_on=signal.SIGKILL)
    polite = _FakeGrade("bo", processes, ends_on=signal.SIGINT)
    with ThreadPoolExecutor(2) as pool:
        futures = {pool.submit(g.ended.wait, 60): g.student for g in (stuck, polite)}
        killed = batch.stop_grades(processes, futures)
        assert all(future.done() for future in futures)
    assert killed == ["ann"]
    assert stuck.signals == [signal.SIGINT, signal.SIGKILL]
    assert polite.signals == [signal.SIGINT]
    assert swept == ["the engine"]


def test_grades_that_end_on_ctrl_c_are_neither_killed_nor_swept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import signal
    from concurrent.futures import ThreadPoolExecutor

    import grader.engine.session as session

    swept: list[object] = []
    monkeypatch.setattr(session, "connect", lambda timeout: "the engine")
    monkeypatch.setattr(session, "sweep", swept.append)
    processes: dict[str, Any] = {}
    grades = [_FakeGrade(s, processes, ends_on=signal.SIGINT) for s in ("ann", "bo")]
    with ThreadPoolExecutor(2) as pool:
        futures = {pool.submit(g.ended.wait, 60): g.student for g in grades}
        assert batch.stop_grades(processes, futures) == []
    assert [g.signals for g in grades] == [[signal.SIGINT], [signal.SIGINT]]
    assert swept == []
