"""Faults of the grader or of the Docker engine: never the learner's mistakes.

A learner's mistake (a Dockerfile that does not build, an app that does not answer)
is a *failed check* with a hint, not an exception. The exceptions below are for
everything else::

    GraderError
    ├── SpecError            an exercise spec (or its own checks) is missing or invalid
    ├── SubmissionError      the submission folder cannot be graded at all
    ├── EngineError          the Docker engine misbehaved
    │   ├── EngineUnavailable    no engine answers (not installed, not started)
    │   └── EngineRefused        the engine answered a request with an error status
    │       └── NotFoundOnEngine     it has no such image, container or volume
    ├── SetupError           the engine or base image could not be brought up
    └── GradingInterrupted   Ctrl-C or SIGTERM arrived; resources were cleaned up

    ContainerWontStart       the learner's image cannot start a container: the run
                             stage turns it into a failed check (never a fault)

What a fault means is decided in one place, :func:`fault_of`: it names the
:class:`FaultKind` (the engine's, the grader's own bug, the spec's, the submission's)
with a hint; the docker SDK's own exceptions are translated by the engine package
(:func:`grader.engine.as_engine_error`), at the engine package's edge: nothing outside
``grader/engine/`` sees them. ``grade()`` turns every fault after the spec has loaded
into a report; the command line exits 2 on any of them.

:func:`how_to_get_an_engine` lives here, not with the engine bring-up, because both the
engine package (when no engine answers) and :mod:`grader.provision` say it.
"""

from __future__ import annotations

import enum
import os
import platform
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ContainerWontStart",
    "EngineError",
    "EngineRefused",
    "EngineUnavailable",
    "Fault",
    "FaultKind",
    "GraderError",
    "GradingInterrupted",
    "NotFoundOnEngine",
    "SetupError",
    "SpecError",
    "SubmissionError",
    "fault_of",
    "how_to_get_an_engine",
]


class GraderError(Exception):
    """Base class: a fault that is not the learner's to fix. Carries an optional hint."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class SpecError(GraderError):
    """An exercise spec file is missing, unreadable or does not validate."""


class SubmissionError(GraderError):
    """The submission folder does not exist or is not a folder."""


class EngineError(GraderError):
    """The Docker engine failed in a way the learner did not cause.

    ``detail`` is the engine's (or the docker SDK's) whole text, where ``message`` may
    shorten it; without one it is the message.
    """

    def __init__(self, message: str, *, hint: str = "", detail: str = "") -> None:
        super().__init__(message, hint=hint)
        self.detail = detail or message


class EngineUnavailable(EngineError):
    """No Docker engine answers."""


class EngineRefused(EngineError):
    """The engine answered a request with an error: ``status_code`` is the HTTP status
    (409 for an image in use, 400 for a reference it cannot parse …), None when unknown."""

    def __init__(
        self, message: str, *, status_code: int | None = None, hint: str = "", detail: str = ""
    ) -> None:
        super().__init__(message, hint=hint, detail=detail)
        self.status_code = status_code


class NotFoundOnEngine(EngineRefused):
    """The engine has no such image, container or volume (HTTP 404)."""


class SetupError(GraderError):
    """Installing or starting the engine, or preparing the base image, failed."""


class GradingInterrupted(GraderError):
    """Grading was interrupted by a signal; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        import signal

        super().__init__(f"interrupted by {signal.Signals(signum).name}; resources were removed")
        self.signum = signum


class ContainerWontStart(Exception):
    """The engine refused to start a container because of the image (an exec-form CMD
    naming a program the image lacks, an entrypoint that is not executable).

    ``message`` is the engine's own words.
    """

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class FaultKind(enum.StrEnum):
    """Whose fault a grade's ``error`` is (a learner's mistake is ``failed``, not a fault)."""

    ENGINE = "engine"
    """The Docker engine is missing or misbehaved."""
    GRADER = "grader"
    """A bug in the grader."""
    SPEC = "spec"
    """The exercise's spec or its own checks are broken."""
    SUBMISSION = "submission"
    """The submission cannot be graded at all (no such folder)."""

    @property
    def label(self) -> str:
        """Whose fault, in words for a report's header."""
        return {
            FaultKind.ENGINE: "a fault of the Docker engine",
            FaultKind.GRADER: "a bug in the grader",
            FaultKind.SPEC: "a problem in the exercise's spec",
            FaultKind.SUBMISSION: "the submission cannot be graded",
        }[self]


