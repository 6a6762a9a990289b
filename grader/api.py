"""``grade(submission) -> GradeReport``: the stages, in order, with data flowing one way.

spec → workspace → files and Dockerfile → build → container → rebuilds → image →
the exercise's own checks → report. Each stage runs the registered checks it can feed
(:mod:`grader.checks`) under one fault policy (:mod:`grader.checks.runner`). Once the
spec has loaded, a report always comes back, naming the kind of any fault; the
workspace copy and every engine resource are removed before :func:`grade` returns.
"""

from __future__ import annotations

import time
from pathlib import Path

from grader.build import step_results
from grader.checks.base import Verdict
from grader.checks.dockerfile_rules import dependency_install_step
from grader.checks.registry import CHECKS
from grader.checks.runner import ENGINE_STAGES, Ledger
from grader.engine import EngineSession
from grader.engine.builders import BuilderChoice
from grader.errors import GradingInterrupted, fault_of
from grader.progress import Progress, QuietProgress
from grader.results import BuildStepResult, GradeReport
from grader.spec import ExerciseSpec, find_exercise
from grader.stages import Grading, OpenEngine, engine_stages, extra_stage, files_and_static
from grader.workspace import prepare_workspace

__all__ = ["grade", "grade_with_spec"]


def grade(
    submission: Path,
    exercise: str | None = None,
    *,
    course: Path | None = None,
    progress: Progress | None = None,
    builder: BuilderChoice | None = None,
) -> GradeReport:
    """Grade ``submission`` (a folder); ``builder`` overrides the spec's choice of builder."""
    spec = find_exercise(exercise, submission, course)
    return grade_with_spec(spec, submission, progress=progress, builder=builder)


def grade_with_spec(
    spec: ExerciseSpec,
    submission: Path,
    *,
    progress: Progress | None = None,
    builder: BuilderChoice | None = None,
    open_engine: OpenEngine = EngineSession.open,
) -> GradeReport:
    grade = Grading(Ledger(spec, progress or QuietProgress()))
    try:
        workspace = prepare_workspace(spec, submission)
        try:
            grade.dockerfile = files_and_static(grade.ledger, workspace)
            if grade.dockerfile is None:
                grade.ledger.skip(ENGINE_STAGES, "Skipped: the Dockerfile must be fixed first.")
            elif grade.ledger.pending(*ENGINE_STAGES):
                engine_stages(
                    grade, workspace, grade.dockerfile, builder or spec.builder, open_engine
                )
            if grade.extra is None:  # without a running app: those checks skip themselves
                extra_stage(grade, None, None)
        finally:
            workspace.remove()
    except GradingInterrupted:
        raise
    except Exception as exc:  # a fault outside any check: still a report
        grade.ledger.record(fault_of(exc))
    finally:
        grade.ledger.progress.close()
    grade.ledger.timings["total"] = time.monotonic() - grade.ledger.started
    return _report(grade, submission)


def _report(grade: Grading, submission: Path) -> GradeReport:
    ledger, spec, fault = grade.ledger, grade.ledger.spec, grade.ledger.fault
    if fault is not None and not ledger.verdicts:
        return GradeReport.from_fault(
            fault, exercise=spec.name, title=spec.title, submission=str(submission)
        )
    not_reached = Verdict.skipped("Skipped: not reached.")
    checks = [
        ledger.verdicts.get(c.id, not_reached).result(
            c.id, CHECKS[c.id].title, c.points, c.required
        )
        for c in spec.checks
    ]
    checks += [e.verdict.result(e.id, e.title, e.points, e.required) for e in grade.extra or []]
    steps: tuple[BuildStepResult, ...] = ()
    if grade.engine is not None and grade.engine.build is not None:
        dockerfile = grade.engine.dockerfile
        install = dependency_install_step(dockerfile, spec.dependency_file)
        steps = step_results(grade.engine.build.log, dockerfile, install)
    return GradeReport(
        exercise=spec.name,
        title=spec.title,
        submission=str(submission),
        checks=tuple(checks),
        timings=ledger.timings,
        build_steps=steps,
        engine=grade.engine_name,
        builder=grade.builder_name,
        fault=fault.reason if fault else "",
        fault_kind=fault.kind.value if fault else "",
        fault_hint=fault.hint if fault else "",
    )
