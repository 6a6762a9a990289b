"""The HEALTHCHECK check: declared in the Dockerfile and passing in the running container."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.api import grade_with_spec
from grader.results import CheckResult, CheckStatus
from grader.spec import CheckSpec, load_spec
from tests.unit.fake_engine import RECORDED_DOCKERFILE, FakeSession, recorded

ROOT = Path(__file__).resolve().parents[2]
CACHED_INSTALL = "buildkit-20.10--app-edit-install-cached.jsonl"
CURL = "curl -f http://127.0.0.1:8000/health || exit 1"
WITH_CURL = RECORDED_DOCKERFILE.replace(
    "USER appuser\n", f"USER appuser\nHEALTHCHECK --interval=30s CMD {CURL}\n"
)
CURL_TEST = {"Test": ["CMD-SHELL", CURL], "Interval": 30 * 10**9, "Timeout": 3 * 10**9}
# What the engine logs for that HEALTHCHECK on python:3.11-slim (Engine 20.10).
NO_CURL = "/bin/sh: 1: curl: not found\n"


def grade(tmp_path: Path, dockerfile: str, **engine_options: Any) -> CheckResult:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    checks = [CheckSpec(id=c, points=1) for c in ("builds", "serves_predict", "healthcheck")]
    limits = spec.limits.model_copy(update={"readiness_timeout_s": 10})
    spec = spec.model_copy(update={"checks": checks, "extra_checks": None, "limits": limits})
    engine = FakeSession(builds=[recorded(CACHED_INSTALL)], running=True, **engine_options)
    report = grade_with_spec(spec, tmp_path, open_engine=engine)
    return next(c for c in report.checks if c.id == "healthcheck")


def test_no_healthcheck_fails_from_the_files_alone(tmp_path: Path) -> None:
    """Is a Dockerfile without HEALTHCHECK failed (no line, a hint with an example) even
    when no engine is there to run anything?"""
    (tmp_path / "Dockerfile").write_text(RECORDED_DOCKERFILE)
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    spec = spec.model_copy(
        update={"checks": [CheckSpec(id="healthcheck", points=2)], "extra_checks": None}
    )
    result = next(c for c in grade_with_spec(spec, tmp_path).checks if c.id == "healthcheck")
    assert result.status is CheckStatus.FAILED
    assert "no HEALTHCHECK" in result.message
    assert result.line is None
    assert "urllib.request" in result.hint
    assert "/health" in result.hint


def test_a_healthcheck_needing_curl_fails_with_its_output_and_the_python_fix(
    tmp_path: Path,
) -> None:
    """When the grader runs the health command (the engine's first run still due) and
    it says `curl: not found`, is that the message, on the HEALTHCHECK's line, with a
    hint to use Python?"""
    result = grade(tmp_path, WITH_CURL, healthcheck=CURL_TEST, health_command=(127, NO_CURL))
    assert result.status is CheckStatus.FAILED
    assert "curl: not found" in result.message
    assert "exit 127" in result.message
    assert result.line == 9
    assert "`curl` is not in the image" in result.hint
    assert "python" in result.hint
    assert "urllib.request" in result.hint


def test_the_engines_unhealthy_verdict_is_reported_with_its_last_output(
    tmp_path: Path,
) -> None:
    """When the engine already says `unhealthy`, is its last run's output the message?"""
    log = [{"ExitCode": 1, "Output": NO_CURL}]
    result = grade(tmp_path, WITH_CURL, healthcheck=CURL_TEST, health_status=("unhealthy", log))
    assert result.status is CheckStatus.FAILED
    assert "the engine's, exit 1" in result.message
    assert "curl: not found" in result.message


def test_an_exec_form_command_missing_from_the_image_names_the_program(tmp_path: Path) -> None:
    """Is the runtime's `exec: "wget": executable file not found` read as a missing tool?"""
    said = (
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "wget":'
        " executable file not found in $PATH: unknown\r\n"
    )
    test = {"Test": ["CMD", "wget", "-qO-", "http://127.0.0.1:8000/health"]}
    result = grade(tmp_path, WITH_CURL, healthcheck=test, health_command=(126, said))
    assert "`wget` is not in the image" in result.hint


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"health_status": ("healthy", [])}, "became healthy"),
        ({"health_command": (0, "")}, "exits 0 in the running container"),
    ],
    ids=["engine-says-healthy", "grader-ran-it"],
)
def test_a_working_healthcheck_passes(tmp_path: Path, options: dict[str, Any], words: str) -> None:
    """Does a HEALTHCHECK pass once the engine says healthy, or once its command, run by
    the grader while the engine's first run is due, exits 0?"""
    python_test = {"Test": ["CMD", "python", "-c", "import urllib.request"]}
    result = grade(tmp_path, WITH_CURL, healthcheck=python_test, **options)
    assert result.status is CheckStatus.PASSED, result.message
    assert words in result.message


def test_a_health_command_that_never_ends_fails(tmp_path: Path) -> None:
    """Is a health command still running after its timeout a failure that says so?"""
    result = grade(tmp_path, WITH_CURL, healthcheck=CURL_TEST, health_command=None)
    assert result.status is CheckStatus.FAILED
    assert "did not finish within 3 s" in result.message


def test_an_image_format_without_healthcheck_runs_the_dockerfiles_own(tmp_path: Path) -> None:
    """Podman builds OCI images, whose config keeps no HEALTHCHECK: is the Dockerfile's
    own command run instead (the verdict Docker would give), never 'the image has none'?"""
    result = grade(tmp_path, WITH_CURL, healthcheck=None, health_command=(127, NO_CURL))
    assert result.status is CheckStatus.FAILED
    assert "curl: not found" in result.message
    assert "has no HEALTHCHECK" not in result.message
    python = WITH_CURL.replace(CURL, '["python", "-c", "import urllib.request"]')
    result = grade(tmp_path, python, healthcheck=None, health_command=(0, ""))
    assert result.status is CheckStatus.PASSED, result.message


def test_the_dockerfiles_own_healthcheck_keeps_its_timeout(tmp_path: Path) -> None:
    """Run for an engine whose images keep no HEALTHCHECK, is its `--timeout` the one
    applied (not the engine's 30 s default), and does a pass say who ran it?"""
    timed = WITH_CURL.replace("--interval=30s", "--interval=1m30s --timeout=2s")
    result = grade(tmp_path, timed, healthcheck=None, health_command=None)
    assert result.status is CheckStatus.FAILED
    assert "did not finish within 2 s" in result.message
    result = grade(tmp_path, timed, healthcheck=None, health_command=(0, ""))
    assert "as the Dockerfile declares it" in result.message


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [("30s", 30 * 10**9), ("1m30s", 90 * 10**9), ("500ms", 5 * 10**8), ("2h", 7200 * 10**9)],
)
def test_healthcheck_durations_read_as_the_engine_keeps_them(text: str, nanoseconds: int) -> None:
    from grader.checks.health import _duration_ns

    assert _duration_ns(text) == nanoseconds
    assert _duration_ns(text + "x") is None
