"""Grade Docker exercises: build, run, probe, prove the build cache, and explain.

from grader import grade
report = grade(Path("exercises/model-api"))
print(report.score, report.max_score)
"""

from __future__ import annotations

from grader.api import grade
from grader.errors import GraderError
from grader.results import CheckResult, CheckStatus, GradeReport
from grader.spec import ExerciseSpec, load_spec

__all__ = [
    "CheckResult",
    "CheckStatus",
    "ExerciseSpec",
    "GradeReport",
    "GraderError",
    "grade",
    "load_spec",
]
