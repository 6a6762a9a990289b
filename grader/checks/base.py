"""What a check is: an id, a title, what it needs, its default points, and ``run``.

A check's ``run`` gets the context of the stage that can feed it and returns a
:class:`Verdict`; the pipeline adds the points the exercise spec gives. Checks never
catch the grader's or the engine's faults: the runner turns an exception into an
``error`` verdict that says whose fault it was (see :func:`grader.errors.fault_of`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from grader.errors import FaultKind
from grader.results import CheckResult, CheckStatus, Finding

if TYPE_CHECKING:
    from grader.build import BuildOutcome
    from grader.dockerfile import Dockerfile, DockerfileProblem
    from grader.engine import EngineSession, RunningContainer
    from grader.engine.builders import BuilderKind
    from grader.hadolint import HadolintFinding
    from grader.progress import Progress
    from grader.spec import ExerciseSpec
    from grader.workspace import Workspace

__all__ = [
    "Check",
    "EngineContext",
    "FilesContext",
    "Needs",
    "StaticContext",
    "Verdict",
    "check",
]

T = TypeVar("T")
C = TypeVar("C")


@dataclass(frozen=True)
class Verdict:
    """What a stage concluded about one check (points are added by the pipeline)."""

    status: CheckStatus
    message: str
    hint: str = ""
    line: int | None = None
    file: str = "Dockerfile"
    findings: tuple[Finding, ...] = ()
    details: str = ""
    fault: FaultKind | None = None
    """For an ``error``: whose fault it is (the report names it)."""

    @classmethod
    def passed(
        cls, message: str, *, findings: tuple[Finding, ...] = (), details: str = ""
    ) -> Verdict:
        return cls(CheckStatus.PASSED, message, findings=findings, details=details)

    @classmethod
    def failed(
        cls,
        message: str,
        hint: str,
        *,
        line: int | None = None,
        file: str = "Dockerfile",
        findings: tuple[Finding, ...] = (),
        details: str = "",
    ) -> Verdict:
        if line is not None and not findings:
            findings = (Finding(message, line, file),)
        return cls(CheckStatus.FAILED, message, hint, line, file, findings, details)

    @classmethod
    def error(
        cls,
        message: str,
        hint: str = "",
        *,
        details: str = "",
        fault: FaultKind = FaultKind.ENGINE,
    ) -> Verdict:
        return cls(CheckStatus.ERROR, message, hint, details=details, fault=fault)

    @classmethod
    def skipped(cls, message: str) -> Verdict:
        return cls(CheckStatus.SKIPPED, message)

    def result(self, check_id: str, title: str, points: float, required: bool) -> CheckResult:
        """The reported result, with the points the exercise gives this check."""
        passed = self.status is CheckStatus.PASSED
        return CheckResult(
            id=check_id,
            title=title,
            status=self.status,
            points=points if passed else 0.0,
            max_points=points,
            message=self.message,
            hint="" if passed else self.hint,
            line=self.line,
            file=self.file,
            required=required,
            findings=self.findings,
            details=self.details,
        )


class Needs(enum.StrEnum):
    """What a check needs, in the order the pipeline can provide it."""

    FILES = "files"
    """The submission laid over the starter project (always there): :class:`FilesContext`."""
    STATIC = "static"
    """A Dockerfile that parses, and hadolint's findings: :class:`StaticContext`."""
    BUILD = "build"
    """The engine's attempt to build the image, whatever came of it: :class:`EngineContext`."""
    CONTAINER = "container"
    """A running container of the image that answers its readiness URL."""
    JOB = "job"
    """Runs of the image as a batch job, each to its end (:mod:`grader.checks.job`)."""
    REBUILD = "rebuild"
    """Rebuilds of edited copies of the build context (the cache proof)."""
    IMAGE = "image"
    """The built image (its layers, its size)."""


@dataclass(frozen=True)
class FilesContext:
    """For :attr:`Needs.FILES`: the build context and the Dockerfile as read (or not)."""

    spec: ExerciseSpec
    workspace: Workspace
    dockerfile: Dockerfile | DockerfileProblem


@dataclass(frozen=True)
class StaticContext:
    """For :attr:`Needs.STATIC`: a parsed Dockerfile, hadolint's findings, the files."""

    dockerfile: Dockerfile
    hadolint: tuple[HadolintFinding, ...]
    spec: ExerciseSpec
    workspace: Path


@dataclass
class EngineContext:
    """For the engine's stages: what the build, the container and the stages left."""

    spec: ExerciseSpec
    workspace: Workspace
    dockerfile: Dockerfile
    session: EngineSession
    builder: BuilderKind
    progress: Progress
    builder_note: str = ""
    """Why ``auto`` passed BuildKit over, for the ``builds`` verdict."""
    build: BuildOutcome | None = None
    image: str | None = None
    """The built image's tag, once it built."""
    container: RunningContainer | None = None
    """The ready container, in the container stage."""
    never_ready: Verdict | None = None
    """Why the app never became ready, when it did not: later stages do not wait again."""
    api_key: str | None = None
    """The key the container was given (when the exercise has one)."""
    environment: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, str] = field(default_factory=dict)
    """Volume name -> mount path, for the container stage."""
    _shared: dict[Callable[..., Any], Any] = field(default_factory=dict)

    def once(self, compute: Callable[[EngineContext], T]) -> T:
        """Work that several checks read (one round of HTTP probes, one cache proof),
        done for the first check that asks."""
        if compute not in self._shared:
            self._shared[compute] = compute(self)
        return self._shared[compute]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Check(Generic[C]):
    """One check: everything about it in one object."""

    id: str
    """Stable identifier, named by exercise specs and reports."""
    title: str
    """A short human title."""
    needs: Needs
    """The stage that can feed it; its ``run`` gets that stage's context."""
    points: float
    """Points when a spec lists the check without saying how many."""
    run: Callable[[C], Verdict]
    announce: str = ""
    """Shown as the grade's progress when the check starts (slow checks)."""
    timing: str = ""
    """The report's timing entry its seconds add to (slow checks)."""
    hadolint_codes: tuple[str, ...] = ()
    """hadolint rules this check already judges (``hadolint_clean`` leaves them out)."""
    static_part: Callable[[StaticContext], Verdict | None] | None = None
    """For a check of an engine stage: what the files alone can already fail. Run with
    the static rules; a verdict it returns is final, None leaves the check to its stage."""
    reads_app: bool = False
    """A check of another stage that reads the spec's ``[app]`` (its port, say)."""

    @property
    def needs_app(self) -> bool:
        """Only an exercise with an ``[app]`` can list it: it runs against the ready app
        (the container stage waits for its readiness URL) or reads ``[app]``."""
        return self.needs is Needs.CONTAINER or self.reads_app


def check(
    id: str,
    title: str,
    needs: Needs,
    points: float,
    **options: Any,
) -> Callable[[Callable[[C], Verdict]], Check[C]]:
    """Declare a check on its ``run`` function: ``@check("non_root_user", "…", Needs.STATIC, 3)``.

    The module-level name becomes the :class:`Check`; the registry finds it there.
    """

    def declare(run: Callable[[C], Verdict]) -> Check[C]:
        return Check(id, title, needs, points, run, **options)

    return declare