ENGINE_HINT = "Not your mistake: check that the engine runs (`make engine`), then grade again."
SPEC_HINT = "Not your mistake: the exercise's spec or its own checks are broken; tell your teacher."


@dataclass(frozen=True)
class Fault:
    """A fault, said for the report: whose it is, what happened, what to do."""

    kind: FaultKind
    reason: str
    """What happened, for the report's header (e.g. the engine's words)."""
    hint: str
    check: str = ""
    """The check that was running, if any."""

    @property
    def message(self) -> str:
        """The reason as an ``error`` verdict says it."""
        if self.kind is FaultKind.ENGINE:
            return f"The Docker engine failed: {self.reason}"
        if self.kind is FaultKind.GRADER:
            where = f" in the check `{self.check}`" if self.check else ""
            return f"The grader failed{where}: {self.reason}"
        return self.reason


def fault_of(exc: BaseException, *, check: str = "") -> Fault:
    """Whose fault ``exc`` is: the one place that decides (``check``: where it happened)."""
    if isinstance(exc, SpecError):
        return Fault(FaultKind.SPEC, exc.message, exc.hint or SPEC_HINT, check)
    if isinstance(exc, SubmissionError):
        return Fault(FaultKind.SUBMISSION, exc.message, exc.hint, check)
    if isinstance(exc, SetupError):
        return Fault(FaultKind.ENGINE, exc.message, exc.hint or ENGINE_HINT, check)
    if isinstance(exc, GraderError) and not isinstance(exc, EngineError):
        # The grader's own tools (hadolint …) failed in a way it foresaw.
        return Fault(FaultKind.GRADER, exc.message, exc.hint or _bug_hint(check, exc), check)
    from grader.engine import as_engine_error

    engine_error = as_engine_error(exc)
    if engine_error is not None:
        return Fault(
            FaultKind.ENGINE, engine_error.message, engine_error.hint or ENGINE_HINT, check
        )
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    name = type(exc).__name__
    return Fault(
        FaultKind.GRADER, f"{name}: {text}" if text else name, _bug_hint(check, exc), check
    )


def how_to_get_an_engine(system: str | None = None, *, is_root: bool | None = None) -> str:
    """Say, for this platform, what the user should install or start."""
    system = system or platform.system()
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if system == "Darwin":
        return (
            "Start Docker Desktop (or `colima start`, or Rancher Desktop) and run this again. "
            "To install one: https://docs.docker.com/desktop/setup/install/mac-install/ "
            "or `brew install colima docker`."
        )
    if system == "Windows":
        return (
            "Start Docker Desktop (with the WSL 2 back end) and run this again from WSL 2. "
            "To install it: https://docs.docker.com/desktop/setup/install/windows-install/"
        )
    if _is_wsl():
        return (
            "Start Docker Desktop on Windows and turn on Settings > Resources > WSL integration "
            "for this distribution, or install an engine inside WSL with "
            "`sudo apt-get install docker.io && sudo dockerd &`."
        )
    if not is_root:
        return (
            "Start the engine with `sudo systemctl start docker` (install it first with "
            "`sudo apt-get install docker.io`, then `sudo usermod -aG docker $USER` and log in "
            "again), or run this command with sudo so that it can do both for you."
        )
    return "Install Docker Engine (https://docs.docker.com/engine/install/) and start `dockerd`."


def _is_wsl() -> bool:
    try:
        return "microsoft" in Path("/proc/version").read_text().lower()
    except OSError:
        return False


def _bug_hint(check: str, exc: BaseException) -> str:
    return (
        f"Not your mistake: this is a bug in the grader: please report it (check "
        f"`{check or 'none'}`, {type(exc).__name__}), with this report."
    )
