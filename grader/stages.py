"""The stages' set-up: what each stage needs done before its checks can run.

Reading the Dockerfile and running hadolint; building the image; starting the
container (with its key and volume); starting one more for the exercise's own
checks. Each hands its context to the stage's registered checks through the
:class:`~grader.checks.runner.Ledger`, which applies the fault policy.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from grader.build import run_build
from grader.checks.base import EngineContext, FilesContext, Needs, StaticContext
from grader.checks.build import context_refused
from grader.checks.runner import ENGINE_STAGES, EngineStopped, Ledger
from grader.dockerfile import Dockerfile, read_dockerfile
from grader.engine.builders import BuilderChoice
from grader.errors import Fault, FaultKind, GradingInterrupted, fault_of
from grader.extra_checks import ExtraCheck, ExtraContext, run_extra_checks
from grader.hadolint import run_hadolint
from grader.results import CheckStatus
from grader.run import start_and_wait
from grader.workspace import Workspace

__all__ = ["Grading", "OpenEngine", "engine_stages", "extra_stage", "files_and_static"]

OpenEngine = Callable[[], AbstractContextManager[Any]]
"""Opens an engine session (:meth:`EngineSession.open`; a fake one in unit tests)."""


@dataclass
class Grading:
    """One grade in progress: the verdicts (in the ledger) and what the stages left."""

    ledger: Ledger
    engine: EngineContext | None = None
    engine_name: str = ""
    builder_name: str = ""
    """``buildkit``, ``classic``, or ``buildah`` behind Podman's API."""
    extra: list[ExtraCheck] | None = None
    """The exercise's own checks, once they ran."""
    dockerfile: Dockerfile | None = field(default=None, repr=False)


def files_and_static(ledger: Ledger, workspace: Workspace) -> Dockerfile | None:
    since, spec = time.monotonic(), ledger.spec
    ledger.progress.stage("Checking the Dockerfile and .dockerignore")
    parsed = read_dockerfile(
        workspace.path / "Dockerfile",
        base_image=spec.base_image,
        dependency_file=spec.dependency_file,
    )
    ledger.run(Needs.FILES, FilesContext(spec, workspace, parsed))
    if not isinstance(parsed, Dockerfile):
        ledger.skip([Needs.STATIC], "Skipped: the Dockerfile could not be read.")
    elif (
        findings := ledger.setup(Needs.STATIC, lambda: tuple(run_hadolint(parsed.text)))
    ) is not None:
        ledger.run(Needs.STATIC, StaticContext(parsed, findings, spec, workspace.path))
    ledger.timed("static", since)
    return parsed if isinstance(parsed, Dockerfile) else None


def engine_stages(
    grade: Grading,
    workspace: Workspace,
    dockerfile: Dockerfile,
    builder: BuilderChoice,
    open_engine: OpenEngine,
) -> None:
    ledger = grade.ledger
    if (refused := context_refused(workspace, ledger.spec.limits)) is not None:
        ledger.fail_stage(Needs.BUILD, refused, "Skipped: the image was not built.")
        ledger.skip(ENGINE_STAGES, "Skipped: the image was not built.")
        return
    try:
        with open_engine() as session:
            grade.engine_name = session.describe()
            kind, note = session.builder(builder)
            grade.builder_name = kind.value if session.features().is_docker else "buildah"
            session.sweep_stale()
            grade.engine = EngineContext(
                ledger.spec, workspace, dockerfile, session, kind, ledger.progress, note
            )
            _build_and_use(grade, grade.engine)
    except GradingInterrupted:
        raise
    except EngineStopped as stopped:
        ledger.errs(ENGINE_STAGES, stopped.fault)
    except Exception as exc:  # opening the engine, choosing the builder
        ledger.errs(ENGINE_STAGES, fault_of(exc))


def _build_and_use(grade: Grading, ctx: EngineContext) -> None:
    ledger, since = grade.ledger, time.monotonic()
    ledger.progress.stage("Building the image")
    tag = f"{ctx.session.name('image')}:graded"
    ctx.build = ledger.setup(
        Needs.BUILD,
        lambda: run_build(
            ctx.session,
            ctx.workspace.path,
            ctx.dockerfile,
            tag=tag,
            limits=ctx.spec.limits,
            builder=ctx.builder,
            base_image=ctx.spec.base_image,
            dependency_file=ctx.spec.dependency_file,
            on_event=ledger.progress.build_event,
        ),
    )
    ledger.timed("build", since)
    ledger.run(Needs.BUILD, ctx)
    if ctx.build is None or ctx.build.tag is None:
        ledger.skip(ENGINE_STAGES, "Skipped: the image did not build.")
        return
    ctx.image = ctx.build.tag
    # The cache proof's rebuilds and the image's checks need only the built image and
    # the engine's cache, not a running container: they run alongside the container's
    # stages. One thread, one rebuild at a time, so a grade never holds more than one
    # build and one container (capped at the spec's run_cpus) at once.
    alongside = _Alongside(lambda: _image_stages(ledger, ctx), ctx.session)
    try:
        if ledger.pending(Needs.CONTAINER) and ledger.has_time():
            _container_stage(ledger, ctx)
        if ledger.pending(Needs.JOB) and ledger.has_time():
            since = time.monotonic()
            ledger.run(Needs.JOB, ctx)  # the job's runs: grader/checks/job.py
            ledger.timed("run", since)
        if ctx.never_ready is not None or ctx.spec.app is None:
            # The app already failed its readiness wait: its own checks skip without a
            # second wait that could only end the same way. An exercise without an [app]
            # has no server to wait for: its checks get the image, not a container.
            extra_stage(grade, ctx.image, None)
        elif ledger.spec.extra_checks_path is not None and ledger.has_time():
            _extra_on_the_app(grade, ctx)
    except BaseException:
        alongside.abandon()
        raise
    finally:
        if ctx.container is not None:
            ctx.session.stop_container(ctx.container)
            ctx.container = None
    alongside.join()


