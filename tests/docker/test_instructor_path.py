"""The README's instructor commands, verbatim, on a fresh copy of the course: a class of
one learner who handed in lesson 1 and the exercise."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Grading a class (instructors)"


def readme_block(section: str) -> str:
    """The first ```bash block under ``section`` in the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index(section) :]
    match = re.search(r"```bash\n(.*?)```", after, re.S)
    assert match, f"no bash block under {section}"
    return match.group(1)


def fresh_copy(target: Path) -> Path:
    """What a clone has: the committed files (their times kept, so make sees the
    virtualenv as up to date) and the virtualenv the README's set-up made."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    # The harness's one liberty: make must not reinstall the shared virtualenv (from this
    # copy, which is then deleted), even when pyproject.toml or the lock was edited since
    # it was installed. make ignores `-o FILE` in MAKEFLAGS, so the copy's prerequisites of
    # the virtualenv's stamp are made no newer than the stamp.
    stamp = (ROOT / ".venv" / ".installed").stat()
    for name in ("pyproject.toml", "requirements.lock"):
        os.utime(
            target / name,
            ns=(stamp.st_atime_ns, min(stamp.st_mtime_ns, (target / name).stat().st_mtime_ns)),
        )
    return target


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.docker
@pytest.mark.slow
def test_the_readmes_class_grading_commands_work_on_a_fresh_copy(tmp_path: Path) -> None:
    """Do the README's commands for grading a class run, as written, on a fresh copy,
    and end with a gradebook that holds the lesson and the exercise?"""
    block = readme_block(SECTION)
    assert "make gradebook" in block
    course = fresh_copy(tmp_path / "course")
    assert not (course / "gradebook.db").exists()
    ada = course / "submitted" / "ada"
    shutil.copytree(ROOT / "lessons" / "01-containers", ada / "01-containers")  # unanswered
    shutil.copytree(ROOT / "exercises" / "model-api", ada / "model-api")
    shutil.copytree(ROOT / "solutions" / "model-api", ada / "model-api", dirs_exist_ok=True)
    lessons_before = {p: p.read_bytes() for p in (course / "lessons").rglob("*") if p.is_file()}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert (course / "gradebook.db").exists()
    lessons = {(r["student_id"], r["assignment"]): r for r in _rows(course / "lessons.csv")}
    assert float(lessons["ada", "01-containers"]["score"]) == 0  # handed in unanswered
    assert float(lessons["ada", "01-containers"]["max_score"]) > 0
    merged = {
        (r["student_id"], r["assignment"]): r for r in _rows(course / "feedback" / "gradebook.csv")
    }
    assert float(merged["ada", "model-api"]["score"]) == float(
        merged["ada", "model-api"]["max_score"]
    )
    exercise_points = float(merged["ada", "model-api"]["score"])
    assert exercise_points > 0
    assert float(merged["ada", "01-containers"]["score"]) == 0
    assert float(merged["ada", "TOTAL"]["score"]) == exercise_points
    # `make gradebook` leaves the committed learner notebooks as they were.
    assert {p: p.read_bytes() for p in (course / "lessons").rglob("*") if p.is_file()} == (
        lessons_before
    )
