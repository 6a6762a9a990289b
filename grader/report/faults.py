"""Whether a report is a fault of the grader or the engine, not a verdict on the learner's work.

The LMS formats treat a fault differently from a failed check: Gradescope scores it 0 with
the reason, PrairieLearn marks the submission not gradable (no attempt lost), GitHub
Classroom reports an error. What a fault is, and whose, the report says (``fault_kind``,
``fault_hint``, and checks in ``error``): this module only words it for them.
"""

from __future__ import annotations

from grader.results import CheckStatus, GradeReport

__all__ = ["fault_hint", "fault_reason", "is_fault"]

NOT_YOUR_MISTAKE = "This is not your mistake: grade again; tell your instructor if it persists."


def is_fault(report: GradeReport) -> bool:
    """True when the grader, the engine or the spec failed (a fault, or a check in ``error``)."""
    return report.has_errors


def fault_reason(report: GradeReport) -> str:
    """What failed, in a sentence or two (empty when the report is no fault)."""
    if not is_fault(report):
        return ""
    if report.fault:
        return report.fault_summary
    messages = dict.fromkeys(c.message for c in report.checks if c.status is CheckStatus.ERROR)
    return " ".join(messages) or "The grader could not finish."


def fault_hint(report: GradeReport) -> str:
    """What the learner can do about a fault: the report's, the errored checks' own, or a
    default."""
    if report.fault_hint:
        return report.fault_hint
    hints = [c.hint for c in report.checks if c.status is CheckStatus.ERROR and c.hint]
    return hints[0] if hints else NOT_YOUR_MISTAKE
