"""Grade Docker exercises: build, run, probe, prove the build cache, and explain.

from grader import grade
report = grade(Path("exercises/model-api"))
print(report.score, report.max_score)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Imported on first use (PEP 562): `import grader.results` or `grader --help` must not
# load the engine, docker, testcontainers and pytest that grading needs.
_HOME = {
    "grade": "grader.api",
    "GraderError": "grader.errors",
    "CheckResult": "grader.results",
    "CheckStatus": "grader.results",
    "GradeReport": "grader.results",
    "ExerciseSpec": "grader.spec",
    "load_spec": "grader.spec",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
