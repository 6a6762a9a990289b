"""Faults of the grader or of the Docker engine: never the learner's mistakes.

A learner's mistake (a Dockerfile that does not build, an app that does not answer)
is a *failed check* with a hint, not an exception. The exceptions below are for
everything else::

    GraderError
    ├── SpecError            an exercise spec (or its own checks) is missing or invalid
    ├── SubmissionError      the submission folder cannot be graded at all
    ├── EngineError          the Docker engine misbehaved
    │   └── EngineUnavailable    no engine answers (not installed, not started)
    ├── SetupError           the engine or base image could not be brought up
    └── GradingInterrupted   Ctrl-C or SIGTERM arrived; resources were cleaned up

    ContainerWontStart       the learner's image cannot start a container: the run
                             stage turns it into a failed check (never a fault)

What a fault means is decided in one place, :func:`fault_of`: it names the
:class:`FaultKind` (the engine's, the grader's own bug, the spec's, the submission's)
with a hint; the docker SDK's own exceptions are translated by the engine package
(:func:`grader.engine.as_engine_error`). ``grade()`` turns every fault after the spec
has loaded into a report; the command line exits 2 on any of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ContainerWontStart",
    "EngineError",
    "EngineUnavailable",
    "Fault",
    "FaultKind",
    "GraderError",
    "GradingInterrupted",
    "SetupError",
    "SpecError",
    "SubmissionError",
    "fault_of",
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
    """The Docker engine failed in a way the learner did not cause."""


class EngineUnavailable(EngineError):
    """No Docker engine answers."""


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


def _bug_hint(check: str, exc: BaseException) -> str:
    return (
        f"Not your mistake: this is a bug in the grader: please report it (check "
        f"`{check or 'none'}`, {type(exc).__name__}), with this report."
    )
