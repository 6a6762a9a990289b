"""The registry of checks: every id a spec names is implemented, and every implemented
check is reached by a stage of the pipeline."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

import grader.checks
from grader.api import grade_with_spec
from grader.checks import CHECKS, KNOWN_CHECKS, Check, Needs, Verdict
from grader.results import CheckStatus
from grader.spec import CheckSpec, load_spec
from tests.unit.fake_engine import RECORDED_DOCKERFILE, FakeSession, recorded

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "exercises").glob("*.toml"))


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_every_check_a_spec_names_is_implemented(spec_path: Path) -> None:
    """Does each id listed in an exercise spec have a registered check?"""
    ids = [c["id"] for c in tomllib.loads(spec_path.read_text())["checks"]]
    assert ids
    assert set(ids) <= set(CHECKS), set(ids) - set(CHECKS)


def test_checks_are_declared_once_with_a_title() -> None:
    """Is every registered check a Check with its own id, a title and a stage?"""
    assert len(SPECS) >= 1
    assert frozenset(CHECKS) == KNOWN_CHECKS
    for check_id, check in CHECKS.items():
        assert isinstance(check, Check)
        assert check.id == check_id
        assert check.title
        assert isinstance(check.needs, Needs)
        assert check.points >= 0
    codes = [code for c in CHECKS.values() for code in c.hadolint_codes]
    assert len(codes) == len(set(codes)), "a hadolint code is judged by two checks"


def test_every_registered_check_is_reached_by_a_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every check in the spec and every stage able to run (fake engine, a container
    that answers), does each registered check run?"""
    for check_id, check in list(CHECKS.items()):
        ran = Verdict.passed(f"{check_id} ran")
        monkeypatch.setitem(
            CHECKS, check_id, replace(check, run=lambda _ctx, v=ran: v, static_part=None)
        )
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    limits = spec.limits.model_copy(update={"readiness_timeout_s": 5})
    spec = spec.model_copy(
        update={
            "checks": [CheckSpec(id=c, points=1) for c in CHECKS],
            "extra_checks": None,
            "limits": limits,
        }
    )
    (tmp_path / "Dockerfile").write_text(RECORDED_DOCKERFILE)
    engine = FakeSession(builds=[recorded("buildkit-20.10--app-edit-install-cached.jsonl")])
    engine.running = True
    report = grade_with_spec(spec, tmp_path, open_engine=engine)
    assert {c.id: c.message for c in report.checks} == {c: f"{c} ran" for c in CHECKS}
    assert all(c.status is CheckStatus.PASSED for c in report.checks)
    assert report.exit_code == 0


def test_the_light_names_do_not_load_the_registry() -> None:
    """Do `Verdict` and friends come from grader.checks without a cycle, the registry on
    demand?"""
    assert grader.checks.Verdict is Verdict
    assert "CHECKS" in grader.checks.__all__
    with pytest.raises(AttributeError):
        _ = grader.checks.NO_SUCH_NAME  # type: ignore[attr-defined]


def test_the_volume_check_comes_last_among_the_container_checks() -> None:
    """It stops the container to re-create it: a container check after it would find none."""
    from grader.checks.base import Needs
    from grader.checks.registry import checks_needing

    assert checks_needing(Needs.CONTAINER)[-1].id == "data_survives_recreate"
