"""Faults of the grader or of the Docker engine: never the learner's mistakes.

A learner's mistake (a Dockerfile that does not build, an app that does not answer)
is a *failed check* with a hint, not an exception. The exceptions below are for
everything else, and the command line turns them into exit status 2::

    GraderError
    ├── SpecError            an exercise spec is missing or invalid
    ├── SubmissionError      the submission folder cannot be graded at all
    ├── EngineError          the Docker engine misbehaved
    │   ├── EngineUnavailable    no engine answers (not installed, not started)
    │   └── BuildUnsupported     the engine has no classic build API
    ├── SetupError           the engine or base image could not be brought up
    └── GradingInterrupted   Ctrl-C or SIGTERM arrived; resources were cleaned up
"""

from __future__ import annotations

__all__ = [
    "BuildUnsupported",
    "EngineError",
    "EngineUnavailable",
    "GraderError",
    "GradingInterrupted",
    "SetupError",
    "SpecError",
    "SubmissionError",
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


class BuildUnsupported(EngineError):
    """The engine does not offer the classic build API the cache proof relies on."""


class SetupError(GraderError):
    """Installing or starting the engine, or preparing the base image, failed."""


class GradingInterrupted(GraderError):
    """Grading was interrupted by a signal; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        import signal

        super().__init__(f"interrupted by {signal.Signals(signum).name}; resources were removed")
        self.signum = signum
