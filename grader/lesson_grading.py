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
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError, SubmissionError

__all__ = ["LessonGrade", "grade_lessons", "render_lessons_markdown", "run_nbgrader"]


@dataclass(frozen=True)
class LessonGrade:
    lesson: str
    score: float
    max_score: float


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
        for lesson in lessons:
            shutil.copytree(course / "solutions" / lesson, work / "solutions" / lesson)
            run_nbgrader(work, "generate_assignment", lesson, "--force")
            submitted = work / "submitted" / student / lesson
            submitted.mkdir(parents=True)
            for notebook in (learner_lessons / lesson).glob("*.ipynb"):
                shutil.copy(notebook, submitted / notebook.name)
            run_nbgrader(work, "autograde", lesson, "--student", student, "--force")
            run_nbgrader(work, "generate_feedback", lesson, "--student", student, "--force")
        run_nbgrader(work, "export", "--to", "grades.csv")
        shutil.copy(work / "grades.csv", reports / "grades.csv")
        if (work / "feedback").exists():
            shutil.copytree(work / "feedback" / student, reports / "feedback", dirs_exist_ok=True)
        with (work / "grades.csv").open() as handle:
            grades = [
                LessonGrade(row["assignment"], float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(handle)
                if row["student_id"] == student
            ]
    (reports / "lessons.json").write_text(
        json.dumps([grade.__dict__ for grade in grades], indent=2) + "\n"
    )
    (reports / "lessons.md").write_text(render_lessons_markdown(grades))
    return grades


def render_lessons_markdown(grades: list[LessonGrade]) -> str:
    lines = ["## Lessons (nbgrader)", "", "| Lesson | Points |", "|---|---:|"]
    lines += [f"| {g.lesson} | {g.score:g}/{g.max_score:g} |" for g in grades]
    total, most = sum(g.score for g in grades), sum(g.max_score for g in grades)
    lines += [
        f"| **Total** | **{total:g}/{most:g}** |",
        "",
        "Each lesson's feedback (which tests passed, with hidden ones) is in the "
        "`grade-reports` artifact, under `lessons/feedback/`.",
    ]
    return "\n".join(lines) + "\n"
