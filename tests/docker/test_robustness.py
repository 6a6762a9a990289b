"""Faults and interruptions: the engine vanishing mid-grade, Ctrl-C and SIGTERM, two graders at
once, repeated grades. Every run must end with a clear verdict and leave nothing behind."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.signals import interruptible

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "model-api"
SUBMISSIONS = ROOT / "tests" / "submissions"


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file's path, mode and content hash (symlinks by target)."""
    prints = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            prints[key] = "link:" + os.readlink(path)
        elif path.is_file():
            prints[key] = (
                f"{path.stat().st_mode:o}:" + hashlib.sha256(path.read_bytes()).hexdigest()
            )
    return prints


def grader(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "grader", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=interruptible,
    )


def wait_for(predicate, timeout: float = 180) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail("the condition was never met")


def app_container_running(client) -> bool:  # type: ignore[no-untyped-def]
    """The run stage has started (build steps make labelled containers too, unnamed)."""
    return bool(client.containers.list(filters={"name": "docker-ml-course-app-"}))


def slow_build_submission(tmp_path: Path) -> Path:
    folder = tmp_path / "slow-build"
    folder.mkdir()
    # A token of its own: a build that once ran to the end must not come from the cache.
    (folder / "Dockerfile").write_text(
        f'FROM python:3.11-slim\nRUN echo {uuid.uuid4().hex} && sleep 120\nCMD ["python"]\n'
    )
    return folder


def build_step_running(client) -> bool:  # type: ignore[no-untyped-def]
    """The slow RUN step's process exists (the local engine's steps are host processes, in
    containers for the classic builder and in BuildKit's own runc sandboxes)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if words[:2] == [b"sleep", b"120"]:
            return True
    return False


@pytest.mark.parametrize(
    ("signum", "exit_code", "stage", "builder"),
    [
        (signal.SIGINT, 130, "build", "buildkit"),
        (signal.SIGTERM, 143, "build", "buildkit"),
        (signal.SIGINT, 130, "build", "classic"),
        (signal.SIGTERM, 143, "build", "classic"),
        (signal.SIGINT, 130, "run", "auto"),
        (signal.SIGTERM, 143, "run", "auto"),
    ],
    ids=[
        "ctrl-c-in-buildkit-build",
        "sigterm-in-buildkit-build",
        "ctrl-c-in-classic-build",
        "sigterm-in-classic-build",
        "ctrl-c-in-run",
        "sigterm-in-run",
    ],
)
def test_interrupt_stops_and_cleans_up(
    tmp_path: Path,
    docker_client,
    our_resources,
    signum: int,
    exit_code: int,
    stage: str,
    builder: str,
) -> None:
    """Does Ctrl-C or SIGTERM stop the build or the container, clean up, and exit 130/143?"""
    if stage == "build":
        submission = slow_build_submission(tmp_path)

        def reached() -> bool:
            return build_step_running(docker_client)
    else:
        submission = tmp_path / "reference"
        shutil.copytree(REFERENCE, submission)

        def reached() -> bool:
            return app_container_running(docker_client)

    before = fingerprint(submission)
    process = grader(
        "check", str(submission), "--exercise", "model-api", "--no-progress", "--builder", builder
    )
    try:
        wait_for(reached)
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == exit_code, err
    assert "Traceback" not in err
    assert our_resources() == []
    assert not build_step_running(docker_client)
    assert fingerprint(submission) == before


class SocketProxy:
    """A unix-socket proxy in front of the engine, which the test can cut mid-grade."""

    def __init__(self, path: Path, target: str) -> None:
        self.path, self.target = path, target
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(64)
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.server.close()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            except OSError:
                pass


@pytest.fixture
def engine_proxy(tmp_path: Path) -> Iterator[SocketProxy]:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        pytest.skip("the proxy fronts a unix-socket engine")
    proxy = SocketProxy(tmp_path / "engine.sock", host.removeprefix("unix://"))
    yield proxy
    proxy.cut()


def test_engine_vanishing_mid_grade_is_an_error_not_a_failure(
    tmp_path: Path, docker_client, our_resources, engine_proxy: SocketProxy
) -> None:
    """When the engine goes away during the run stage, is it `error` and exit 2, never `failed`?"""
    submission = tmp_path / "reference"
    shutil.copytree(REFERENCE, submission)
    process = grader(
        "check",
        str(submission),
        "--exercise",
        "model-api",
        "--format",
        "json",
        "--no-progress",
        env={"DOCKER_HOST": f"unix://{engine_proxy.path}"},
    )
    try:
        wait_for(lambda: app_container_running(docker_client))
        engine_proxy.cut()
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, err
    report = json.loads(out)
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses.get("builds") == "passed", out
    assert "error" in statuses.values()
    assert "failed" not in statuses.values()
    assert report["fault"]
    # The grader could not clean up through a dead engine; the next run's sweep does.
    subprocess.run(
        [sys.executable, "-m", "grader", "engine", "sweep"], check=True, capture_output=True
    )
    assert our_resources() == []


def _statuses(out: str) -> tuple[float, dict[str, str]]:
    report = json.loads(out)
    return report["score"], {c["id"]: c["status"] for c in report["checks"]}


@pytest.mark.slow
def test_concurrent_and_repeated_grades_agree(tmp_path: Path, docker_client, our_resources) -> None:
    """Do two graders at once (same and different submissions) not collide, and agree with
    a later grade of the same submissions?"""
    failing = SUBMISSIONS / "model-api--fail--shell-form-cmd"
    before = {REFERENCE: fingerprint(REFERENCE), failing: fingerprint(failing)}
    runs = [REFERENCE, REFERENCE, failing]

    def run(folder: Path) -> tuple[int, str]:
        process = grader(
            "check", str(folder), "--exercise", "model-api", "--format", "json", "--no-progress"
        )
        out, err = process.communicate(timeout=900)
        assert "Traceback" not in err
        return process.returncode, out

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(run, runs))
    assert [code for code, _ in results] == [0, 0, 0]
    first, second, third = (_statuses(out) for _, out in results)
    assert first == second
    assert first[0] == 100
    assert third[1]["exec_form_cmd"] == "failed"
    again = _statuses(run(failing)[1])
    assert again == third
    assert our_resources() == []
    assert {folder: fingerprint(folder) for folder in before} == before
