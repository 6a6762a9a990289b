"""Whether a report is a fault of the grader or the engine, not a verdict on the learner's work.

The LMS formats treat a fault differently from a failed check: Gradescope scores it 0 with
the reason, PrairieLearn marks the submission not gradable (no attempt lost), GitHub
Classroom reports an error. This module is the one place that decides what a fault is, so
that a typed fault kind on the report can replace the rule below without touching them.
"""

from __future__ import annotations

from grader.results import CheckStatus, GradeReport

__all__ = ["fault_hint", "fault_reason", "is_fault"]

NOT_YOUR_MISTAKE = "This is not your mistake: grade again; tell your instructor if it persists."


def is_fault(report: GradeReport) -> bool:
    """True when the grader or the engine failed (exit status 2, or a check in ``error``)."""
    return report.exit_code == 2 or any(c.status is CheckStatus.ERROR for c in report.checks)


def fault_reason(report: GradeReport) -> str:
    """What failed, in a sentence or two (empty when the report is no fault)."""
    if not is_fault(report):
        return ""
    if report.fault:
        return f"The grader could not finish: {report.fault}"
    messages = dict.fromkeys(c.message for c in report.checks if c.status is CheckStatus.ERROR)
    return " ".join(messages) or "The grader could not finish."


def fault_hint(report: GradeReport) -> str:
    """What the learner can do about a fault: the errored checks' own hint, or a default."""
    hints = [c.hint for c in report.checks if c.status is CheckStatus.ERROR and c.hint]
    return hints[0] if hints else NOT_YOUR_MISTAKE
