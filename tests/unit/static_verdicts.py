"""The static stage's verdict on one rule, for the rule tests: through the registry."""

from __future__ import annotations

from grader.checks import CHECKS
from grader.checks.base import Needs, StaticContext, Verdict
from grader.checks.registry import checks_needing


def static_verdict(rule: str, context: StaticContext) -> Verdict:
    """What the static stage says for ``rule``: a static check's verdict, or the static
    part of a later check (passed when it leaves the check to its own stage)."""
    check = CHECKS[rule]
    if check.needs is Needs.STATIC:
        return check.run(context)
    assert check.static_part is not None, rule
    return check.static_part(context) or Verdict.passed("Left to the check's own stage.")


STATIC_RULES = sorted(
    [c.id for c in checks_needing(Needs.STATIC)]
    + [c.id for c in CHECKS.values() if c.static_part is not None]
)
