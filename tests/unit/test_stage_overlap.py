"""The cache proof's rebuilds run beside the container's stage, and the containers a grade
starts are only the ones it needs (the app; the volume scenario's second one)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from grader.api import grade_with_spec
from grader.errors import EngineError, GradingInterrupted
from grader.results import CheckStatus
from grader.spec import CheckSpec, ExerciseSpec, load_spec
from tests.unit.fake_engine import HANG, RECORDED_DOCKERFILE, FakeSession, recorded

ROOT = Path(__file__).resolve().parents[2]
CACHED_INSTALL = "buildkit-20.10--app-edit-install-cached.jsonl"
CONTAINER_AND_CACHE = ("builds", "serves_predict", "data_survives_recreate", "cache_app_edit")


def spec_for(*check_ids: str, extra: bool = True) -> ExerciseSpec:
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    checks = [CheckSpec(id=c, points=1) for c in check_ids]
    update: dict[str, object] = {"checks": checks}
    if not extra:
        update["extra_checks"] = None
    return spec.model_copy(update=update)


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(RECORDED_DOCKERFILE)
    return tmp_path


def _alongside_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("grade-alongside")]


def test_own_checks_use_the_container_the_volume_scenario_left_running(
    submission: Path,
) -> None:
    """With a volume scenario, are the exercise's own checks run on its second container,
    with no third start, and is every container the grade started stopped?"""
    engine = FakeSession(builds=[recorded(CACHED_INSTALL)] * 3, running=True)
    report = grade_with_spec(spec_for(*CONTAINER_AND_CACHE), submission, open_engine=engine)  # type: ignore[arg-type]
    assert engine.purposes == ["app", "app-again"]
    extra = {c.id: c for c in report.checks if c.id not in CONTAINER_AND_CACHE}
    assert extra["process_not_root"].status is CheckStatus.PASSED, extra["process_not_root"]
    assert ["id", "-u"] in engine.started[1].execs, "the own checks ran in the second one"
    assert {id(c) for c in engine.started} == {id(c) for c in engine.stopped}
    assert _alongside_threads() == []


def test_own_checks_use_the_first_container_without_a_volume_scenario(submission: Path) -> None:
    """Without a volume scenario, do the exercise's own checks run on the app's container?"""
    engine = FakeSession(builds=[recorded(CACHED_INSTALL)] * 3, running=True)
    grade_with_spec(spec_for("builds", "serves_predict"), submission, open_engine=engine)  # type: ignore[arg-type]
    assert engine.purposes == ["app"]
    assert ["id", "-u"] in engine.started[0].execs
    assert len(engine.stopped) == 1


def test_the_cache_proof_is_judged_while_the_app_runs(submission: Path) -> None:
    """Is the cache proof's rebuild started before the container stage is over (the
    container's start waits for it, and the grade still ends with both verdicts)?"""
    engine = FakeSession(
        builds=[recorded(CACHED_INSTALL)] * 3, running=True, start_waits_for_build=2
    )
    spec = spec_for(*CONTAINER_AND_CACHE, extra=False)
    report = grade_with_spec(spec, submission, open_engine=engine)  # type: ignore[arg-type]
    by_id = {c.id: c for c in report.checks}
    assert by_id["serves_predict"].status is not CheckStatus.ERROR, by_id["serves_predict"]
    assert by_id["cache_app_edit"].status is CheckStatus.PASSED, by_id["cache_app_edit"]
    assert by_id["builds"].status is CheckStatus.PASSED


def test_an_engine_fault_in_the_rebuilds_beside_ends_the_engine_stages(submission: Path) -> None:
    """Does an engine fault met by a rebuild in its thread still reach the report as the
    grade's engine fault, with the cache check in error, not a learner's failure?"""
    engine = FakeSession(
        builds=[recorded(CACHED_INSTALL), EngineError("The engine went away mid-build.")],
        running=True,
    )
    spec = spec_for(*CONTAINER_AND_CACHE, extra=False)
    report = grade_with_spec(spec, submission, open_engine=engine)  # type: ignore[arg-type]
    by_id = {c.id: c for c in report.checks}
    assert by_id["cache_app_edit"].status is CheckStatus.ERROR
    assert "went away" in report.fault
    assert report.fault_kind == "engine"
    assert report.exit_code == 2
    assert {id(c) for c in engine.started} == {id(c) for c in engine.stopped}


def test_an_interrupted_grade_cancels_the_rebuild_beside_it(submission: Path) -> None:
    """When Ctrl-C stops the grade while a rebuild runs beside it, is that build cancelled
    and its thread finished before the grade returns?"""
    engine = FakeSession(
        builds=[recorded(CACHED_INSTALL), [HANG], [HANG]],
        running=True,
        start_waits_for_build=2,
        start_error=GradingInterrupted(2),
    )
    spec = spec_for(*CONTAINER_AND_CACHE, extra=False)
    with pytest.raises(GradingInterrupted):
        grade_with_spec(spec, submission, open_engine=engine)  # type: ignore[arg-type]
    assert len(engine.handles) == 2
    assert engine.handles[1].cancelled
    assert _alongside_threads() == []
