"""The cache proof: rebuild edited copies and watch whether the dependency install reruns.

1. Edit the app code (a unique comment): the install step must come from the cache.
2. Edit the dependency file (a unique comment): the install step must run again,
   which proves that the dependencies really come from that file.

The engine's cache is shared by every build on the machine, so the edits carry a
value unique to this run: no earlier build can have cached them. Each probe build
stops as soon as the install step shows ``Using cache`` or ``Running in``: no need
to wait for a full reinstall once the verdict is known.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from grader.build import step_line, stream_build
from grader.build_stream import BuildLog, BuildStep, StepEvent
from grader.checks import Verdict
from grader.dockerfile import Dockerfile, Instruction
from grader.engine import EngineSession
from grader.spec import ExerciseSpec
from grader.static_rules import dependency_install_step
from grader.workspace import Workspace

__all__ = ["CacheProof", "prove_cache"]


@dataclass
class CacheProof:
    app_edit: Verdict
    requirements_edit: Verdict
    seconds: float = 0.0


def _install_ran(step_number: int) -> Callable[[BuildLog], bool]:
    """Stop once the install step executes: the verdict is known, the reinstall is not needed.

    A cached install is not stopped: the steps after it are quick, and a build that
    ends normally tells us every layer it made, so that they can be removed.
    """

    def ran(log: BuildLog) -> bool:
        step = log.current
        return step is not None and step.number == step_number and step.executed

    return ran


def _probe(
    session: EngineSession,
    workspace: Workspace,
    spec: ExerciseSpec,
    edit_file: str,
    step_number: int,
    on_event: Callable[[StepEvent], None],
) -> tuple[BuildLog, bool]:
    copy = workspace.copy(f"probe-{uuid.uuid4().hex[:8]}")
    try:
        target = copy / edit_file
        with target.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# cache probe {uuid.uuid4().hex}\n")
        log, timed_out = stream_build(
            session,
            copy,
            tag=None,
            limits=spec.limits,
            on_event=on_event,
            stop_when=_install_ran(step_number),
        )
    finally:
        shutil.rmtree(copy, ignore_errors=True)
        # Layers made only by this probe (an edited COPY …) are of no use to anyone.
        session.remove_build_containers()
    if log.image_id:
        session.remove_image(log.image_id, keep_cache=False)
    else:
        session.remove_image_ids(log.new_layer_ids())
    return log, timed_out


def _step(log: BuildLog, number: int) -> BuildStep | None:
    return next((s for s in log.steps if s.number == number), None)


def prove_cache(
    session: EngineSession,
    workspace: Workspace,
    dockerfile: Dockerfile,
    spec: ExerciseSpec,
    on_event: Callable[[StepEvent], None] = lambda _event: None,
) -> CacheProof:
    install = dependency_install_step(dockerfile, spec.dependency_file)
    if install is None:
        verdict = Verdict.failed(
            "No RUN step installs the dependencies, so there is no install step to cache.",
            f"Add `COPY {spec.dependency_file} .` and `RUN pip install --no-cache-dir -r "
            f"{spec.dependency_file}` before copying the app code.",
        )
        return CacheProof(verdict, verdict)
    step_number = dockerfile.instructions.index(install) + 1
    if step_line(dockerfile, step_number) != install.line:
        return CacheProof(
            *(
                2
                * [
                    Verdict.error(
                        "Could not match the builder's steps to the Dockerfile's lines.",
                        "Not your mistake: report it to your teacher with this Dockerfile.",
                    )
                ]
            )
        )
    app_edit = _app_edit(session, workspace, dockerfile, spec, install, step_number, on_event)
    requirements_edit = _requirements_edit(session, workspace, spec, install, step_number, on_event)
    return CacheProof(app_edit, requirements_edit)


def _unreached(log: BuildLog, timed_out: bool, edit: str) -> Verdict:
    if not log.steps and log.error is None:
        # Podman/buildah and BuildKit-only set-ups answer the build API without the
        # classic builder's "Step N/M" and "Using cache" lines: nothing to judge by.
        return Verdict.error(
            f"The engine rebuilt the copy with {edit} but did not report its build steps, so "
            "cache hits cannot be seen.",
            "The cache proof needs the Engine API's classic builder (Docker Engine, Docker "
            "Desktop, Colima with the docker runtime). Grade on one of those.",
        )
    reason = "it ran out of time" if timed_out else (log.error or "it stopped early")
    return Verdict.error(
        f"The rebuild after {edit} did not reach the install step: {reason}.",
        "Run the check again; if it persists, build the folder yourself to see why.",
        details=log.output.last_lines(10),
    )


def _app_edit(
    session: EngineSession,
    workspace: Workspace,
    dockerfile: Dockerfile,
    spec: ExerciseSpec,
    install: Instruction,
    step_number: int,
    on_event: Callable[[StepEvent], None],
) -> Verdict:
    edit = f"an edit to {spec.app_code_file}"
    log, timed_out = _probe(session, workspace, spec, spec.app_code_file, step_number, on_event)
    step = _step(log, step_number)
    if step is None or not (step.cached or step.executed):
        return _unreached(log, timed_out, edit)
    if step.cached:
        return Verdict.passed(
            f"After {edit}, `{step.instruction[:80]}` (line {install.line}) came from the cache."
        )
    culprit = _first_miss(log, dockerfile, step_number)
    return Verdict.failed(
        f"After {edit}, the dependency install on line {install.line} ran again"
        + (
            f", because line {culprit.line} (`{culprit.keyword} {culprit.value}`) copies the app "
            "code before it"
            if culprit
            else ""
        )
        + ". Every code change would reinstall every package.",
        f"Copy only {spec.dependency_file} before the install (`COPY {spec.dependency_file} .`), "
        "and copy the app code after it.",
        line=culprit.line if culprit else install.line,
    )


def _first_miss(log: BuildLog, dockerfile: Dockerfile, before_step: int) -> Instruction | None:
    """The first step before the install that did not come from the cache."""
    for step in log.steps:
        if step.number >= before_step:
            break
        if not step.cached and step.keyword != "FROM":
            index = step.number - 1
            return dockerfile.instructions[index] if index < len(dockerfile.instructions) else None
    return None


def _requirements_edit(
    session: EngineSession,
    workspace: Workspace,
    spec: ExerciseSpec,
    install: Instruction,
    step_number: int,
    on_event: Callable[[StepEvent], None],
) -> Verdict:
    edit = f"an edit to {spec.dependency_file}"
    if not (workspace.path / spec.dependency_file).is_file():
        return Verdict.error(
            f"{spec.dependency_file} is missing from the build context.",
            f"Restore {spec.dependency_file} from the starter project (`git checkout -- "
            f"{spec.dependency_file}`) and grade again.",
        )
    log, timed_out = _probe(session, workspace, spec, spec.dependency_file, step_number, on_event)
    step = _step(log, step_number)
    if step is None or not (step.cached or step.executed):
        return _unreached(log, timed_out, edit)
    if step.executed:
        return Verdict.passed(f"After {edit}, the install on line {install.line} ran again.")
    return Verdict.failed(
        f"After {edit}, the install on line {install.line} still came from the cache: it does "
        f"not depend on {spec.dependency_file}, so changed dependencies would never be installed.",
        f"Copy {spec.dependency_file} into the image before the install and install from it: "
        f"`RUN pip install --no-cache-dir -r {spec.dependency_file}`.",
        line=install.line,
    )
