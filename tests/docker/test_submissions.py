"""Each submission in tests/submissions/ fails exactly the checks its expected.toml lists.

A folder's name says its outcome (``model-api--fail--copy-before-install``), nbval
style; expected.toml says which checks fail, which are skipped, the exit status, and
words that the hint, the message and the line of a check must contain.

Every submission is graded with BuildKit and with the classic builder, and both must
give the same verdict on every check; ``builders = [...]`` in expected.toml narrows
that for a submission about one builder (BuildKit-only syntax, the classic builder's
memory limit), saying why. Submissions that never reach a build are graded once.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from grader.api import grade_with_spec
from grader.dockerfile import DockerfileProblem, read_dockerfile
from grader.results import CheckStatus, GradeReport
from grader.spec import ExerciseSpec, load_spec

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = sorted((ROOT / "tests" / "submissions").glob("model-api--*"))
BUILDERS = ("buildkit", "classic")


def _expected(folder: Path) -> dict:
    return tomllib.loads((folder / "expected.toml").read_text())


def _builders(folder: Path) -> tuple[str, ...]:
    if isinstance(read_dockerfile(folder / "Dockerfile"), DockerfileProblem):
        return ("auto",)  # the Dockerfile is refused before any builder sees it
    return tuple(_expected(folder).get("builders", BUILDERS))


CASES = [
    pytest.param(folder, builder, id=f"{folder.name.removeprefix('model-api--')}-{builder}")
    for folder in SUBMISSIONS
    for builder in _builders(folder)
]
# Each grade once: the comparison across builders reuses the reports.
_REPORTS: dict[tuple[str, str], GradeReport] = {}


def _graded(folder: Path, builder: str) -> GradeReport:
    key = (folder.name, builder)
    if key not in _REPORTS:
        choice = None if builder == "auto" else builder
        _REPORTS[key] = grade_with_spec(spec_for(_expected(folder)), folder, builder=choice)
    return _REPORTS[key]


def spec_for(expected: dict) -> ExerciseSpec:
    """The real spec with a shorter readiness wait (the app is ready in seconds when it
    works), and the limits a fixture asks for."""
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    limits = spec.limits.model_copy(
        update={"readiness_timeout_s": 20, **expected.get("limits", {})}
    )
    return spec.model_copy(update={"limits": limits})


@pytest.mark.slow
@pytest.mark.parametrize(("folder", "builder"), CASES)
def test_submission_gets_the_verdict_its_name_says(folder: Path, builder: str) -> None:
    """Does this submission fail exactly the checks it should, with the expected hints?"""
    expected = _expected(folder)
    started = time.monotonic()
    report = _graded(folder, builder)
    elapsed = time.monotonic() - started
    if builder != "auto":
        assert report.builder == builder
    status = {c.id: c.status for c in report.checks}
    by_id = {c.id: c for c in report.checks}
    summary = {
        c.id: (c.status.value, c.message[:160])
        for c in report.checks
        if c.status is not CheckStatus.PASSED
    }

    assert [c for c, s in status.items() if s is CheckStatus.ERROR] == [], summary
    failed = {c for c, s in status.items() if s is CheckStatus.FAILED}
    skipped = {c for c, s in status.items() if s is CheckStatus.SKIPPED}
    if expected.get("partial"):
        # Hostile fixtures: only the checks they are about are pinned.
        assert set(expected["failed"]) <= failed, summary
        assert set(expected.get("skipped", [])) <= skipped, summary
    else:
        assert sorted(failed) == sorted(expected["failed"]), summary
        assert sorted(skipped) == sorted(expected.get("skipped", [])), summary
    if "max_seconds" in expected:
        # Not a speed test: a bound that a hang or a missed limit would blow through.
        assert elapsed < expected["max_seconds"], f"took {elapsed:.0f} s"
    assert report.exit_code == expected["exit_code"]
    if "--pass--" in folder.name:
        assert report.score == report.max_score
    for check_id, words in expected.get("hints", {}).items():
        assert words in by_id[check_id].hint, by_id[check_id].hint
    for check_id, words in expected.get("messages", {}).items():
        assert words in by_id[check_id].message, by_id[check_id].message
    for check_id, words in expected.get("details", {}).items():
        assert words in by_id[check_id].details, by_id[check_id].details
        assert len(by_id[check_id].details) < 20_000
    for check_id, line in expected.get("lines", {}).items():
        assert by_id[check_id].line == line, by_id[check_id]


@pytest.mark.slow
@pytest.mark.parametrize(
    "folder",
    [f for f in SUBMISSIONS if _builders(f) == BUILDERS],
    ids=lambda p: p.name.removeprefix("model-api--"),
)
def test_both_builders_give_the_same_verdicts(folder: Path) -> None:
    """Do BuildKit and the classic builder agree on every check of this submission?"""
    statuses = {
        builder: {c.id: c.status for c in _graded(folder, builder).checks} for builder in BUILDERS
    }
    assert statuses["buildkit"] == statuses["classic"]


def test_every_submission_declares_its_outcome() -> None:
    """Does every fixture folder say what it expects, and fail the check its name names?"""
    assert len(SUBMISSIONS) >= 10
    for folder in SUBMISSIONS:
        expected = tomllib.loads((folder / "expected.toml").read_text())
        kind = folder.name.split("--")[1]
        assert kind in {"pass", "fail"}, folder.name
        assert (kind == "pass") == (expected["failed"] == []), folder.name
        assert set(expected) <= {
            "failed",
            "skipped",
            "partial",
            "exit_code",
            "max_seconds",
            "limits",
            "hints",
            "messages",
            "details",
            "lines",
            "builders",
        }, folder.name
        assert set(expected.get("builders", BUILDERS)) <= set(BUILDERS), folder.name


@pytest.mark.slow
def test_an_unpullable_syntax_frontend_is_set_aside_with_a_note() -> None:
    """Offline, is a `# syntax=` line graded with the built-in frontend, and is that said?"""
    folder = ROOT / "tests" / "submissions" / "model-api--pass--syntax-directive-offline"
    builds = next(c for c in _graded(folder, "buildkit").checks if c.id == "builds")
    assert builds.status is CheckStatus.PASSED
    assert "docker/dockerfile:1" in builds.message
    assert "built-in frontend" in builds.message
