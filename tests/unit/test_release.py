"""The learner copy (`make release DEST=…`): built once from this course into a temporary
folder, then searched for anything of the instructor's, and used the way a learner uses it.
What counts as the instructor's is read from the course at test time: nbgrader's
delimiters, the instructor notebooks' solution and hidden-test lines, the reference
solution's Dockerfile, the submission fixtures."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader import release as release_module
from grader.cli import main
from grader.release import Release, ReleaseError, build_release
from tests.unit.make_dry_run import make_dry_run

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "model-api"
LESSONS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.name[:2].isdigit())
# Written by tools while the tests run; not the course's content.
TOOL_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "test-artifacts"}

pytestmark = pytest.mark.slow


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and not TOOL_DIRS & set(p.relative_to(folder).parts)
    }


@dataclass(frozen=True)
class Built:
    release: Release
    course_before: dict[str, str]
    course_after: dict[str, str]

    @property
    def dest(self) -> Path:
        return self.release.dest

    def files(self) -> list[Path]:
        return sorted(p for p in self.dest.rglob("*") if p.is_file() and ".git" not in p.parts)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The learner copy, written into a fresh clone's shape: a folder holding only .git."""
    dest = tmp_path_factory.mktemp("release") / "template"
    (dest / ".git").mkdir(parents=True)
    (dest / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    before = _snapshot(ROOT)
    release = build_release(ROOT, dest)
    return Built(release, before, _snapshot(ROOT))


def _texts(path: Path) -> list[str]:
    """What a person reads in a file: a notebook's cell sources, any other file's text."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return [cell.source for cell in notebook.cells]
    return [path.read_bytes().decode("utf-8", errors="replace")]


def _normalised(text: str) -> str:
    # Line continuations (also inside a Python string, `\\`) and runs of blanks: one space.
    return re.sub(r"\s+", " ", re.sub(r"\\+[ \t]*\n", " ", text)).strip()


def _reference_dockerfile_lines() -> list[str]:
    """The reference Dockerfile's tell-tale lines: its comments (the author's own words)
    and its instructions that span several lines. Single-line instructions such as
    `COPY requirements.txt .` are the idioms the lessons and the grader's hints teach."""
    text = (REFERENCE / "Dockerfile").read_text()
    comments = [
        line.strip().lstrip("#").strip()
        for line in text.splitlines()
        if line.strip().startswith("#") and len(line.strip()) > 20
    ]
    instructions = re.findall(r"^\S[^\n]*\\\n(?:[^\n]*\\\n)*[^\n]*$", text, re.MULTILINE)
    assert comments, "the reference Dockerfile has no comments any more: update this test"
    assert instructions, "the reference Dockerfile has no multi-line instruction: update this test"
    return [_normalised(line) for line in (*comments, *instructions)]


def _reference_leaks(built: Built) -> dict[str, list[str]]:
    needles = _reference_dockerfile_lines()
    found: dict[str, list[str]] = {}
    for path in built.files():
        haystack = " ".join(_normalised(text) for text in _texts(path))
        if hits := [needle for needle in needles if needle in haystack]:
            found[path.relative_to(built.dest).as_posix()] = hits
    return found


def test_the_course_is_only_read(built: Built) -> None:
    """Does building the learner copy leave every file of the course as it was?"""
    assert built.course_after == built.course_before


def test_the_copy_holds_what_a_learner_needs(built: Built) -> None:
    """Are the lessons, the exercise, the grader, the workflow and the learner's own
    README, Makefile and JupyterLab config there, and nothing else at the top?"""
    top = {p.name for p in built.dest.iterdir()}
    assert top == {
        ".git",
        ".github",
        ".gitignore",
        "Makefile",
        "README.md",
        "environment.yml",
        "exercises",
        "grader",
        "jupyter-config",
        "lessons",
        "make",
        "pyproject.toml",
        "requirements.lock",
    }
    assert built.release.lessons == tuple(LESSONS)
    assert sorted(p.name for p in (built.dest / "lessons").iterdir()) == LESSONS
    assert (built.dest / "README.md").read_bytes() == (ROOT / "learner/README.md").read_bytes()
    assert (built.dest / "Makefile").read_bytes() == (ROOT / "learner/Makefile").read_bytes()
    workflow = ".github/workflows/grade.yml"
    assert (built.dest / workflow).read_bytes() == (ROOT / workflow).read_bytes()
    assert (built.dest / "exercises/model-api/app/main.py").is_file()
    assert (built.dest / "exercises/model_api_checks.py").is_file()
    assert (built.dest / "exercises/batch-scoring/score.py").is_file()
    assert (built.dest / "exercises/batch-scoring.toml").is_file()
    assert not (built.dest / "exercises/batch-scoring/Dockerfile").exists()
    assert (built.dest / ".git" / "HEAD").is_file(), "a clone's .git is kept"
    assert sorted(built.release.files) == sorted(
        p.relative_to(built.dest).as_posix() for p in built.files()
    )


