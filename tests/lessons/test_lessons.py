"""The lessons, tested like code with nbgrader's real command line on a temporary course copy.

For each lesson: the learner version committed in lessons/ is what nbgrader generates from
the instructor version in solutions/; the instructor notebook, submitted as a learner's,
executes top to bottom against the real engine and autogrades to full marks; the learner
notebook, submitted unanswered, fails only where answers are missing and autogrades to
zero; feedback and the grade export work; and nothing the lesson made is left on the engine.
Lessons 2, 3, 7 and 8 are marked ``lanes``: their instructor versions run on every engine
lane (``--engine``). And every graded cell judges answers by what is on the engine: a wrong
answer that games its visible test scores 0 there, another right answer full marks
(tests/lessons/answers/).

An engine that cannot do something a lesson needs costs exactly the points the lesson says
it costs, with the lesson's own explanation (see ``LIMITS``); nothing is skipped.

The helpers the lessons use for what differs between engines (grader/lesson_helpers.py) are
tested without an engine in tests/unit/test_lesson_helpers.py.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.lesson_grading import run_nbgrader
from grader.lesson_helpers import engine_sees_folder, find_lesson_objects, remove_earlier_runs
from grader.nbgrader_cells import is_bash_cell

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(
    p.name for p in (ROOT / "lessons").iterdir() if p.is_dir() and p.name[:2].isdigit()
)
# In an unanswered notebook: the answer cells raise NotImplementedError, the tests fail in
# any way, and a later cell may miss a name an answer would have defined. Nothing else.
UNANSWERED = {"NotImplementedError", "NameError"}
# The lessons whose cells read what differs between engines: build output (lesson 2),
# `docker save`'s layout and `docker history` (lesson 3), cache mounts and what they leave
# in the image (lesson 7), State.Health, restart counts and `docker events` (lesson 8).
# `make test` runs them on every lane; `pytest tests/lessons/test_lessons.py --engine LANE`
# runs every lesson on one.
LANE_LESSONS = {
    "02-images-and-layers",
    "03-running-and-configuration",
    "07-images-for-ml",
    "08-when-a-container-misbehaves",
}


@dataclass(frozen=True)
class Limit:
    """Something a lesson cannot do on some engines, and what the lesson says about it."""

    lesson: str
    grade_ids: frozenset[str]
    """The cells (answers and their tests) that cannot pass: their points are lost."""
    said: str
    """What the lesson prints, in its set-up cell, on such an engine."""
    failed_with: str
    """What the failing test cell says."""


# Bind mounts share a folder of the engine's machine: an engine on another machine (the
# nested lanes: an engine reached over TCP, like DOCKER_HOST=tcp://…), or a VM that does not
# share the folder, cannot see the lesson's folder.
BIND_MOUNTS = Limit(
    "04-volumes-and-bind-mounts",
    frozenset({"bind-mount", "bind-mount-test"}),
    said="Warning: your engine cannot see this notebook's folder",
    failed_with="your engine cannot see",
)


def limits_here(docker_client: Any, folder: Path, lesson: str) -> tuple[list[Limit], set[str]]:
    """The lesson's limits on the engine under test, found the way the lessons find them,
    and the grade ids of the cells they cost."""
    found = [] if engine_sees_folder(docker_client, folder) else [BIND_MOUNTS]
    limits = [limit for limit in found if limit.lesson == lesson]
    return limits, {grade_id for limit in limits for grade_id in limit.grade_ids}


def notebook_of(folder: Path) -> Path:
    (notebook,) = folder.glob("*.ipynb")
    return notebook


@pytest.fixture
def course(tmp_path: Path, docker_client, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """A throw-away course folder: config, instructor notebooks, the lessons' removal label."""
    # The lessons' work folders in the test's own folder, not in the home folder; each
    # notebook's last cell removes its own, so none may be left (checked at the end).
    monkeypatch.setenv("DOCKER_ML_COURSE_WORK", str(tmp_path / "work"))
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(
        ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns("model-api")
    )
    yield course
    # A lesson that failed half-way never reached its clean-up cell: what it made carries
    # its label, or (what the learner's typed commands made) its name prefix.
    for lesson in LESSONS:
        remove_earlier_runs(docker_client, lesson, "", tmp_path / "work")


def _expected_failure(cell: nbformat.NotebookNode, ename: str) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return True
    if meta.get("solution") and is_bash_cell(cell):
        # The bash stub exits 1 after saying so; IPython raises CalledProcessError.
        return ename == "CalledProcessError" and "Not answered yet" in _text(cell)
    if meta.get("solution"):
        return ename == "NotImplementedError"
    return ename in UNANSWERED


def _cells(path: Path) -> list[tuple[str, str, dict]]:
    notebook = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, dict(c.metadata.get("nbgrader", {}))) for c in notebook.cells]


