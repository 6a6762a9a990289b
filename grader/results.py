"""Typed results: what each check found, and the whole grade. Reporters render these."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from grader.errors import Fault, FaultKind, fault_of

__all__ = ["BuildStepResult", "CheckResult", "CheckStatus", "Finding", "GradeReport"]


class CheckStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    """The learner's work does not meet the check: the hint says what to change."""
    ERROR = "error"
    """The grader or the engine failed: not the learner's fault."""
    SKIPPED = "skipped"
    """An earlier stage failed, so this check could not run."""


@dataclass(frozen=True)
class Finding:
    """One thing to point at in the learner's files (an annotation)."""

    message: str
    """What is wrong, in a sentence."""
    line: int | None = None
    """1-based line in ``file``, when there is one."""
    file: str = "Dockerfile"
    """The learner's file, relative to the submission folder."""
    level: str = "error"
    """``error`` or ``warning`` (a GitHub annotation level)."""
    code: str = ""
    """A rule code, e.g. hadolint's ``DL3042``."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    id: str
    """Stable identifier, e.g. ``cache_app_edit``."""
    title: str
    """A short human title."""
    status: CheckStatus
    points: float
    """Points earned."""
    max_points: float
    """Points available."""
    message: str
    """What happened, and what was expected."""
    hint: str = ""
    """What to change to pass (empty when passed)."""
    line: int | None = None
    """The Dockerfile line most to blame, 1-based."""
    file: str = "Dockerfile"
    """The file ``line`` refers to."""
    required: bool = False
    """Whether the exit status depends on this check."""
    findings: tuple[Finding, ...] = ()
    """Further places in the learner's files, for annotations."""
    details: str = ""
    """Supporting output, e.g. the tail of a build log (already trimmed)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["findings"] = [asdict(f) for f in self.findings]
        return data


@dataclass(frozen=True)
class BuildStepResult:
    """One step of the graded build, as the builder reported it: a bar of the timeline."""

    step: int
    """The builder's step number (BuildKit counts within a stage, the classic builder
    every instruction of the file)."""
    instruction: str
    """The instruction as the builder printed it, e.g. ``RUN pip install …``."""
    stage: str | None = None
    """BuildKit's stage label (``builder``, ``stage-1``); None in a single stage."""
    line: int | None = None
    """The learner's Dockerfile line of the step, 1-based, when it is known."""
    cached: bool = False
    """True when the builder reused a cached layer instead of running the step."""
    seconds: float = 0.0
    """How long the step took (BuildKit: its vertex's start to completion, by the engine's
    clock; the classic builder: from its ``Step N/M`` line until its layer was ready)."""
    started: float | None = None
    """Seconds from the first step's start to this one's (None when not known, e.g. in a
    report written before timelines were kept)."""
    install: bool = False
    """True for the step that installs the dependencies: the one the cache proof watches."""

    @property
    def label(self) -> str:
        """``3``, or ``builder 2`` for a step of a named BuildKit stage."""
        return f"{self.stage} {self.step}" if self.stage else str(self.step)


