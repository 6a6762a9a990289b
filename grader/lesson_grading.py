"""Grading a learner's lesson notebooks with nbgrader, against the course's own copy.

The instructor notebooks (with the hidden tests) are read from the course folder, never
from the learner's files. nbgrader runs on a throw-away course: generate_assignment,
autograde, generate_feedback, export. Its feedback HTML, its CSV, and a Markdown summary
(also appended to a GitHub job summary) land in the reports folder.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.errors import GraderError, SubmissionError

__all__ = ["LessonGrade", "grade_lessons", "render_lessons_markdown", "run_nbgrader"]


@dataclass(frozen=True)
class LessonGrade:
    lesson: str
    score: float
    max_score: float
    note: str = ""
    """Why the lesson scored what it did when it was not autograded: its notebook was
    missing (0 points), or nbgrader failed on it (a fault: the lesson is graded again)."""

    @property
    def faulted(self) -> bool:
        return self.note.startswith(NBGRADER_FAILED)


NBGRADER_FAILED = "nbgrader could not grade it"


def run_nbgrader(course: Path, *args: str) -> None:
    """Run an nbgrader command in ``course``; raise GraderError with its output if it fails."""
    # nbgrader runs `alembic` from PATH: the interpreter's bin folder must be on it.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise GraderError(f"nbgrader {args[0]} failed:\n{result.stderr.strip()[-1500:]}")


def grade_lessons(
    learner_lessons: Path, course: Path, student: str, reports: Path
) -> list[LessonGrade]:
    if not learner_lessons.is_dir():
        raise SubmissionError(f"{learner_lessons} is not a folder of lessons.")
    lessons = sorted(
        p.name
        for p in learner_lessons.iterdir()
        if p.is_dir() and (course / "solutions" / p.name).is_dir()
    )
    if not lessons:
        raise SubmissionError(
            f"No lesson folders in {learner_lessons} match the course's lessons.",
            hint="Keep the lesson folders as handed out, e.g. lessons/01-containers/.",
        )
    reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-lessons-") as tmp:
        work = Path(tmp)
        shutil.copy(course / "nbgrader_config.py", work)
        notes: dict[str, str] = {}
        run_nbgrader(work, "db", "student", "add", student)
        for lesson in lessons:
            shutil.copytree(course / "solutions" / lesson, work / "solutions" / lesson)
            run_nbgrader(work, "generate_assignment", lesson, "--force")
            expected = sorted(p.name for p in (course / "solutions" / lesson).glob("*.ipynb"))
            handed_in = [n for n in expected if (learner_lessons / lesson / n).is_file()]
            if not handed_in:
                # One lesson without its notebook scores 0 (nbgrader's export gives an
                # assignment with no submission 0 points); the others are still graded.
                notes[lesson] = f"{', '.join(expected)} is missing from {lesson}/: 0 points"
                continue
            submitted = work / "submitted" / student / lesson
            submitted.mkdir(parents=True)
            for name in handed_in:
                shutil.copy(learner_lessons / lesson / name, submitted / name)
            try:
                run_nbgrader(work, "autograde", lesson, "--student", student, "--force")
                run_nbgrader(work, "generate_feedback", lesson, "--student", student, "--force")
            except GraderError as exc:
                notes[lesson] = f"{NBGRADER_FAILED}: {exc.message}"
        run_nbgrader(work, "export", "--to", "grades.csv")
        shutil.copy(work / "grades.csv", reports / "grades.csv")
        if (work / "feedback" / student).exists():
            shutil.copytree(work / "feedback" / student, reports / "feedback", dirs_exist_ok=True)
        with (work / "grades.csv").open() as handle:
            grades = [
                LessonGrade(
                    row["assignment"],
                    float(row["score"] or 0),
                    float(row["max_score"] or 0),
                    notes.get(row["assignment"], ""),
                )
                for row in csv.DictReader(handle)
                if row["student_id"] == student
            ]
    (reports / "lessons.json").write_text(
        json.dumps([asdict(grade) for grade in grades], indent=2) + "\n"
    )
    (reports / "lessons.md").write_text(render_lessons_markdown(grades))
    return grades


def render_lessons_markdown(grades: list[LessonGrade]) -> str:
    lines = ["## Lessons (nbgrader)", "", "| Lesson | Points | Note |", "|---|---:|---|"]
    lines += [
        f"| {g.lesson} | {g.score:g}/{g.max_score:g} | {g.note.splitlines()[0] if g.note else ''} |"
        for g in grades
    ]
    total, most = sum(g.score for g in grades), sum(g.max_score for g in grades)
    lines += [
        f"| **Total** | **{total:g}/{most:g}** |",
        "",
        "Each lesson's feedback (which tests passed, with hidden ones) is in the "
        "`grade-reports` artifact, under `lessons/feedback/`.",
    ]
    return "\n".join(lines) + "\n"