def _brief(evalue: str) -> str:
    """An error's start and end: a failed build's own error is in its last lines."""
    return evalue if len(evalue) <= 600 else f"{evalue[:200]} … {evalue[-400:]}"


def _text(cell: nbformat.NotebookNode) -> str:
    return json.dumps(cell.get("outputs", []))


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize(
    "lesson",
    [
        pytest.param(lesson, marks=[pytest.mark.lanes] if lesson in LANE_LESSONS else [])
        for lesson in LESSONS
    ],
)
def test_lesson_runs_and_grades(course: Path, docker_client, lane: str, lesson: str) -> None:  # type: ignore[no-untyped-def]
    """Is the committed learner version in sync, and do both versions grade as they should?"""
    run_nbgrader(course, "generate_assignment", lesson, "--force")
    released = notebook_of(course / "lessons" / lesson)
    committed = notebook_of(ROOT / "lessons" / lesson)
    assert _cells(released) == _cells(committed), (
        f"lessons/{lesson} is out of date: run `make lessons` and commit the result"
    )

    # A nested lane runs the instructor's notebook: what an engine decides is in its cells'
    # output. That an unanswered notebook scores 0 is nbgrader's and the hidden tests' doing,
    # the same on every engine: the host shows it.
    students = {"instructor": notebook_of(ROOT / "solutions" / lesson)}
    if lane == "host":
        students["learner"] = committed
    for student, source in students.items():
        target = course / "submitted" / student / lesson
        target.mkdir(parents=True)
        shutil.copy(source, target / committed.name)
    run_nbgrader(course, "autograde", lesson, "--force")
    run_nbgrader(course, "generate_feedback", lesson, "--force")
    run_nbgrader(course, "export", "--to", "grades.csv")

    autograded = nbformat.read(course / "autograded" / "instructor" / lesson / committed.name, 4)
    limits, cannot = limits_here(docker_client, course, lesson)
    lost = sum(
        float(c.metadata["nbgrader"].get("points", 0))
        for c in autograded.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") in cannot
    )
    with (course / "grades.csv").open() as handle:
        grades = {row["student_id"]: row for row in csv.DictReader(handle)}
    instructor, most = (
        float(grades["instructor"]["score"]),
        float(grades["instructor"]["max_score"]),
    )
    assert most > 0
    assert instructor == most - lost, f"the instructor got {instructor} of {most}, {lost} lost here"
    feedback = course / "feedback" / "instructor" / lesson / committed.with_suffix(".html").name
    assert feedback.exists()

    errors = [
        (c.metadata.get("nbgrader", {}).get("grade_id"), o)
        for c in autograded.cells
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert [f"{g}: {o.ename}: {_brief(o.evalue)}" for g, o in errors if g not in cannot] == [], (
        "the instructor notebook must run cleanly"
    )
    for limit in limits:
        # Said clearly, up front, and failed with that reason: never a silent skip.
        assert limit.said in _text(autograded.cells[1]), f"{lesson} must say: {limit.said}"
        failed = [o for g, o in errors if g in limit.grade_ids and g.endswith("-test")]
        assert failed, f"{lesson}: {sorted(limit.grade_ids)} should fail on this engine"
        assert all(limit.failed_with in o.evalue for o in failed), [o.evalue for o in failed]
    if lane == "host":
        _assert_unanswered_scores_0(course, lesson, committed, float(grades["learner"]["score"]))
    left = find_lesson_objects(docker_client, lesson)
    assert (left.containers, left.images, left.tags, left.volumes) == ((), (), (), ()), (
        f"{lesson} left {left} behind"
    )
    work = course.parent / "work"
    assert not work.exists() or list(work.iterdir()) == [], f"{lesson} left its work folder"


def _assert_unanswered_scores_0(course: Path, lesson: str, committed: Path, score: float) -> None:
    assert score == 0.0
    assert (course / "feedback" / "learner" / lesson / committed.with_suffix(".html").name).exists()
    learner = nbformat.read(course / "autograded" / "learner" / lesson / committed.name, 4)
    unexpected = [
        f"cell {i}: {o.ename}: {_brief(o.evalue)}"
        for i, c in enumerate(learner.cells)
        for o in c.get("outputs", [])
        if o.output_type == "error" and not _expected_failure(c, o.ename)
    ]
    assert unexpected == [], "only unanswered exercises may fail in the learner notebook"
    last_output = json.dumps(learner.cells[-1].get("outputs", []))
    assert "Removed everything this lesson run created" in last_output


# Other answers to every graded cell (tests/lessons/answers/LESSON/GRADE_ID.wrong.py and
# .right.py, or .sh for a %%bash cell): a wrong one that must score 0, with the words its
# rejection must say, and a right one, not the instructor's, that must score full marks
# (answers/README.md).
ANSWERS = ROOT / "tests" / "lessons" / "answers"
REJECTED_WITH = "# Rejected with: "


def answer_cells(lesson: str) -> dict[str, str]:
    """The grade ids of the lesson's answer cells, in order, and their answers' suffix:
    ``.sh`` for a ``%%bash`` cell, ``.py`` for Python."""
    notebook = nbformat.read(notebook_of(ROOT / "solutions" / lesson), 4)
    return {
        c.metadata["nbgrader"]["grade_id"]: ".sh" if is_bash_cell(c) else ".py"
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def other_answer(lesson: str, grade_id: str, kind: str) -> str:
    """The answer's text as the learner types it (without the ``%%bash`` line)."""
    suffix = answer_cells(lesson)[grade_id]
    return (ANSWERS / lesson / f"{grade_id}.{kind}{suffix}").read_text()


def rejected_with(wrong: str) -> str:
    first = next(iter(wrong.splitlines()), "")
    assert first.startswith(REJECTED_WITH), f"a wrong answer starts with {REJECTED_WITH!r}"
    return first.removeprefix(REJECTED_WITH).strip()


def answered(released: Path, lesson: str, kind: str) -> nbformat.NotebookNode:
    """The learner's notebook with every answer cell holding the other answer of that kind."""
    notebook = nbformat.read(released, 4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            typed = other_answer(lesson, meta["grade_id"], kind)
            cell.source = f"%%bash\n{typed}" if is_bash_cell(cell) else typed
    return notebook


def test_every_answer_cell_has_a_wrong_and_another_right_answer() -> None:
    """A new exercise needs both, or its hidden tests are not shown to judge answers."""
    wanted = {
        ANSWERS / lesson / f"{grade_id}.{kind}{suffix}"
        for lesson in LESSONS
        for grade_id, suffix in answer_cells(lesson).items()
        for kind in ("wrong", "right")
    }
    present = {*ANSWERS.glob("*/*.py"), *ANSWERS.glob("*/*.sh")}
    assert sorted(map(str, wanted - present)) == [], "write these answers"
    assert sorted(map(str, present - wanted)) == [], "these answer no cell of the lessons"
    for path in wanted:
        if ".wrong." in path.name:
            assert rejected_with(path.read_text()), f"{path}: say why it is rejected"
        if path.suffix == ".sh":
            assert not path.read_text().startswith("%%"), f"{path}: the cell's %%bash is added"


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_scores_wrong_answers_0_and_other_right_answers_full(  # type: ignore[no-untyped-def]
    course: Path, docker_client, lane: str, lesson: str
) -> None:
    """Each graded cell's tests judge what the learner made on the engine: a wrong answer
    that games the visible test scores 0 there, for its own reason; another right one scores
    full marks. Both notebooks go through nbgrader like a learner's."""
    from nbgrader.api import Gradebook

    if lane != "host":
        # The right answers are Docker CLI and SDK code (docker top, docker history's
        # flags); what differs between engines is the lesson test's, on every lane.
        pytest.skip("the answers judge the hidden tests, on the host's Docker engine")

    run_nbgrader(course, "generate_assignment", lesson, "--force")
    released = notebook_of(course / "lessons" / lesson)
    for kind in ("wrong", "right"):
        target = course / "submitted" / kind / lesson
        target.mkdir(parents=True)
        nbformat.write(answered(released, lesson, kind), target / released.name)
    run_nbgrader(course, "autograde", lesson, "--force")

    _, cannot = limits_here(docker_client, course, lesson)
    errors = {
        kind: {
            c.metadata.get("nbgrader", {}).get("grade_id"): o
            for c in nbformat.read(course / "autograded" / kind / lesson / released.name, 4).cells
            for o in c.get("outputs", [])
            if o.output_type == "error"
        }
        for kind in ("wrong", "right")
    }
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for grade_id in answer_cells(lesson):
            test = f"{grade_id}-test"
            scores = {
                kind: gradebook.find_grade(test, released.stem, lesson, kind)
                for kind in ("wrong", "right")
            }
            why = rejected_with(other_answer(lesson, grade_id, "wrong"))
            assert scores["wrong"].score == 0, f"{lesson} {grade_id}: a wrong answer scored"
            if grade_id in cannot:
                continue  # rejected with the engine's limit, as the lesson test checks
            said = errors["wrong"].get(test)
            assert said is not None, f"{lesson} {grade_id}: the wrong answer raised no error"
            assert why in f"{said.ename}: {said.evalue}", (
                f"{lesson} {grade_id}: the wrong answer must be rejected with {why!r}, "
                f"not {said.ename}: {_brief(said.evalue)}"
            )
            right = errors["right"]
            failed = [
                f"{g}: {o.ename}: {_brief(o.evalue)}"
                for g, o in right.items()
                if g in {grade_id, test}
            ]
            assert failed == [], f"{lesson} {grade_id}: another right answer failed"
            assert scores["right"].score == scores["right"].max_score > 0