def test_no_instructor_folder_or_file_is_released(built: Built) -> None:
    """Are solutions/, tests/ (its fixtures are near-solutions), benchmarks, CI, nbgrader's
    course config, the course README and the reference Dockerfile all left out?"""
    released = {p.relative_to(built.dest).as_posix() for p in built.files()}
    for part in ("solutions", "tests", "benchmarks", ".ci", "submissions", "gradebook.db"):
        assert not [r for r in released if part in r.split("/")], part
    assert "nbgrader_config.py" not in released
    assert not [r for r in released if r.endswith(("Dockerfile", ".dockerignore"))]
    assert (built.dest / "README.md").read_bytes() != (ROOT / "README.md").read_bytes()


def test_no_file_is_a_copy_of_an_instructor_file(built: Built) -> None:
    """Is no released file byte for byte a file of solutions/ or tests/submissions/?"""
    instructor = {
        hashlib.sha256(p.read_bytes()).hexdigest(): p.relative_to(ROOT).as_posix()
        for folder in (ROOT / "solutions", ROOT / "tests" / "submissions")
        for p in folder.rglob("*")
        if p.is_file() and p.stat().st_size
    }
    copies = {
        p.relative_to(built.dest).as_posix(): instructor[digest]
        for p in built.files()
        if p.stat().st_size and (digest := hashlib.sha256(p.read_bytes()).hexdigest()) in instructor
    }
    assert copies == {}


def test_no_nbgrader_delimiter_anywhere(built: Built) -> None:
    """Does no released file, of any kind, hold a solution, hidden-test or mark-scheme
    delimiter (nbgrader's own, and the spelling the instructor notebooks use)?"""
    from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions

    markers = {
        ClearSolutions().begin_solution_delimeter,
        ClearSolutions().end_solution_delimeter,
        ClearHiddenTests().begin_test_delimeter,
        ClearHiddenTests().end_test_delimeter,
        ClearMarkScheme().begin_mark_scheme_delimeter,
        "### BEGIN HIDDEN TESTS",
        "### BEGIN SOLUTION",
    }
    found = {
        p.relative_to(built.dest).as_posix(): sorted(m for m in markers if m in text)
        for p in built.files()
        if any(m in (text := p.read_bytes().decode("utf-8", "replace")) for m in markers)
    }
    assert found == {}


def _instructor_only_lines(notebook: Path) -> set[str]:
    """The lines an instructor notebook has only inside its solution and hidden-test
    regions (a line also shown in a visible cell, like a demo's `FROM`, is no secret)."""
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        hidden = False
        for line in cell.source.splitlines():
            if re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)", line):
                hidden = True
            elif re.search(r"END (SOLUTION|HIDDEN TESTS)", line):
                hidden = False
            else:
                (inside if hidden else outside).add(line.strip())
    return {line for line in inside - outside if len(line) > 12}


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_solution_or_hidden_test_line_is_released(built: Built, lesson: str) -> None:
    """Does no line of a lesson's solutions or hidden tests appear in its learner version?"""
    (instructor,) = (ROOT / "solutions" / lesson).glob("*.ipynb")
    secret = _instructor_only_lines(instructor)
    assert secret, f"{instructor} has no solution or hidden-test region"
    released = "\n".join(_texts(built.dest / "lessons" / lesson / instructor.name))
    released_lines = {line.strip() for line in released.splitlines()}
    assert sorted(secret & released_lines) == []


def test_released_notebooks_are_nbgraders_output(built: Built, tmp_path: Path) -> None:
    """Is every released lesson exactly what nbgrader's own command line generates from
    the instructor notebook (not the committed lessons/, which may be stale)?"""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for lesson in LESSONS:
        shutil.copytree(ROOT / "solutions" / lesson, course / "solutions" / lesson)
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force"],
        cwd=course,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        check=True,
    )
    for lesson in LESSONS:
        (expected,) = (course / "lessons" / lesson).glob("*.ipynb")
        released = built.dest / "lessons" / lesson / expected.name
        assert json.loads(released.read_text()) == json.loads(expected.read_text()), lesson
    generated = sorted(p.relative_to(course / "lessons") for p in (course / "lessons").rglob("*"))
    shipped = sorted(
        p.relative_to(built.dest / "lessons") for p in (built.dest / "lessons").rglob("*")
    )
    assert shipped == generated


