"""Cleanup: a grade leaves nothing behind, and leftovers of a killed run are swept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from grader import engine
from grader.engine import LABEL_RUN, RunId

ROOT = Path(__file__).resolve().parents[2]


def test_sweep_removes_a_dead_runs_resources_and_keeps_a_live_ones(docker_client) -> None:
    """Are resources of a run whose process is gone removed, and a running one's kept?"""
    dead = RunId(RunId.new().host, 2**22 + 4321, int(time.time()), "deadbeef00")
    alive = RunId.new()
    dead_volume = docker_client.volumes.create(labels={LABEL_RUN: str(dead)})
    dead_container = docker_client.containers.create(
        engine.BASE_IMAGE, ["true"], labels={LABEL_RUN: str(dead)}
    )
    live_volume = docker_client.volumes.create(labels={LABEL_RUN: str(alive)})
    try:
        report = engine.sweep(docker_client)
        names = [v.name for v in docker_client.volumes.list(filters={"label": LABEL_RUN})]
        assert dead_volume.name not in names
        assert live_volume.name in names
        assert report.volumes >= 1
        assert report.containers >= 1
        assert dead_container.id not in [c.id for c in docker_client.containers.list(all=True)]
    finally:
        live_volume.remove(force=True)


def test_killed_grader_leaves_nothing_after_the_next_sweep(
    tmp_path: Path, docker_client, our_resources
) -> None:
    """After `grader check` is killed with SIGKILL mid-run, does the next run remove its leftovers?"""
    command = [
        sys.executable,
        "-m",
        "grader",
        "check",
        str(ROOT / "solutions" / "model-api"),
        "--format",
        "json",
        "--no-progress",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
            item.startswith("container") for item in our_resources()
        ):
            time.sleep(0.2)
        assert our_resources(), "the grader never started a container"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert our_resources(), "SIGKILL cannot clean up: something must be left to sweep"
    result = subprocess.run(
        [sys.executable, "-m", "grader", "engine", "sweep"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert our_resources() == []
