"""``grade(submission) -> GradeReport``: the stages, in order, with data flowing one way.

spec → workspace → static rules → build → run and probes → cache proof → secrets →
size → report. A learner's mistake makes checks fail; a fault of the engine makes
the affected checks ``error``; either way the workspace copy and every engine
resource are removed before :func:`grade` returns or raises.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader import engine
from grader.build import run_build, step_line
from grader.build_stream import BuildLog
from grader.cache_probe import prove_cache
from grader.checks import CHECK_TITLES, Verdict
from grader.dockerfile import Dockerfile, DockerfileProblem, read_dockerfile
from grader.engine import ENGINE_FAULTS, EngineSession, RunningContainer
from grader.engine.builders import BuilderChoice, BuilderKind
from grader.errors import EngineError, GradingInterrupted
from grader.extra_checks import ExtraCheck, ExtraContext, run_extra_checks
from grader.hadolint import run_hadolint
from grader.image_size import check_image_size
from grader.probes import count_records, run_probes
from grader.progress import Progress, QuietProgress
from grader.results import CheckResult, CheckStatus, Finding, GradeReport
from grader.run import start_and_wait
from grader.secret_scan import scan_for_canary
from grader.spec import ExerciseSpec, MiB, find_exercise
from grader.static_rules import RULES, StaticContext
from grader.workspace import Workspace, prepare_workspace

__all__ = ["grade", "grade_with_spec"]

ENGINE_CHECKS = (
    "builds",
    "serves_predict",
    "rejects_invalid_input",
    "api_key_enforced",
    "data_survives_recreate",
    "cache_app_edit",
    "cache_requirements_edit",
    "secret_not_in_image",
    "image_size",
)


@dataclass
class _Grading:
    """What the stages have found so far."""

    spec: ExerciseSpec
    progress: Progress
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    build_steps: list[dict[str, object]] = field(default_factory=list)
    engine_name: str = ""
    requested_builder: BuilderChoice = "auto"
    builder: BuilderKind | None = None
    builder_note: str = ""
    builder_name: str = ""
    """For the report: ``buildkit``, ``classic``, or ``buildah`` behind Podman's API."""
    fault: str = ""
    started: float = field(default_factory=time.monotonic)
    dockerfile: Dockerfile | None = None
    build_log: BuildLog | None = None
    api_key: str | None = None
    extra: list[ExtraCheck] | None = None

    def wants(self, *check_ids: str) -> bool:
        return any(self.spec.check(c) is not None for c in check_ids)

    def skip(self, check_ids: tuple[str, ...] | list[str], reason: str) -> None:
        for check_id in check_ids:
            self.verdicts.setdefault(check_id, Verdict.skipped(reason))

    def out_of_time(self) -> bool:
        return time.monotonic() - self.started > self.spec.limits.total_timeout_s

    def timed(self, name: str, since: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + time.monotonic() - since


def grade(
    submission: Path,
    exercise: str | None = None,
    *,
    course: Path | None = None,
    progress: Progress | None = None,
    builder: BuilderChoice | None = None,
) -> GradeReport:
    """Grade ``submission`` (a folder) against an exercise of the course.

    ``builder`` (auto, buildkit, classic) overrides the spec's choice of builder.
    """
    spec = find_exercise(exercise, submission, course)
    return grade_with_spec(spec, submission, progress=progress, builder=builder)


def grade_with_spec(
    spec: ExerciseSpec,
    submission: Path,
    *,
    progress: Progress | None = None,
    builder: BuilderChoice | None = None,
) -> GradeReport:
    state = _Grading(spec, progress or QuietProgress(), requested_builder=builder or spec.builder)
    workspace = prepare_workspace(spec, submission)
    try:
        dockerfile = _static_stage(state, workspace)
        state.dockerfile = dockerfile
        if isinstance(dockerfile, Dockerfile) and state.wants(*ENGINE_CHECKS):
            _engine_stages(state, workspace, dockerfile)
        else:
            state.skip(ENGINE_CHECKS, "Skipped: the Dockerfile must be fixed first.")
        if state.extra is None:
            # Without a running app: the checks that need one skip themselves.
            _extra_stage(state, image=None, container=None)
    finally:
        workspace.remove()
        state.progress.close()
    state.timings["total"] = time.monotonic() - state.started
    return _report(state, submission)


def _static_stage(state: _Grading, workspace: Workspace) -> Dockerfile | None:
    since = time.monotonic()
    spec = state.spec
    state.progress.stage("Checking the Dockerfile and .dockerignore")
    changed = workspace.changed_starter_files
    state.verdicts["starter_unchanged"] = (
        Verdict.failed(
            f"You changed files of the starter project: {', '.join(changed)}. The grader uses "
            "your versions, but the exercise is about the Dockerfile only.",
            "Restore them (`git checkout -- FILE`) unless your teacher asked for the change.",
            file=changed[0],
        )
        if changed
        else Verdict.passed("The starter project's files are as handed out.")
    )
    parsed = read_dockerfile(workspace.path / "Dockerfile")
    if isinstance(parsed, DockerfileProblem):
        state.verdicts["dockerfile_valid"] = Verdict.failed(
            parsed.message, parsed.hint, line=parsed.line
        )
        state.skip(list(RULES), "Skipped: the Dockerfile could not be read.")
        state.timed("static", since)
        return None
    warnings = tuple(Finding(m, line, level="warning") for m, line in parsed.warnings)
    state.verdicts["dockerfile_valid"] = Verdict.passed(
        f"{len(parsed.instructions)} instructions parsed"
        + (f" ({'; '.join(m for m, _ in parsed.warnings)})" if parsed.warnings else "."),
        findings=warnings,
    )
    findings = tuple(run_hadolint(parsed.text))
    context = StaticContext(parsed, findings, spec, workspace.path)
    for check_id, rule in RULES.items():
        if spec.check(check_id) is not None:
            state.verdicts[check_id] = rule(context)
    state.timed("static", since)
    return parsed


def _engine_stages(state: _Grading, workspace: Workspace, dockerfile: Dockerfile) -> None:
    limits = state.spec.limits
    if workspace.context_bytes > limits.max_context_mb * MiB:
        largest = ", ".join(
            f"{name} ({size / MiB:.1f} MB)" for name, size in workspace.largest_files
        )
        state.verdicts["builds"] = Verdict.failed(
            f"The build context is {workspace.context_bytes / MiB:.0f} MB, over the limit of "
            f"{limits.max_context_mb:.0f} MB; it was not sent to the engine. Largest: {largest}.",
            "Exclude data, models you do not serve, virtualenvs and caches in .dockerignore.",
            file=".dockerignore",
        )
        state.skip(ENGINE_CHECKS, "Skipped: the image was not built.")
        return
    try:
        with EngineSession.open() as session:
            state.engine_name = session.describe()
            state.builder, state.builder_note = session.builder(state.requested_builder)
            state.builder_name = (
                "buildah" if not session.features().is_docker else state.builder.value
            )
            engine.sweep(session.client)
            _build_and_probe(state, session, workspace, dockerfile)
    except GradingInterrupted:
        raise
    except EngineError as exc:
        _engine_fault(state, exc.message, exc.hint)
    except Exception as exc:  # an engine reply nobody expected: keep what was found so far
        _engine_fault(state, f"{type(exc).__name__}: {exc}", "")


def _engine_fault(state: _Grading, message: str, hint: str) -> None:
    state.fault = message
    for check_id in ENGINE_CHECKS:
        verdict = state.verdicts.get(check_id)
        if verdict is None or verdict.status is CheckStatus.SKIPPED:
            state.verdicts[check_id] = Verdict.error(
                f"The Docker engine failed: {message}",
                hint
                or "Not your mistake: check that the engine runs (`make engine`), then "
                "grade again.",
            )


def _guard(state: _Grading, check_ids: tuple[str, ...], action: Callable[[], None]) -> None:
    """Run a stage; engine faults become EngineError, time-outs skip the rest."""
    if state.out_of_time():
        state.skip(
            check_ids,
            f"Skipped: grading took longer than {state.spec.limits.total_timeout_s:.0f} s.",
        )
        return
    try:
        action()
    except ENGINE_FAULTS as exc:
        raise EngineError(
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        ) from exc


def _build_and_probe(
    state: _Grading, session: EngineSession, workspace: Workspace, dockerfile: Dockerfile
) -> None:
    spec = state.spec
    tag = f"{session.name('image')}:graded"
    state.progress.stage("Building the image")
    since = time.monotonic()
    builder = state.builder or BuilderKind.CLASSIC
    outcome = run_build(
        session,
        workspace.path,
        dockerfile,
        tag=tag,
        limits=spec.limits,
        builder=builder,
        on_event=state.progress.build_event,
    )
    state.timed("build", since)
    verdict = outcome.verdict
    if state.builder_note:
        verdict = replace(verdict, message=verdict.message + state.builder_note)
    state.verdicts["builds"] = _with_symlink_note(verdict, workspace)
    state.build_log = outcome.log
    state.build_steps = [step.to_dict(step_line(dockerfile, step)) for step in outcome.log.steps]
    if outcome.tag is None:
        state.skip(ENGINE_CHECKS, "Skipped: the image did not build.")
        return

    if state.wants(
        "serves_predict", "rejects_invalid_input", "api_key_enforced", "data_survives_recreate"
    ):
        _guard(
            state,
            (
                "serves_predict",
                "rejects_invalid_input",
                "api_key_enforced",
                "data_survives_recreate",
            ),
            lambda: _run_stage(state, session, workspace, outcome.tag or tag),
        )
    if state.wants("cache_app_edit", "cache_requirements_edit"):
        state.progress.stage("Proving the build cache (rebuilding edited copies)")
        since = time.monotonic()

        def cache() -> None:
            proof = prove_cache(
                session, workspace, dockerfile, spec, builder, state.progress.build_event
            )
            state.verdicts["cache_app_edit"] = proof.app_edit
            state.verdicts["cache_requirements_edit"] = proof.requirements_edit

        _guard(state, ("cache_app_edit", "cache_requirements_edit"), cache)
        state.timed("cache", since)
    if state.wants("secret_not_in_image"):
        state.progress.stage("Looking for the planted secret in the image")
        since = time.monotonic()

        def secret() -> None:
            state.verdicts["secret_not_in_image"] = scan_for_canary(
                session,
                tag,
                workspace.canary,
                dockerfile=dockerfile,
                base_image=_final_base_image(dockerfile),
            )

        _guard(state, ("secret_not_in_image",), secret)
        state.timed("secrets", since)
    if state.wants("image_size"):

        def size() -> None:
            state.verdicts["image_size"] = check_image_size(session, tag, spec)

        _guard(state, ("image_size",), size)
    if spec.extra_checks_path is not None:
        _guard(state, (), lambda: _extra_with_container(state, session, workspace, tag))


def _final_base_image(dockerfile: Dockerfile) -> str | None:
    """The image the final stage starts from, following ``FROM <earlier stage>``."""
    froms = dockerfile.find("FROM", final_stage=False)
    names: dict[str, str] = {}
    image: str | None = None
    for instruction in froms:
        words = [w for w in instruction.words() if not w.startswith("--")]
        image = words[0] if words else None
        if image is not None and image.lower() in names:
            image = names[image.lower()]
        if len(words) >= 3 and words[1].upper() == "AS" and image is not None:
            names[words[2].lower()] = image
    return image


def _extra_with_container(
    state: _Grading, session: EngineSession, workspace: Workspace, tag: str
) -> None:
    spec = state.spec
    state.progress.stage("Running the exercise's own checks")
    environment = {spec.api_key.env_var: state.api_key} if spec.api_key and state.api_key else {}
    started = start_and_wait(
        session, tag, spec, workspace, purpose="extra", environment=environment
    )
    try:
        _extra_stage(state, image=tag, container=started.container)
    finally:
        if started.container is not None:
            session.stop_container(started.container)


def _extra_stage(state: _Grading, *, image: str | None, container: RunningContainer | None) -> None:
    path = state.spec.extra_checks_path
    if path is None:
        state.extra = []
        return
    since = time.monotonic()
    context = ExtraContext(
        spec=state.spec,
        image=image,
        container=container,
        build_log=state.build_log,
        dockerfile=state.dockerfile,
        api_key=state.api_key,
    )
    state.extra = run_extra_checks(path, context)
    state.timed("extra", since)


def _with_symlink_note(verdict: Verdict, workspace: Workspace) -> Verdict:
    """Symlinks that point outside the folder are never sent: say so where it matters."""
    links = workspace.outside_symlinks
    if not links:
        return verdict
    one = len(links) == 1
    note = (
        f"{', '.join(links)} {'is a symlink' if one else 'are symlinks'} to files outside the "
        f"exercise folder and {'was' if one else 'were'} not sent to the engine; copy the real "
        "file into the folder instead."
    )
    findings = (*verdict.findings, *(Finding(note, None, link, "warning") for link in links))
    if verdict.status is CheckStatus.FAILED:
        return replace(verdict, hint=f"{note} {verdict.hint}", findings=findings)
    return replace(verdict, findings=findings)


def _run_stage(state: _Grading, session: EngineSession, workspace: Workspace, tag: str) -> None:
    spec = state.spec
    state.progress.stage("Running the container and sending requests")
    since = time.monotonic()
    api_key = secrets.token_urlsafe(16) if spec.api_key else None
    state.api_key = api_key
    environment = {spec.api_key.env_var: api_key} if spec.api_key and api_key else {}
    volumes = {}
    if spec.volume:
        volumes = {session.create_volume("data"): spec.volume.data_dir}
    first = start_and_wait(
        session, tag, spec, workspace, purpose="app", environment=environment, volumes=volumes
    )
    state.timings["startup"] = first.seconds
    if first.container is None:
        assert first.failure is not None
        state.verdicts["serves_predict"] = first.failure
        state.skip(
            ("rejects_invalid_input", "api_key_enforced", "data_survives_recreate"),
            "Skipped: the app never became ready.",
        )
        state.timed("run", since)
        return
    results = run_probes(first.container.base_url, spec, api_key)
    state.verdicts["serves_predict"] = results.serves_predict
    state.verdicts["rejects_invalid_input"] = results.rejects_invalid_input
    state.verdicts["api_key_enforced"] = results.api_key_enforced
    if spec.volume and state.wants("data_survives_recreate"):
        count_before, note = count_records(first.container.base_url, spec)
        session.stop_container(first.container)
        second = start_and_wait(
            session,
            tag,
            spec,
            workspace,
            purpose="app-again",
            environment=environment,
            volumes=volumes,
        )
        if second.container is None:
            assert second.failure is not None
            state.verdicts["data_survives_recreate"] = second.failure
        else:
            count_after, _ = count_records(second.container.base_url, spec)
            state.verdicts["data_survives_recreate"] = _volume_verdict(
                spec, results.successful_predictions, count_before, count_after, note
            )
            session.stop_container(second.container)
    else:
        session.stop_container(first.container)
    state.timed("run", since)


def _volume_verdict(
    spec: ExerciseSpec, sent: int, before: int | None, after: int | None, note: str
) -> Verdict:
    assert spec.volume is not None
    data_dir = spec.volume.data_dir
    if not before:
        return Verdict.failed(
            f"After {sent} predictions the app had logged none"
            + (f" ({note})" if note and note != "ok" else "")
            + f": it cannot write to {data_dir}.",
            f"Create {data_dir} in the image and give it to the app's user before USER, e.g. "
            f"`RUN mkdir -p {data_dir} && chown appuser {data_dir}`.",
        )
    if after != before:
        return Verdict.failed(
            f"A new container on the same volume (mounted at {data_dir}) sees {after} logged "
            f"predictions instead of {before}: the data was written outside the volume.",
            f"Leave DATA_DIR at {data_dir} (do not set it to another folder) and declare "
            f"`VOLUME {data_dir}`.",
        )
    return Verdict.passed(
        f"{before} logged predictions survived re-creating the container on a volume at {data_dir}."
    )


def _result(
    check_id: str, title: str, points: float, required: bool, verdict: Verdict
) -> CheckResult:
    passed = verdict.status is CheckStatus.PASSED
    return CheckResult(
        id=check_id,
        title=title,
        status=verdict.status,
        points=points if passed else 0.0,
        max_points=points,
        message=verdict.message,
        hint="" if passed else verdict.hint,
        line=verdict.line,
        file=verdict.file,
        required=required,
        findings=verdict.findings,
        details=verdict.details,
    )


def _report(state: _Grading, submission: Path) -> GradeReport:
    spec = state.spec
    not_reached = Verdict.skipped("Skipped: not reached.")
    checks = [
        _result(
            c.id, CHECK_TITLES[c.id], c.points, c.required, state.verdicts.get(c.id, not_reached)
        )
        for c in spec.checks
    ]
    checks += [_result(e.id, e.title, e.points, e.required, e.verdict) for e in state.extra or []]
    return GradeReport(
        exercise=spec.name,
        title=spec.title,
        submission=str(submission),
        checks=tuple(checks),
        timings=state.timings,
        build_steps=tuple(state.build_steps),
        engine=state.engine_name,
        builder=state.builder_name,
        fault=state.fault,
    )
