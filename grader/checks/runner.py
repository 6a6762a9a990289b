"""Running a stage's checks under one fault policy, and keeping their verdicts.

A check's exception never escapes as a traceback and is never blamed on the wrong
party: :func:`~grader.errors.fault_of` says whose it is. A grader bug or a broken
spec makes that one check ``error`` and the others go on; an engine fault ends the
engine's stages (:class:`EngineStopped`), and every engine check still waiting gets
the same ``error``. A fault while a stage is set up (hadolint, the build, starting
the container) errs that stage's checks. Interruptions (Ctrl-C, SIGTERM) pass through untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from grader.checks.base import Check, Needs, Verdict
from grader.checks.registry import checks_needing
from grader.errors import Fault, FaultKind, GradingInterrupted, fault_of
from grader.progress import Progress
from grader.results import CheckStatus
from grader.spec import ExerciseSpec

__all__ = ["ENGINE_STAGES", "EngineStopped", "Ledger"]

T = TypeVar("T")

ENGINE_STAGES = (Needs.BUILD, Needs.CONTAINER, Needs.JOB, Needs.REBUILD, Needs.IMAGE)
"""The stages that need an engine, in the order the pipeline runs them."""


_UNDECIDED = Verdict.skipped("(left to the check's own stage)")


class EngineStopped(Exception):
    """An engine fault ended the engine's stages."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.reason)
        self.fault = fault


@dataclass
class Ledger:
    """The verdicts so far, the time each stage took, and the grade's first fault."""

    spec: ExerciseSpec
    progress: Progress
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    fault: Fault | None = None
    started: float = field(default_factory=time.monotonic)

    def wanted(self, *needs: Needs) -> list[Check[Any]]:
        """The checks of these stages that the exercise runs, in registry order."""
        return [c for n in needs for c in checks_needing(n) if self.spec.check(c.id) is not None]

    def pending(self, *needs: Needs) -> list[Check[Any]]:
        """The checks of these stages that the exercise runs and that have no verdict yet
        (a static part may have decided one already): the stages worth setting up."""
        return [c for c in self.wanted(*needs) if c.id not in self.verdicts]

    def out_of_time(self) -> bool:
        return time.monotonic() - self.started > self.spec.limits.total_timeout_s

    def timed(self, name: str, since: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + time.monotonic() - since

    def record(self, fault: Fault) -> Fault:
        if self.fault is None:
            self.fault = fault
        return fault

    def skip(self, needs: Iterable[Needs], reason: str) -> None:
        for check in self.wanted(*needs):
            self.verdicts.setdefault(check.id, Verdict.skipped(reason))

    def fail_stage(self, needs: Needs, verdict: Verdict, reason: str) -> None:
        """The stage could not be set up because of the learner's work: its first check
        says why, and the rest of the stage is skipped."""
        checks = self.pending(needs)
        if checks:
            self.verdicts[checks[0].id] = verdict
        self.skip([needs], reason)

    def run(self, needs: Needs, context: object) -> None:
        """Run the stage's checks that have no verdict yet, each under the fault policy
        (with the static rules: the static parts of the engine stages' checks too)."""
        if needs is Needs.STATIC:
            self._static_parts(context)
        for check in self.wanted(needs):
            if check.id in self.verdicts:
                continue
            if check.needs in ENGINE_STAGES and not self.has_time():
                return
            if check.announce:
                self.progress.stage(check.announce)
            since = time.monotonic()
            self.verdicts[check.id] = self.guarded(check.id, lambda c=check: c.run(context))
            if check.timing:
                self.timed(check.timing, since)

    def _static_parts(self, context: object) -> None:
        for check in self.wanted(*ENGINE_STAGES):
            part = check.static_part
            if part is None or check.id in self.verdicts:
                continue
            verdict = self.guarded(check.id, lambda p=part: p(context) or _UNDECIDED)  # type: ignore[arg-type]
            if verdict is not _UNDECIDED:
                self.verdicts[check.id] = verdict

    def guarded(self, check_id: str, action: Callable[[], Verdict]) -> Verdict:
        """``action()``'s verdict, or the ``error`` verdict its exception deserves."""
        try:
            verdict = action()
        except (GradingInterrupted, EngineStopped):
            raise
        except Exception as exc:
            fault = self._charge(exc, check_id)
            return Verdict.error(fault.message, fault.hint, fault=fault.kind)
        if verdict.status is CheckStatus.ERROR:
            # A check that says it could not judge is a fault too: the report names it.
            kind = verdict.fault or FaultKind.ENGINE
            self.record(Fault(kind, verdict.message, verdict.hint, check=check_id))
        return verdict

    def setup(self, needs: Needs, action: Callable[[], T]) -> T | None:
        """Set a stage up (hadolint, the build, starting the container); on a fault its
        checks err with it, and None is returned."""
        checks = self.wanted(needs)
        first = checks[0].id if checks else ""
        try:
            return action()
        except (GradingInterrupted, EngineStopped):
            raise
        except Exception as exc:
            self.errs([needs], self._charge(exc, first))
            return None

    def _charge(self, exc: Exception, check_id: str) -> Fault:
        """Record the fault ``exc`` is, charged to ``check_id``; an engine fault also ends
        the engine stages (nothing after it can be judged)."""
        fault = self.record(fault_of(exc, check=check_id))
        if fault.kind is FaultKind.ENGINE:
            raise EngineStopped(fault) from exc
        return fault

    def has_time(self) -> bool:
        """False, with the engine's checks skipped, once the grade's time is up."""
        if not self.out_of_time():
            return True
        limit = self.spec.limits.total_timeout_s
        self.skip(ENGINE_STAGES, f"Skipped: grading took longer than {limit:.0f} s.")
        return False

    def errs(self, needs: Iterable[Needs], fault: Fault) -> None:
        """Every check of these stages still waiting (or skipped for want of a stage)
        gets the fault's ``error``: the first says it all, the others point to it (one
        cause, said once: not nine copies in the report and the annotations)."""
        self.record(fault)
        first: Check[Any] | None = None
        for check in self.wanted(*needs):
            verdict = self.verdicts.get(check.id)
            if verdict is not None and verdict.status is not CheckStatus.SKIPPED:
                continue
            if first is None:
                first = check
                self.verdicts[check.id] = Verdict.error(fault.message, fault.hint, fault=fault.kind)
            else:
                self.verdicts[check.id] = Verdict.error(
                    f"Not graded: {fault.kind.label} (see “{first.title}”).",
                    "Grade again once that is resolved.",
                    fault=fault.kind,
                )