def _image_stages(ledger: Ledger, ctx: EngineContext) -> None:
    if ledger.pending(Needs.REBUILD) and ledger.has_time():
        ledger.progress.stage("Proving the build cache (rebuilding edited copies)")
        since = time.monotonic()
        ledger.run(Needs.REBUILD, ctx)
        ledger.timed("cache", since)
    ledger.run(Needs.IMAGE, ctx)


def _extra_on_the_app(grade: Grading, ctx: EngineContext) -> None:
    """The exercise's own checks, on the app the container stage left running (the
    volume scenario's second container, or the first): they read the app as it runs,
    after the probes, and need no fresh start of their own. Only when none is left
    running (no container stage, or it stopped early) does one start for them."""
    grade.ledger.progress.stage("Running the exercise's own checks")
    assert ctx.image is not None
    if ctx.container is None:
        started = start_and_wait(
            ctx.session,
            ctx.image,
            ctx.spec,
            ctx.workspace,
            purpose="extra",
            environment=ctx.environment,
            volumes=ctx.volumes,
            dockerfile=ctx.dockerfile,
        )
        ctx.container = started.container
    extra_stage(grade, ctx.image, ctx.container)


class _Alongside:
    """Work run in a thread beside the grade's main line, joined before the report.

    An exception in it (an engine fault that ends the engine stages, a grader bug the
    ledger did not catch) is raised again by :meth:`join`, in the grade's own thread. If
    the main line fails or is interrupted, :meth:`abandon` cancels the session's builds
    (closing a build's connection makes the engine cancel it) and waits for the thread's
    own clean-up, so that nothing it makes outlives the session.
    """

    def __init__(self, work: Callable[[], None], session: Any) -> None:
        self._session = session
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(work,), name="grade-alongside", daemon=True
        )
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # handed to the grade's thread by join()
            self._error = exc

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        self._session.cancel_builds()
        self._thread.join(timeout=ABANDON_WAIT_S)


ABANDON_WAIT_S = 60.0
"""How long a failed or interrupted grade waits for the work beside it to clean up."""


def _container_stage(ledger: Ledger, ctx: EngineContext) -> None:
    spec, session, since = ctx.spec, ctx.session, time.monotonic()
    ledger.progress.stage("Running the container and sending requests")
    ctx.api_key = secrets.token_urlsafe(16) if spec.api_key else None
    ctx.environment = {spec.api_key.env_var: ctx.api_key} if spec.api_key and ctx.api_key else {}

    def start() -> Any:
        if spec.volume:
            ctx.volumes = {session.create_volume("data"): spec.volume.data_dir}
        assert ctx.image is not None
        return start_and_wait(
            session,
            ctx.image,
            spec,
            ctx.workspace,
            purpose="app",
            environment=ctx.environment,
            volumes=ctx.volumes,
            dockerfile=ctx.dockerfile,
        )

    first = ledger.setup(Needs.CONTAINER, start)
    if first is not None:
        ledger.timings["startup"] = first.seconds
        if first.container is None:
            ctx.never_ready = first.failure
            ledger.fail_stage(
                Needs.CONTAINER, first.failure, "Skipped: the app never became ready."
            )
        else:
            # Left running for the exercise's own checks; the caller stops whichever
            # container is running at the end (the volume scenario replaces this one).
            ctx.container = first.container
            ledger.run(Needs.CONTAINER, ctx)
    ledger.timed("run", since)


def extra_stage(grade: Grading, image: str | None, container: Any) -> None:
    ledger, ctx = grade.ledger, grade.engine
    path = ledger.spec.extra_checks_path
    if path is None:
        grade.extra = []
        return
    since = time.monotonic()
    build_log = ctx.build.log if ctx is not None and ctx.build is not None else None
    api_key = ctx.api_key if ctx is not None else None
    context = ExtraContext(ledger.spec, image, container, build_log, grade.dockerfile, api_key)
    try:
        grade.extra = run_extra_checks(path, context)
        for extra in grade.extra:
            if extra.verdict.status is CheckStatus.ERROR:  # a broken check: name the fault
                verdict = extra.verdict
                kind = verdict.fault or FaultKind.SPEC
                ledger.record(Fault(kind, verdict.message, verdict.hint, check=extra.id))
    except GradingInterrupted:
        raise
    except Exception as exc:  # pytest keeps the checks' own errors: a spec or grader fault
        ledger.record(fault_of(exc, check="extra_checks"))
        grade.extra = []
    ledger.timed("extra", since)
