"""Instructors' own checks: pytest tests with a marker, run in-process by the grader."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from grader.build_stream import BuildStep, StepEvent
from grader.dockerfile import Dockerfile, read_dockerfile
from grader.errors import SpecError
from grader.extra_checks import ExtraContext, run_extra_checks
from grader.progress import LiveProgress, PlainProgress
from grader.results import CheckStatus
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_spec(ROOT / "exercises" / "model-api.toml")

CHECKS = """
import pytest

@pytest.mark.grader_check(id="has_workdir", title="WORKDIR is set", points=2, hint="Add WORKDIR /app.")
def test_has_workdir(dockerfile):
    assert dockerfile.find("WORKDIR"), "there is no WORKDIR"

@pytest.mark.grader_check(id="two_stages", title="Two stages", points=1, hint="Use a builder stage.")
def test_two_stages(dockerfile):
    assert len(dockerfile.find("FROM", final_stage=False)) == 2, "one stage only"

@pytest.mark.grader_check(id="answers", title="Answers", points=3, required=True)
def test_answers(http):
    assert http.get("/health").status_code == 200
"""


def _context(tmp_path: Path) -> ExtraContext:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nWORKDIR /app\n")
    parsed = read_dockerfile(
        tmp_path / "Dockerfile", base_image=SPEC.base_image, dependency_file=SPEC.dependency_file
    )
    assert isinstance(parsed, Dockerfile)
    return ExtraContext(
        SPEC, image=None, container=None, build_log=None, dockerfile=parsed, api_key=None
    )


def test_marked_tests_become_checks_with_points_and_hints(tmp_path: Path) -> None:
    """Does each marked test become a check: passed, failed with its hint, or skipped?"""
    checks_file = tmp_path / "my_checks.py"
    checks_file.write_text(CHECKS)
    results = {c.id: c for c in run_extra_checks(checks_file, _context(tmp_path))}
    assert results["has_workdir"].verdict.status is CheckStatus.PASSED
    assert results["has_workdir"].points == 2
    failed = results["two_stages"].verdict
    assert failed.status is CheckStatus.FAILED
    assert failed.message.startswith("one stage only")
    assert failed.hint == "Use a builder stage."
    assert results["answers"].verdict.status is CheckStatus.SKIPPED
    assert results["answers"].required


def test_a_test_without_marker_is_a_spec_error(tmp_path: Path) -> None:
    """Is an unmarked test refused with a message naming it, rather than silently ignored?"""
    checks_file = tmp_path / "unmarked_checks.py"
    checks_file.write_text("def test_unmarked():\n    assert True\n")
    with pytest.raises(SpecError, match=re.escape("test_unmarked needs @pytest.mark.grader_check")):
        run_extra_checks(checks_file, _context(tmp_path))


def test_shipped_extra_checks_are_collected(tmp_path: Path) -> None:
    """Do the model-api exercise's own checks load, and skip without a running app?"""
    assert SPEC.extra_checks_path is not None
    results = run_extra_checks(SPEC.extra_checks_path, _context(tmp_path))
    assert {c.id for c in results} == {"health_reports_model", "process_not_root"}
    assert all(c.verdict.status is CheckStatus.SKIPPED for c in results)
    assert SPEC.max_score + sum(c.points for c in results) == 100


def _events() -> list[StepEvent]:
    step = BuildStep(number=2, total=5, instruction="RUN pip install -r requirements.txt")
    step.cached = True
    return [
        StepEvent("start", step),
        StepEvent("cached", step),
        StepEvent("done", step),
        StepEvent("error", None, "boom"),
    ]


def test_plain_progress_prints_one_line_per_step() -> None:
    """In CI, is each finished step one plain line, with no terminal codes?"""
    stream = io.StringIO()
    progress = PlainProgress(stream)
    progress.stage("Building the image")
    for event in _events():
        progress.build_event(event)
    text = stream.getvalue()
    assert "Step 2/5 RUN pip install -r requirements.txt … cached" in text
    assert "build failed: boom" in text
    assert "\x1b[" not in text


def test_live_progress_draws_on_a_terminal() -> None:
    """On a terminal, does the live display show finished steps with colour?"""
    from rich.console import Console

    stream = io.StringIO()
    progress = LiveProgress(Console(file=stream, force_terminal=True, width=100))
    for event in _events():
        progress.build_event(event)
    progress.close()
    assert "Step 2/5" in stream.getvalue()
    assert "\x1b[" in stream.getvalue()


def test_installed_pytest_plugins_are_not_loaded_into_the_checks(tmp_path: Path) -> None:
    """Do the checks run with pytest and the grader's fixtures alone, not with whatever
    pytest plugins this environment has installed (pytest-timeout here)?"""
    import importlib.metadata

    installed = {e.name for e in importlib.metadata.entry_points(group="pytest11")}
    assert "timeout" in installed  # the dev environment has it: the test means something
    checks_file = tmp_path / "plugin_checks.py"
    checks_file.write_text(
        "import pytest\n\n"
        '@pytest.mark.grader_check(id="alone", title="Alone", points=1)\n'
        "def test_alone(request, dockerfile):\n"
        '    assert not request.config.pluginmanager.has_plugin("timeout"), "timeout loaded"\n'
    )
    (check,) = run_extra_checks(checks_file, _context(tmp_path))
    assert check.verdict.status is CheckStatus.PASSED, check.verdict.message