def test_reference_dockerfile_is_not_released(built: Built) -> None:
    """Does no released file (lesson 6 included: it asks questions, it no longer shows the
    capstone's Dockerfile) carry a tell-tale line of solutions/model-api/Dockerfile?"""
    assert _reference_leaks(built) == {}


def _in_release(built: Built, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter in the learner copy: `grader` is imported from the copy."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=built.dest,
        env={**os.environ, "PYTHONPATH": str(built.dest), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_released_grader_runs(built: Built) -> None:
    """Does `python -m grader.cli --help` work from the learner copy, with its own code?"""
    where = _in_release(built, "-c", "import grader; print(grader.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(built.dest), where
    result = _in_release(built, "-m", "grader.cli", "--help")
    assert result.returncode == 0, result.stderr
    assert "check" in result.stdout


def test_the_released_spec_loads(built: Built) -> None:
    """Does the copy's exercise spec validate, with its starter folder and its own checks?"""
    code = (
        "from pathlib import Path; from grader.spec import find_exercise; "
        "spec = find_exercise('model-api', Path('exercises/model-api'), Path('.')); "
        "print(spec.starter_dir.resolve(), spec.extra_checks_path.resolve(), spec.max_score)"
    )
    result = _in_release(built, "-c", code)
    assert result.returncode == 0, result.stderr
    starter, checks, _score = result.stdout.split()
    assert Path(starter) == built.dest / "exercises" / "model-api"
    assert Path(checks).is_file()


def test_grader_check_reads_a_learner_dockerfile_without_an_engine(
    built: Built, tmp_path: Path
) -> None:
    """Does the copy's `grader check` grade a learner's Dockerfile statically (no engine
    here), the way `make check` would?"""
    work = tmp_path / "model-api"
    shutil.copytree(built.dest / "exercises" / "model-api", work)
    (work / "Dockerfile").write_text("FROM python:3.11-slim\nCMD uvicorn app.main:app\n")
    result = _in_release(
        built,
        "-m",
        "grader.cli",
        "check",
        str(work),
        "--exercise",
        "model-api",
        "--course",
        ".",
        "--format",
        "json",
        "--no-progress",
        DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock",
        GRADER_NO_ENGINE_INSTALL="1",
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    checks = {c["id"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert checks["dockerfile_valid"] == "passed"
    assert checks["exec_form_cmd"] == "failed"
    assert checks["starter_unchanged"] != "failed"


def test_the_released_makefile_and_pyproject_serve_a_learner(built: Built) -> None:
    """Does the copy's Makefile offer lab/check/engine, start JupyterLab in learner mode,
    and install every extra of a pyproject.toml that packages the grader?"""
    help_text = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=built.dest,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for target in ("lab", "check", "engine", "clean-engine"):
        assert f"make {target} " in help_text
    for instructor_target in ("formgrader", "release", "lessons", "test"):
        assert f"make {instructor_target} " not in help_text
    lab = make_dry_run(built.dest, "lab")
    assert lab.env == {"JUPYTER_CONFIG_PATH": str(built.dest / "jupyter-config" / "learner")}
    for name in ("jupyter_server_config.json", "labconfig/page_config.json"):
        shipped = built.dest / "jupyter-config" / "learner" / name
        assert shipped.read_bytes() == (ROOT / "jupyter-config" / "learner" / name).read_bytes()

    def dry_check(*variables: str) -> str:
        return subprocess.run(
            ["make", "-n", "--no-print-directory", "check", *variables],
            cwd=built.dest,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    # Every exercise the copy has (each with a Dockerfile, when none is named), or one.
    assert "for name in batch-scoring model-api; do" in dry_check()
    assert "for name in batch-scoring; do" in dry_check("EXERCISE=batch-scoring")
    assert 'grader check "exercises/$name" --exercise "$name" --course .' in dry_check()

    pyproject = tomllib.loads((built.dest / "pyproject.toml").read_text())
    assert (built.dest / pyproject["project"]["readme"]).is_file()
    assert pyproject["project"]["scripts"]["grader"] == "grader.cli:main"
    assert pyproject["tool"]["setuptools"]["packages"]["find"]["include"] == ["grader*"]
    for pattern in pyproject["tool"]["setuptools"]["package-data"]["grader"]:
        assert list((built.dest / "grader").glob(pattern)), pattern
    common = built.dest / "make" / "common.mk"
    extras = re.search(r"^EXTRAS := (.+)$", common.read_text(), re.M)
    assert extras
    assert set(extras.group(1).split(",")) == set(pyproject["project"]["optional-dependencies"])


# DEST's safety, checked without nbgrader (the lessons are stubbed): fast, in-process.


@pytest.fixture
def no_lessons(monkeypatch: pytest.MonkeyPatch) -> None:
    def one_lesson(course: Path, target: Path, work: Path) -> tuple[str, ...]:
        (target / "01-stub").mkdir(parents=True)
        (target / "01-stub" / "stub.ipynb").write_text("{}\n")
        return ("01-stub",)

    monkeypatch.setattr(release_module, "_generate_lessons", one_lesson)


@pytest.mark.parametrize("inside", [".", "lessons", "release-here"])
def test_dest_inside_the_course_is_refused(
    inside: str, capsys: pytest.CaptureFixture[str], no_lessons: None
) -> None:
    """Is a DEST in the course refused with exit 2, a hint, and nothing written?"""
    before = _snapshot(ROOT)
    assert main(["release", str(ROOT / inside), "--course", str(ROOT), "--force"]) == 2
    err = capsys.readouterr().err
    assert "is inside the course" in err
    assert "Hint:" in err
    assert _snapshot(ROOT) == before
    assert not (ROOT / "release-here").exists()


def test_dest_holding_the_course_is_refused(
    capsys: pytest.CaptureFixture[str], no_lessons: None
) -> None:
    """Is a DEST that contains the course (its parent folder) refused, even with --force?"""
    assert main(["release", str(ROOT.parent), "--course", str(ROOT), "--force"]) == 2
    assert "holds the course" in capsys.readouterr().err


def test_a_non_empty_dest_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_lessons: None
) -> None:
    """Is a non-empty DEST refused without --force, and with it are only the release's own
    files replaced (a stale lesson goes, the learner's other files and .git stay)?"""
    dest = tmp_path / "template"
    (dest / ".git").mkdir(parents=True)
    (dest / "NOTES.md").write_text("mine\n")
    (dest / "lessons" / "99-stale").mkdir(parents=True)
    (dest / "README.md").write_text("old\n")

    assert main(["release", str(dest), "--course", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err
    assert "--force" in err
    assert (dest / "README.md").read_text() == "old\n"

    assert main(["release", str(dest), "--course", str(ROOT), "--force"]) == 0
    assert (dest / "NOTES.md").read_text() == "mine\n"
    assert (dest / ".git").is_dir()
    assert not (dest / "lessons" / "99-stale").exists()
    assert (dest / "README.md").read_bytes() == (ROOT / "learner/README.md").read_bytes()


def test_instructor_material_stops_the_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_lessons: None
) -> None:
    """If the list of copied files ever took in the reference Dockerfile, would the release
    refuse, name it, and write nothing?"""
    leaking = release_module.Copied("solutions/model-api/Dockerfile", "Dockerfile", "oops")
    monkeypatch.setattr(release_module, "COPIED", (*release_module.COPIED, leaking))
    dest = tmp_path / "template"
    with pytest.raises(ReleaseError, match="identical to the course's solutions/model-api"):
        build_release(ROOT, dest)
    assert not dest.exists()


def test_a_folder_that_is_not_the_course_is_refused(tmp_path: Path) -> None:
    """Is releasing from a learner copy (no solutions/) refused with a clear message?"""
    with pytest.raises(ReleaseError, match="not the instructor's course"):
        build_release(tmp_path, tmp_path.parent / "elsewhere")


def test_make_release_needs_dest_and_calls_the_grader(tmp_path: Path) -> None:
    """Does `make release` without DEST stop with its usage before installing anything,
    and with DEST (and FORCE=1) run `grader release DEST --force`?"""
    bare = subprocess.run(
        ["make", "--no-print-directory", "release"], cwd=ROOT, capture_output=True, text=True
    )
    assert bare.returncode == 2
    assert "usage: make release DEST=folder" in bare.stderr
    planned = subprocess.run(
        ["make", "-n", "--no-print-directory", "release", f"DEST={tmp_path}", "FORCE=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert planned[-1] == f'.venv/bin/grader release "{tmp_path}" --force'
