"""The build's inactivity watchdog: a silent step is stopped early, a busy one is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.api import grade_with_spec
from grader.engine.builders import BuilderKind
from grader.results import CheckStatus
from grader.spec import CheckSpec, ExerciseSpec, load_spec
from tests.unit.fake_engine import HANG, FakeSession, recorded

ROOT = Path(__file__).resolve().parents[2]
NEVER_ENDS = ROOT / "tests" / "submissions" / "model-api--fail--build-never-ends"
# Recorded on Engine 20.10 from that fixture, up to `RUN sleep 3600` (line 3) going
# silent: after these chunks, neither builder sends anything until the step ends.
SILENT = {
    BuilderKind.BUILDKIT: "buildkit-20.10--run-sleeps-silently.jsonl",
    BuilderKind.CLASSIC: "classic-20.10--run-sleeps-silently.jsonl",
}


def spec_with(**limits: float) -> ExerciseSpec:
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    return spec.model_copy(
        update={
            "checks": [CheckSpec(id="builds", points=1, required=True)],
            "extra_checks": None,
            "limits": spec.limits.model_copy(update=limits),
        }
    )


def grade_silent_build(kind: BuilderKind, *, busy: bool = False, **limits: float):  # type: ignore[no-untyped-def]
    engine = FakeSession(builds=[[*recorded(SILENT[kind]), HANG]], kind=kind, busy_steps=busy)
    report = grade_with_spec(spec_with(**limits), NEVER_ENDS, open_engine=engine)
    return next(c for c in report.checks if c.id == "builds")


@pytest.mark.parametrize("kind", [BuilderKind.BUILDKIT, BuilderKind.CLASSIC])
def test_a_silent_step_is_stopped_after_the_inactivity_window(kind: BuilderKind) -> None:
    """Is `RUN sleep 3600` stopped for its silence, long before the wall-clock limit,
    with the step and its line named?"""
    builds = grade_silent_build(kind, build_inactivity_s=1, build_timeout_s=600)
    assert builds.status is CheckStatus.FAILED
    assert "RUN sleep 3600" in builds.message
    assert "for 1 s, so it was stopped" in builds.message
    assert builds.line == 3
    assert "servers belong in CMD" in builds.hint
    # The inactivity watchdog's verdict, not the wall-clock limit's (benchmarks time it).
    assert "build's limit" not in builds.message


def test_with_the_classic_builder_silence_and_no_cpu_are_both_measured() -> None:
    """Does the classic builder's verdict say that the step used no CPU either, and
    BuildKit's only what it measured (the stream)?"""
    classic = grade_silent_build(BuilderKind.CLASSIC, build_inactivity_s=1)
    buildkit = grade_silent_build(BuilderKind.BUILDKIT, build_inactivity_s=1)
    assert "produced no output and used no CPU" in classic.message
    assert "no CPU" not in buildkit.message
    assert "produced no output" in buildkit.message


def test_a_silent_but_busy_classic_step_runs_to_the_wall_clock_limit() -> None:
    """Is a step that prints nothing but uses CPU (a long compile) left alone by the
    inactivity watchdog, so that only the wall-clock limit stops it?"""
    builds = grade_silent_build(
        BuilderKind.CLASSIC, busy=True, build_inactivity_s=1, build_timeout_s=4
    )
    assert builds.status is CheckStatus.FAILED
    assert "still running after the build's limit of 4 s" in builds.message
    assert builds.line == 3


def test_the_inactivity_limit_has_a_default_and_an_explanation() -> None:
    """Does the spec offer the limit with a two-minute default, documented?"""
    field = type(spec_with().limits).model_fields["build_inactivity_s"]
    assert field.default == 120
    assert "silent" in (field.description or "")
