"""`grader lessons`: nbgrader's autograde of a learner's notebooks against the course's
own copy, one lesson at a time, so that one lesson's trouble costs only that lesson."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _lesson(path: Path, answer: str) -> None:
    """A one-exercise nbgrader notebook: a solution cell and a 2-point hidden-test cell."""
    notebook = nbformat.v4.new_notebook()
    meta = {"schema_version": 3, "task": False}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            f"### BEGIN SOLUTION\nanswer = {answer}\n### END SOLUTION",
            metadata={
                "nbgrader": {
                    **meta,
                    "grade": False,
                    "solution": True,
                    "locked": False,
                    "grade_id": "answer",
                }
            },
        ),
        nbformat.v4.new_code_cell(
            "assert answer == 42\n### BEGIN HIDDEN TESTS\nassert isinstance(answer, int)\n"
            "### END HIDDEN TESTS",
            metadata={
                "nbgrader": {
                    **meta,
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "points": 2,
                    "grade_id": "check_answer",
                }
            },
        ),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course of two lessons, with the repository's nbgrader configuration."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    for lesson in ("01-first", "02-second"):
        _lesson(course / "solutions" / lesson / f"{lesson}.ipynb", "42")
    return course


@pytest.mark.slow
def test_a_lesson_without_its_notebook_scores_0_and_the_others_are_graded(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """When one lesson folder lacks its notebook, does that lesson score 0 with a note
    that names the notebook (the learner's 0, exit 0: not a fault), while the other
    lesson is still autograded?"""
    learner = tmp_path / "lessons"
    _lesson(learner / "01-first" / "01-first.ipynb", "42")
    (learner / "02-second").mkdir(parents=True)  # handed back without its notebook
    reports = tmp_path / "reports"
    code = main(["lessons", str(learner), "--course", str(course), "--reports", str(reports)])
    out = capsys.readouterr().out
    assert code == 0
    assert "| 01-first | 2/2 |  |" in out
    assert "| 02-second | 0/2 | 02-second.ipynb is missing from 02-second/: 0 points |" in out
    saved = {g["lesson"]: g for g in json.loads((reports / "lessons.json").read_text())}
    assert saved["01-first"]["score"] == 2
    assert saved["02-second"]["score"] == 0
    assert "is missing" in saved["02-second"]["note"]
    assert "02-second.ipynb is missing" in (reports / "lessons.md").read_text()
