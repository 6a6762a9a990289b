"""The fault policy, through the fake engine: whose fault an `error` is, and that a grade
always comes back as a report once the spec has loaded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import docker.errors
import pytest

from grader.api import grade_with_spec
from grader.checks import CHECKS, Verdict
from grader.checks.base import EngineContext
from grader.errors import ContainerWontStart, FaultKind, SpecError, fault_of
from grader.results import CheckStatus, GradeReport
from grader.spec import CheckSpec, ExerciseSpec, load_spec
from tests.unit.fake_engine import RECORDED_DOCKERFILE, FakeSession, recorded

ROOT = Path(__file__).resolve().parents[2]
CACHED_INSTALL = "buildkit-20.10--app-edit-install-cached.jsonl"


def spec_with(*check_ids: str, **update: object) -> ExerciseSpec:
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    checks = [
        CheckSpec(id=c, points=1, required=c in {"builds", "serves_predict"}) for c in check_ids
    ]
    limits = spec.limits.model_copy(update={"readiness_timeout_s": 2})
    return spec.model_copy(
        update={"checks": checks, "extra_checks": None, "limits": limits, **update}
    )


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(RECORDED_DOCKERFILE)
    return tmp_path


def statuses(report: GradeReport) -> dict[str, CheckStatus]:
    return {c.id: c.status for c in report.checks}


def by_id(report: GradeReport, check_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.checks if c.id == check_id)


def test_a_check_that_raises_is_a_grader_bug_naming_it(
    submission: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a KeyError inside an engine-stage check become a grader `error` naming the check
    and the exception, never "the Docker engine failed", while the others get verdicts?"""

    def broken(ctx: EngineContext) -> Verdict:
        return Verdict.passed({}["Size"])

    monkeypatch.setitem(CHECKS, "image_size", replace(CHECKS["image_size"], run=broken))
    spec = spec_with("healthcheck", "builds", "cache_app_edit", "image_size")
    # The image, then the cache proof's two rebuilds.
    engine = FakeSession(builds=[recorded(CACHED_INSTALL)] * 3)
    report = grade_with_spec(spec, submission, open_engine=engine)

    size = by_id(report, "image_size")
    assert size.status is CheckStatus.ERROR
    assert "image_size" in size.message
    assert "KeyError" in size.message
    assert "Docker engine" not in size.message
    assert "bug in the grader: please report it" in size.hint
    assert statuses(report) == {
        "healthcheck": CheckStatus.FAILED,
        "builds": CheckStatus.PASSED,
        "cache_app_edit": CheckStatus.PASSED,
        "image_size": CheckStatus.ERROR,
    }
    assert report.fault_kind == FaultKind.GRADER
    assert report.exit_code == 2
    assert engine.closed


