"""The cache proof: rebuild edited copies and watch whether the dependency install reruns.

1. Edit the app code (a unique comment): the install step must come from the cache.
2. Edit the dependency file (a unique comment): the install step must run again,
   which proves that the dependencies really come from that file.

The engine's cache is shared by every build on the machine, so the edits carry a
value unique to this run: no earlier build can have cached them. Each probe build
stops as soon as the install step shows whether it came from the cache: no need to
wait for a full reinstall once the verdict is known. The verdict comes from
BuildKit's per-step ``cached`` flag, or the classic builder's ``Using cache`` line;
the install step is found by what it does (see ``dependency_install_step``), in
whichever stage feeds the final image.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from grader.build import BuildStop, instruction_of, stream_build
from grader.build_stream import BuildLog, BuildStep, StepEvent
from grader.checks.base import Verdict
from grader.checks.dockerfile_rules import dependency_install_step
from grader.dockerfile import Dockerfile, Instruction
from grader.engine import EngineSession
from grader.engine.builders import BuilderKind
from grader.spec import ExerciseSpec
from grader.workspace import Workspace

__all__ = ["CacheProof", "prove_cache"]


@dataclass
class CacheProof:
    app_edit: Verdict
    requirements_edit: Verdict


@dataclass(frozen=True)
class _Probe:
    """What every probe build shares."""

    session: EngineSession
    workspace: Workspace
    dockerfile: Dockerfile
    spec: ExerciseSpec
    install: Instruction
    builder: BuilderKind
    on_event: Callable[[StepEvent], None]

    def install_step(self, log: BuildLog) -> BuildStep | None:
        return next(
            (s for s in log.steps if instruction_of(self.dockerfile, s) == self.install), None
        )

    def verdict_known(self, log: BuildLog) -> bool:
        """Stop once the install step shows its fate: the reinstall itself is not needed.

        The classic builder's cached install is not stopped: the steps after it are
        quick, and a build that ends normally names every layer it made, so that they
        can be removed. BuildKit's probe records are found in its cache instead.
        """
        step = self.install_step(log)
        if step is None:
            return False
        return step.executed or (self.builder is BuilderKind.BUILDKIT and step.cached)

    def run(self, edit_file: str) -> tuple[BuildLog, BuildStop | None]:
        session = self.session
        copy = self.workspace.copy(f"probe-{uuid.uuid4().hex[:8]}")
        try:
            target = copy / edit_file
            with target.open("a", encoding="utf-8") as handle:
                handle.write(f"\n# cache probe {uuid.uuid4().hex}\n")
            log, stopped = stream_build(
                session,
                copy,
                tag=None,
                limits=self.spec.limits,
                builder=self.builder,
                on_event=self.on_event,
                stop_when=self.verdict_known,
            )
        finally:
            shutil.rmtree(copy, ignore_errors=True)
            # Layers made only by this probe (an edited COPY …) are of no use to anyone.
            session.remove_build_containers()
        if log.image_id:
            session.remove_image(log.image_id, keep_cache=False)
        elif self.builder is BuilderKind.CLASSIC:
            session.remove_image_ids(log.new_layer_ids())
        return log, stopped


def prove_cache(
    session: EngineSession,
    workspace: Workspace,
    dockerfile: Dockerfile,
    spec: ExerciseSpec,
    builder: BuilderKind,
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
    probe = _Probe(session, workspace, dockerfile, spec, install, builder, on_event)
    if builder is not BuilderKind.BUILDKIT:
        return CacheProof(_app_edit(probe), _requirements_edit(probe))
    # BuildKit's probe records (and every build's uploaded context) are found by
    # comparing its cache before and after both probes: listing it can take seconds.
    before = {str(r.get("ID")) for r in session.build_cache_records()}
    try:
        return CacheProof(_app_edit(probe), _requirements_edit(probe))
    finally:
        session.remove_build_cache_records(before, only_contexts=False)


def _unreached(log: BuildLog, stopped: BuildStop | None, edit: str) -> Verdict:
    if not log.steps and log.error is None:
        # An engine that answers the build API in neither builder's format (Podman's
        # buildah prints "STEP 1/5:") reports no cache hits: nothing to judge by.
        return Verdict.error(
            f"The engine rebuilt the copy with {edit} but did not report its build steps, so "
            "cache hits cannot be seen.",
            "The cache proof needs Docker Engine's BuildKit or classic builder (Docker "
            "Desktop, Docker Engine, Colima with the docker runtime). Grade on one of those.",
        )
    reason = {
        BuildStop.WALL_CLOCK: "it ran out of time",
        BuildStop.INACTIVE: "it stayed silent too long and was stopped",
        None: log.error or "it stopped early",
    }[stopped]
    return Verdict.error(
        f"The rebuild after {edit} did not reach the install step: {reason}.",
        "Run the check again; if it persists, build the folder yourself to see why.",
        details=log.output.last_lines(10),
    )


def _app_edit(probe: _Probe) -> Verdict:
    spec, install = probe.spec, probe.install
    edit = f"an edit to {spec.app_code_file}"
    log, stopped = probe.run(spec.app_code_file)
    step = probe.install_step(log)
    if step is None or not (step.cached or step.executed):
        return _unreached(log, stopped, edit)
    if step.cached:
        return Verdict.passed(
            f"After {edit}, `{step.instruction[:80]}` (line {install.line}) came from the cache."
        )
    culprit = _first_miss(log, probe)
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


def _first_miss(log: BuildLog, probe: _Probe) -> Instruction | None:
    """The first step of the install's stage, before it, that did not come from the cache."""
    install = probe.install
    for step in log.steps:
        instruction = instruction_of(probe.dockerfile, step)
        if instruction is None or instruction.stage != install.stage:
            continue
        if instruction.line >= install.line:
            continue
        if not step.cached and step.keyword != "FROM":
            return instruction
    return None


def _requirements_edit(probe: _Probe) -> Verdict:
    spec, install = probe.spec, probe.install
    edit = f"an edit to {spec.dependency_file}"
    if not (probe.workspace.path / spec.dependency_file).is_file():
        return Verdict.error(
            f"{spec.dependency_file} is missing from the build context.",
            f"Restore {spec.dependency_file} from the starter project (`git checkout -- "
            f"{spec.dependency_file}`) and grade again.",
        )
    log, stopped = probe.run(spec.dependency_file)
    step = probe.install_step(log)
    if step is None or not (step.cached or step.executed):
        return _unreached(log, stopped, edit)
    if step.executed:
        return Verdict.passed(f"After {edit}, the install on line {install.line} ran again.")
    return Verdict.failed(
        f"After {edit}, the install on line {install.line} still came from the cache: it does "
        f"not depend on {spec.dependency_file}, so changed dependencies would never be installed.",
        f"Copy {spec.dependency_file} into the image before the install and install from it: "
        f"`RUN pip install --no-cache-dir -r {spec.dependency_file}`.",
        line=install.line,
    )
