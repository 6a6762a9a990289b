"""The class CSVs for Canvas and Moodle that `grader batch` writes beside grades.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from lms_reports import failing_report, fault_report, passing_report

from grader.batch import read_reports, write_csv, write_lms_csvs
from grader.report.lms_gradebook import CANVAS_COLUMNS, render_canvas, render_moodle
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
GOLDENS = Path(__file__).parent / "goldens" / "lms"
ASSIGNMENT = "Dockerize the iris model API"
CLASS = {"ann": failing_report(), "bob": fault_report(), "cat": passing_report()}


def _check_golden(name: str, rendered: str, request: pytest.FixtureRequest) -> None:
    golden = GOLDENS / name
    if request.config.getoption("--update-goldens"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_canvas_csv_matches_golden(request: pytest.FixtureRequest) -> None:
    _check_golden("class.canvas.csv", render_canvas(CLASS, ASSIGNMENT), request)


def test_moodle_csv_matches_golden(request: pytest.FixtureRequest) -> None:
    _check_golden("class.moodle.csv", render_moodle(CLASS, ASSIGNMENT), request)


def test_canvas_csv_has_the_gradebook_import_columns() -> None:
    """Are the columns Canvas's own export has, then the assignment with the points?"""
    rows = list(csv.reader(render_canvas(CLASS, ASSIGNMENT).splitlines()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert rows[0][:5] == CANVAS_COLUMNS
    by_student = {row[0]: row for row in rows[1:]}
    assert by_student["ann"][3] == "ann"  # SIS Login ID
    assert (by_student["ann"][5], by_student["cat"][5]) == ("78", "100")


def test_a_fault_is_an_empty_cell_never_a_zero() -> None:
    """Does a student the grader could not grade keep their gradebook entry (no 0)?"""
    canvas = {
        row["Student"]: row for row in csv.DictReader(render_canvas(CLASS, ASSIGNMENT).splitlines())
    }
    moodle = {
        row["Username"]: row
        for row in csv.DictReader(render_moodle(CLASS, ASSIGNMENT).splitlines())
    }
    assert canvas["bob"][ASSIGNMENT] == ""
    assert moodle["bob"][ASSIGNMENT] == ""
    assert "could not finish" in moodle["bob"][f"Feedback: {ASSIGNMENT}"]
    assert "Editing the app code" in moodle["ann"][f"Feedback: {ASSIGNMENT}"]


def test_batch_writes_the_lms_csvs_beside_grades_csv(tmp_path: Path) -> None:
    """From the per-student JSON a batch leaves, are canvas.csv and moodle.csv written?"""
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    students = {name: tmp_path / "submissions" / name for name in [*CLASS, "dan"]}
    for name, report in CLASS.items():
        data = {**report.to_dict(), "student_id": name}  # as the batch writes it
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    reports = read_reports(tmp_path, students)
    assert set(reports) == set(CLASS)  # dan was never graded
    write_csv(tmp_path, reports, spec)
    canvas, moodle = write_lms_csvs(tmp_path, reports, spec)
    assert (canvas.name, moodle.name) == ("canvas.csv", "moodle.csv")
    assert canvas.parent == (tmp_path / "grades.csv").parent
    assert canvas.read_text() == render_canvas(CLASS, spec.title)
    assert moodle.read_text() == render_moodle(CLASS, spec.title)