def test_a_static_rule_that_raises_leaves_the_other_rules_judged(
    submission: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is a bug in one Dockerfile rule that rule's `error`, with no engine involved?"""

    def broken(ctx: object) -> Verdict:
        raise IndexError("list index out of range")

    monkeypatch.setitem(CHECKS, "exec_form_cmd", replace(CHECKS["exec_form_cmd"], run=broken))
    report = grade_with_spec(spec_with("exec_form_cmd", "non_root_user"), submission)
    assert statuses(report) == {
        "exec_form_cmd": CheckStatus.ERROR,
        "non_root_user": CheckStatus.PASSED,
    }
    assert "IndexError" in by_id(report, "exec_form_cmd").message
    assert report.fault_kind == FaultKind.GRADER


def test_an_engine_fault_in_a_check_ends_the_engine_stages(submission: Path) -> None:
    """When the engine errs inside a check, is that check and every one after it an engine
    `error`, and the checks before it kept?"""

    class Failing(FakeSession):
        def image_attrs(self, reference: str) -> dict[str, object]:
            raise docker.errors.APIError("500 Server Error: engine is gone")

    spec = spec_with("builds", "image_size", "cache_app_edit")
    report = grade_with_spec(
        spec, submission, open_engine=Failing(builds=[recorded(CACHED_INSTALL)] * 3)
    )
    assert by_id(report, "builds").status is CheckStatus.PASSED
    assert by_id(report, "cache_app_edit").status is CheckStatus.PASSED
    size = by_id(report, "image_size")
    assert size.status is CheckStatus.ERROR
    assert size.message.startswith("The Docker engine failed: APIError")
    assert "check that the engine runs" in size.hint
    assert report.fault_kind == FaultKind.ENGINE
    assert report.exit_code == 2


def test_an_image_that_cannot_start_is_the_learners_failure(submission: Path) -> None:
    """When the engine refuses to start the image's program, is it `failed` on the first
    container check, with the engine's words, the rest skipped, and no fault?"""
    refused = ContainerWontStart(
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to "
        'start container process: exec: "uvicornn": executable file not found in $PATH: unknown',
        127,
    )
    spec = spec_with("builds", "serves_predict", "rejects_invalid_input")
    engine = FakeSession(builds=[recorded(CACHED_INSTALL)], start_error=refused)
    report = grade_with_spec(spec, submission, open_engine=engine)
    serves = by_id(report, "serves_predict")
    assert serves.status is CheckStatus.FAILED
    assert "could not start (exit code 127)" in serves.message
    assert "`uvicornn`" in serves.message
    assert "executable file not found" in serves.message
    assert "spelling of CMD" in serves.hint
    assert by_id(report, "rejects_invalid_input").status is CheckStatus.SKIPPED
    assert not report.fault
    assert report.exit_code == 1


def test_the_cache_proof_judges_replayed_rebuilds(submission: Path) -> None:
    """Replaying a rebuild whose install came from the cache: does the app edit pass, and
    does the same outcome after a requirements edit fail on the install's line?"""
    spec = spec_with("builds", "cache_app_edit", "cache_requirements_edit")
    engine = FakeSession(builds=[recorded(CACHED_INSTALL)] * 3)
    report = grade_with_spec(spec, submission, open_engine=engine)
    app = by_id(report, "cache_app_edit")
    assert app.status is CheckStatus.PASSED
    assert "(line 4) came from the cache" in app.message
    requirements = by_id(report, "cache_requirements_edit")
    assert requirements.status is CheckStatus.FAILED
    assert requirements.line == 4
    assert "still came from the cache" in requirements.message
    assert engine.builds == []
    assert report.builder == "buildkit"
    assert [s.line for s in report.build_steps] == [1, 2, 3, 4, 5, 6, 7]
    # The step the cache proof watched is the one marked, for the report's timeline.
    assert [s.line for s in report.build_steps if s.install] == [4]
    assert [s.cached for s in report.build_steps] == [False, True, True, True, True, False, False]
    assert all(s.started is not None for s in report.build_steps)


def test_a_failed_build_skips_what_needs_the_image(submission: Path) -> None:
    """Does a replayed failing build fail `builds` and skip the image's checks?"""
    spec = spec_with("builds", "serves_predict", "image_size")
    engine = FakeSession(builds=[recorded("buildkit-20.10--run-fails.jsonl")])
    report = grade_with_spec(spec, submission, open_engine=engine)
    assert statuses(report) == {
        "builds": CheckStatus.FAILED,
        "serves_predict": CheckStatus.SKIPPED,
        "image_size": CheckStatus.SKIPPED,
    }
    assert "exit code: 2" in by_id(report, "builds").message
    assert report.exit_code == 1


def test_a_missing_submission_is_a_report(tmp_path: Path) -> None:
    """Does a folder that does not exist give a report naming the submission as the fault?"""
    report = grade_with_spec(spec_with("builds"), tmp_path / "nope")
    assert report.fault_kind == FaultKind.SUBMISSION
    assert "does not exist" in report.fault
    assert report.checks[0].id == "grader"
    assert report.checks[0].hint
    assert report.exit_code == 2


def test_broken_exercise_checks_are_a_spec_fault(submission: Path) -> None:
    """When the exercise's own checks file is missing, is it a spec fault with a hint,
    with the built-in checks still judged?"""
    spec = spec_with("healthcheck", extra_checks="no-such-file.py")
    report = grade_with_spec(spec, submission)
    assert report.fault_kind == FaultKind.SPEC
    assert "no-such-file.py" in report.fault
    assert report.fault_hint
    assert statuses(report) == {"healthcheck": CheckStatus.FAILED}
    assert report.exit_code == 2


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (SpecError("bad spec"), FaultKind.SPEC),
        (docker.errors.APIError("500"), FaultKind.ENGINE),
        (ConnectionError("socket gone"), FaultKind.ENGINE),
        (KeyError("Size"), FaultKind.GRADER),
        (AttributeError("'NoneType' object has no attribute 'x'"), FaultKind.GRADER),
    ],
)
def test_every_fault_kind_has_a_hint(exc: Exception, kind: FaultKind) -> None:
    """Is each exception given the right kind of fault, and a hint to act on?"""
    fault = fault_of(exc, check="builds")
    assert fault.kind is kind
    assert fault.hint
    assert GradeReport.from_fault(fault).exit_code == 2


def test_a_failing_tool_of_the_grader_keeps_its_own_hint() -> None:
    """Is a foreseen failure of the grader's tools (hadolint) a grader fault with its hint?"""
    from grader.errors import GraderError

    fault = fault_of(GraderError("hadolint did not finish within 60 s.", hint="grade again"))
    assert fault.kind is FaultKind.GRADER
    assert fault.hint == "grade again"
    assert fault.message == "The grader failed: hadolint did not finish within 60 s."


def test_a_check_that_says_it_cannot_judge_names_the_fault_in_the_report(
    submission: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that returns `error` itself (the engine did not report its rebuild's
    steps, say) makes the report name that fault, so every reader (exit status, batch
    retries, the LMS formats) sees one, not a score with a silent error in it."""

    def cannot_judge(ctx: EngineContext) -> Verdict:
        return Verdict.error("The engine did not report its build steps.", "Grade on Docker.")

    monkeypatch.setitem(CHECKS, "image_size", replace(CHECKS["image_size"], run=cannot_judge))
    engine = FakeSession(builds=[recorded(CACHED_INSTALL)])
    report = grade_with_spec(spec_with("builds", "image_size"), submission, open_engine=engine)
    assert report.fault_kind == FaultKind.ENGINE
    assert report.fault == "The engine did not report its build steps."
    assert report.fault_hint == "Grade on Docker."
    assert report.exit_code == 2