@dataclass(frozen=True)
class GradeReport:
    """The grade of one submission of one exercise."""

    exercise: str
    title: str
    submission: str
    checks: tuple[CheckResult, ...]
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage, and ``total``."""
    build_steps: tuple[BuildStepResult, ...] = ()
    """The graded build's steps, in the order the builder reported them (empty when no
    step ran)."""
    engine: str = ""
    """The engine the grade ran on, e.g. ``Docker 20.10.24 (linux/amd64)``."""
    builder: str = ""
    """The builder that built the image: ``buildkit``, ``classic``, or ``buildah`` on Podman
    (empty when no build ran)."""
    fault: str = ""
    """Set when the grade met a fault (not the learner's): the reason, for the header."""
    fault_kind: str = ""
    """Whose fault: ``engine``, ``grader`` (a bug), ``spec`` or ``submission``."""
    fault_hint: str = ""
    """What to do about the fault."""

    @property
    def graded_on(self) -> str:
        """The engine and builder, e.g. ``Docker Engine 26.1.5 (…) with BuildKit``."""
        builders = {
            "buildkit": "BuildKit",
            "classic": "the classic builder",
            "buildah": "buildah (Podman's builder)",
        }
        with_builder = f" with {builders.get(self.builder, self.builder)}" if self.builder else ""
        return f"{self.engine}{with_builder}" if self.engine else ""

    @property
    def fault_title(self) -> str:
        """``The grader could not finish (whose fault)`` ('' without a fault)."""
        if not self.fault:
            return ""
        kind = f" ({FaultKind(self.fault_kind).label})" if self.fault_kind else ""
        return f"The grader could not finish{kind}"

    @property
    def fault_summary(self) -> str:
        """The fault in one line, without its hint ('' without one)."""
        return f"{self.fault_title}: {self.fault}" if self.fault else ""

    @property
    def fault_header(self) -> str:
        """The fault in one line for a report's header, hint included ('' without one)."""
        if not self.fault:
            return ""
        return self.fault_summary + (f" Hint: {self.fault_hint}" if self.fault_hint else "")

    @property
    def score(self) -> float:
        return round(sum(c.points for c in self.checks), 2)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_points for c in self.checks), 2)

    @property
    def has_errors(self) -> bool:
        return bool(self.fault) or any(c.status is CheckStatus.ERROR for c in self.checks)

    @property
    def required_passed(self) -> bool:
        return all(c.status is CheckStatus.PASSED for c in self.checks if c.required)

    @property
    def exit_code(self) -> int:
        """0 when every required check passed, 2 on a grader/engine fault, else 1."""
        if self.has_errors:
            return 2
        return 0 if self.required_passed else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "title": self.title,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.required_passed and not self.has_errors,
            "engine": self.engine,
            "builder": self.builder,
            "fault": self.fault,
            "fault_kind": self.fault_kind,
            "fault_hint": self.fault_hint,
            "checks": [c.to_dict() for c in self.checks],
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "build_steps": [asdict(s) for s in self.build_steps],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeReport:
        """The inverse of :meth:`to_dict` (for reports read back from JSON)."""
        checks = tuple(
            CheckResult(
                **{
                    **check,
                    "status": CheckStatus(check["status"]),
                    "findings": tuple(Finding(**f) for f in check.get("findings", [])),
                }
            )
            for check in data["checks"]
        )
        return cls(
            exercise=data["exercise"],
            title=data["title"],
            submission=data["submission"],
            checks=checks,
            timings=dict(data.get("timings", {})),
            build_steps=tuple(BuildStepResult(**s) for s in data.get("build_steps", [])),
            engine=data.get("engine", ""),
            builder=data.get("builder", ""),
            fault=data.get("fault", ""),
            fault_kind=data.get("fault_kind", ""),
            fault_hint=data.get("fault_hint", ""),
        )

    def with_checks(self, checks: tuple[CheckResult, ...]) -> GradeReport:
        return replace(self, checks=checks)

    @classmethod
    def from_error(
        cls, exc: BaseException, *, exercise: str = "", title: str = "", submission: str = ""
    ) -> GradeReport:
        """A report that says the grade could not be made, instead of a traceback."""
        return cls.from_fault(fault_of(exc), exercise=exercise, title=title, submission=submission)

    @classmethod
    def from_fault(
        cls, fault: Fault, *, exercise: str = "", title: str = "", submission: str = ""
    ) -> GradeReport:
        """A report of a fault that left nothing graded: one ``error`` check says why."""
        check = CheckResult(
            id="grader",
            title="The grader ran",
            status=CheckStatus.ERROR,
            points=0,
            max_points=0,
            message=fault.message,
            hint=fault.hint,
            line=None,
            required=True,
        )
        return cls(
            exercise,
            title,
            submission,
            (check,),
            fault=fault.reason,
            fault_kind=fault.kind.value,
            fault_hint=fault.hint,
        )
