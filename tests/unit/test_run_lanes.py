"""The runner that puts the engine lanes side by side (tests/run_lanes.py), without engines:
with ``--collect-only`` no session starts its nested engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.run_lanes", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_each_lane_is_its_own_session_and_every_line_says_whose() -> None:
    result = _run("--no-leftover-check", "modern", "podman", "--", "--collect-only", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for lane in ("modern", "podman"):
        own = [line for line in lines if line.startswith(f"{lane:<6} | ")]
        assert any(f"-{lane}]" in line for line in own), own[:5]
        assert any("tests/lessons/test_lessons.py::" in line for line in own)
        assert f"  {lane:<6}  passed" in lines
    assert "modern-containerd" not in result.stdout


def test_a_failing_lane_fails_the_run() -> None:
    result = _run("--no-leftover-check", "modern", "--", "--no-such-pytest-option")
    assert result.returncode == 1
    assert "FAILED (pytest exit 4)" in result.stdout


def test_the_host_is_the_whole_suite_and_a_nested_lane_the_engine_sensitive_part() -> None:
    result = _run("--no-leftover-check", "host", "modern", "--", "--collect-only", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    tests = {
        lane: {line.split(" | ", 1)[1] for line in lines if line.startswith(f"{lane:<6} | ")}
        for lane in ("host", "modern")
    }
    everything = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    ).stdout.splitlines()
    assert {t for t in tests["host"] if "::" in t} == {t for t in everything if "::" in t}
    assert any("[model-api--fail--secret-in-env-modern]" in t for t in tests["modern"])
    assert not any("tests/unit/" in t for t in tests["modern"])
    for lane in ("host", "modern"):
        assert f"  {lane:<6}  passed" in lines


def test_an_unknown_lane_is_refused_with_the_lanes_there_are() -> None:
    result = _run("docker-desktop")
    assert result.returncode == 2
    assert "not a lane: docker-desktop" in result.stderr
    assert "host, modern, modern-containerd, podman" in result.stderr
