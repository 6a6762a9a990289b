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


def test_only_nested_lanes_are_taken() -> None:
    result = _run("host")
    assert result.returncode == 2
    assert "not a nested lane: host" in result.stderr
