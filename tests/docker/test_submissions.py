"""Each submission in tests/submissions/ fails exactly the checks its expected.toml lists.

A folder's name says its outcome (``model-api--fail--copy-before-install``), nbval
style; expected.toml says which checks fail, which are skipped, the exit status, and
words that the hint, the message and the line of a check must contain.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from grader.api import grade_with_spec
from grader.results import CheckStatus
from grader.spec import ExerciseSpec, load_spec

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = sorted((ROOT / "tests" / "submissions").glob("model-api--*"))


def spec_for(expected: dict) -> ExerciseSpec:
    """The real spec with a shorter readiness wait (the app is ready in seconds when it
    works), and the limits a fixture asks for."""
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    limits = spec.limits.model_copy(
        update={"readiness_timeout_s": 20, **expected.get("limits", {})}
    )
    return spec.model_copy(update={"limits": limits})


@pytest.mark.slow
@pytest.mark.parametrize("folder", SUBMISSIONS, ids=lambda p: p.name.removeprefix("model-api--"))
def test_submission_gets_the_verdict_its_name_says(folder: Path) -> None:
    """Does this submission fail exactly the checks it should, with the expected hints?"""
    expected = tomllib.loads((folder / "expected.toml").read_text())
    started = time.monotonic()
    report = grade_with_spec(spec_for(expected), folder)
    elapsed = time.monotonic() - started
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
        }, folder.name
