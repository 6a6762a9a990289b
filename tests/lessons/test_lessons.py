"""The lessons, tested like code with nbgrader's real command line on a temporary course copy.

For each lesson: the learner version committed in lessons/ is what nbgrader generates from
the instructor version in solutions/; the instructor notebook, submitted as a learner's,
executes top to bottom against the real engine and autogrades to full marks; the learner
notebook, submitted unanswered, fails only where answers are missing and autogrades to
zero; feedback and the grade export work; and nothing the lesson made is left on the engine.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from grader.lesson_grading import run_nbgrader

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(
    p.name for p in (ROOT / "lessons").iterdir() if p.is_dir() and p.name[:2].isdigit()
)
# In an unanswered notebook: the answer cells raise NotImplementedError, the tests fail in
# any way, and a later cell may miss a name an answer would have defined. Nothing else.
UNANSWERED = {"NotImplementedError", "NameError"}

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def notebook_of(folder: Path) -> Path:
    (notebook,) = folder.glob("*.ipynb")
    return notebook


@pytest.fixture
def course(tmp_path: Path, docker_client) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """A throw-away course folder: config, instructor notebooks, the lessons' removal label."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(
        ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("model-api")
    )
    yield course
    # A lesson that failed half-way never reached its clean-up cell.
    label = {"label": "org.docker-ml-course.lesson"}
    for container in docker_client.containers.list(all=True, filters=label):
        container.remove(force=True, v=True)
    for image in docker_client.images.list(filters=label):
        docker_client.images.remove(image.id, force=True)
    for volume in docker_client.volumes.list(filters=label):
        volume.remove(force=True)


def _expected_failure(cell: nbformat.NotebookNode, ename: str) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return True
    if meta.get("solution"):
        return ename == "NotImplementedError"
    return ename in UNANSWERED


def _cells(path: Path) -> list[tuple[str, str, dict]]:
    notebook = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, dict(c.metadata.get("nbgrader", {}))) for c in notebook.cells]


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_and_grades(course: Path, docker_client, lesson: str) -> None:  # type: ignore[no-untyped-def]
    """Is the committed learner version in sync, and do both versions grade as they should?"""
    run_nbgrader(course, "generate_assignment", lesson, "--force")
    released = notebook_of(course / "lessons" / lesson)
    committed = notebook_of(ROOT / "lessons" / lesson)
    assert _cells(released) == _cells(committed), (
        f"lessons/{lesson} is out of date: run `make lessons` and commit the result"
    )

    for student, source in (
        ("instructor", notebook_of(ROOT / "solutions" / lesson)),
        ("learner", committed),
    ):
        target = course / "submitted" / student / lesson
        target.mkdir(parents=True)
        shutil.copy(source, target / committed.name)
    run_nbgrader(course, "autograde", lesson, "--force")
    run_nbgrader(course, "generate_feedback", lesson, "--force")
    run_nbgrader(course, "export", "--to", "grades.csv")

    with (course / "grades.csv").open() as handle:
        grades = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(grades["instructor"]["score"]) == float(grades["instructor"]["max_score"]) > 0
    assert float(grades["learner"]["score"]) == 0.0
    assert (course / "feedback" / "learner" / lesson / committed.with_suffix(".html").name).exists()

    autograded = nbformat.read(course / "autograded" / "instructor" / lesson / committed.name, 4)
    errors = [o for c in autograded.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == [], "the instructor notebook must run cleanly"
    learner = nbformat.read(course / "autograded" / "learner" / lesson / committed.name, 4)
    unexpected = [
        f"cell {i}: {o.ename}: {o.evalue[:200]}"
        for i, c in enumerate(learner.cells)
        for o in c.get("outputs", [])
        if o.output_type == "error" and not _expected_failure(c, o.ename)
    ]
    assert unexpected == [], "only unanswered exercises may fail in the learner notebook"
    last_output = json.dumps(learner.cells[-1].get("outputs", []))
    assert "Removed everything this lesson run created" in last_output

    label = {"label": "org.docker-ml-course.lesson"}
    left = (
        docker_client.containers.list(all=True, filters=label)
        + docker_client.volumes.list(filters=label)
        + docker_client.images.list(filters=label)
    )
    assert left == [], f"{lesson} left {left} behind"
