"""What importing the grader costs: the CLI and the result types load no engine library
and change no environment variable; the engine comes in only when grading needs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("docker", "testcontainers", "pytest", "grader.engine", "grader.api")


@pytest.mark.parametrize("module", ["grader", "grader.cli", "grader.results", "grader.report"])
def test_light_modules_load_no_engine_library_and_leave_the_environment(module: str) -> None:
    probe = (
        "import json, os, sys\n"
        "before = dict(os.environ)\n"
        f"import {module}\n"
        f"print(json.dumps([sorted(m for m in {HEAVY!r} if m in sys.modules),"
        " dict(os.environ) == before]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded, same_environment = json.loads(result.stdout)
    assert loaded == []
    assert same_environment


def test_the_public_names_still_import_from_the_package() -> None:
    from grader import CheckStatus, GradeReport, grade, load_spec

    assert callable(grade)
    assert callable(load_spec)
    assert GradeReport.__module__ == "grader.results"
    assert CheckStatus.PASSED.value == "passed"
