"""GitHub annotations and the merged gradebook, from data: no engine needed."""

from __future__ import annotations

import csv
from pathlib import Path

from test_reports import sample_report

from grader.batch import discover_students, merge_gradebooks
from grader.report.github import render_annotations, render_outputs


def test_annotations_point_at_the_learners_lines(tmp_path: Path) -> None:
    """Are failed checks annotations on repository paths and lines, escaped GitHub's way?"""
    text = render_annotations(sample_report(), tmp_path / "exercises" / "model-api", root=tmp_path)
    lines = text.splitlines()
    assert lines[0] == (
        "::error file=exercises/model-api/Dockerfile,line=5,title=Editing the app code reuses "
        "the cached dependency layer::After an edit to app/main.py, the dependency install on "
        "line 6 ran again. Hint: Copy only requirements.txt before the install."
    )
    assert lines[1].startswith("::warning file=exercises/model-api/Dockerfile,line=6,")
    # The check in `error` (the grader's fault, not the learner's) is said once, on no line.
    faults = [line for line in lines if line.startswith("::warning title=The grader could not")]
    assert len(faults) == 1
    assert "file=" not in faults[0]
    assert not any("The image builds" in line for line in lines)
    assert render_outputs(sample_report()) == (
        "score=10\nmax_score=30\npassed=false\nbuilder=buildkit\n"
    )


def test_students_are_found_in_classroom_and_nbgrader_layouts(tmp_path: Path) -> None:
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "bob" / "model-api").mkdir(parents=True)
    (tmp_path / "bob" / "model-api" / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "cat").mkdir()
    assert discover_students(tmp_path) == {
        "ann": tmp_path / "ann",
        "bob": tmp_path / "bob" / "model-api",
        "cat": tmp_path / "cat",
    }


def test_merged_gradebook_joins_nbgrader_and_exercise_grades(tmp_path: Path) -> None:
    """Does the merged CSV hold each student's lessons, the exercise, and a total?"""
    nb = tmp_path / "nbgrader.csv"
    nb.write_text(
        "assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
        "late_submission_penalty,score,max_score\n"
        "01-containers,,,ann,,,,4,0,4,4\n01-containers,,,bob,,,,1,0,1,4\n"
    )
    ex = tmp_path / "exercise.csv"
    ex.write_text("student_id,assignment,score,max_score,builds\nann,model-api,90,100,10\n")
    merged = merge_gradebooks(ex, nb, tmp_path / "gradebook.csv")
    rows = list(csv.DictReader(merged.open()))
    assert [(r["student_id"], r["assignment"], r["score"]) for r in rows] == [
        ("ann", "01-containers", "4"),
        ("ann", "TOTAL", "94.0"),
        ("ann", "model-api", "90"),
        ("bob", "01-containers", "1"),
        ("bob", "TOTAL", "1.0"),
    ]


def test_annotations_stop_at_githubs_ten_per_level(tmp_path: Path) -> None:
    """GitHub drops annotations past 10 of a level: the first 10 are kept, and a notice
    says how many more are in the job summary."""
    from dataclasses import replace

    from grader.results import CheckStatus, Finding

    report = sample_report()
    failed = next(c for c in report.checks if c.status is CheckStatus.FAILED and c.required)
    many = replace(
        failed, findings=tuple(Finding(f"problem {n}", 100 + n, "Dockerfile") for n in range(14))
    )
    report = replace(report, checks=(many,))
    lines = render_annotations(report, tmp_path, root=tmp_path).splitlines()
    assert len([line for line in lines if line.startswith("::error ")]) == 10
    assert lines[-1] == "::notice ::5 more errors are in the job summary."
