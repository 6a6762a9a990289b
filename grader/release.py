"""The learner's copy of the course: ``grader release DEST`` (``make release DEST=…``).

The copy is a folder ready to push as the learners' template repository. What goes in
is a list (:data:`COPIED`, the exercises their specs name, and the lessons nbgrader
generates), never "everything but": a file added to the course stays out of the copy
until someone lists it here. So ``solutions/`` (instructor notebooks, the reference
Dockerfile), ``tests/`` (whose submission fixtures are near-solutions), ``benchmarks/``,
``.ci/``, ``nbgrader_config.py`` and the course README never reach learners.

The lessons are made afresh: each ``solutions/NN-topic/`` is copied with
``nbgrader_config.py`` into a throw-away course and nbgrader's generate_assignment writes
its learner version (the committed ``lessons/`` may be stale, and ``make lessons`` removes
the course's ``gradebook.db``). Before anything is written to DEST the staged copy is
checked (:func:`leaks`): no nbgrader solution, hidden-test or mark-scheme delimiter (their
defaults, read from nbgrader's preprocessors, so that this module spells none of them) and
no file identical to one under ``solutions/``. The course is only ever read.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError
from grader.spec import load_spec

__all__ = ["COPIED", "Release", "ReleaseError", "build_release", "leaks", "nbgrader_delimiters"]


class ReleaseError(GraderError):
    """The learner copy cannot be written: a wrong DEST, or instructor material in it."""


@dataclass(frozen=True)
class Copied:
    """A file or folder of the course that the learner copy holds as it is."""

    source: str
    """Its path in the course."""
    target: str
    """Its path in the learner copy."""
    why: str
    """What the learner needs it for."""


COPIED: tuple[Copied, ...] = (
    Copied("grader", "grader", "`grader check` on the exercise, as the workflow grades it"),
    Copied("pyproject.toml", "pyproject.toml", "installs the grader, JupyterLab and nbgrader"),
    Copied(
        "requirements.lock", "requirements.lock", "the exact versions the course is tested with"
    ),
    Copied("environment.yml", "environment.yml", "the same environment with conda"),
    Copied(".gitignore", ".gitignore", "keeps .venv/, .env and caches out of commits"),
    Copied(".github/workflows/grade.yml", ".github/workflows/grade.yml", "grades every push"),
    Copied("learner/Makefile", "Makefile", "the learner's targets: lab, check, engine"),
    Copied("make/common.mk", "make/common.mk", "the venv and engine targets both Makefiles use"),
    Copied("learner/README.md", "README.md", "the learner's README"),
    Copied("jupyter-config/learner", "jupyter-config/learner", "`make lab`'s learner mode"),
)
"""Everything the learner copy holds besides the exercises and the lessons."""

# Made by tools, never part of a copy.
CACHES = ("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info", ".pytest_cache")
# What a release writes, and so what --force replaces in DEST; anything else there is kept.
WRITTEN = (*(item.target for item in COPIED), "exercises", "lessons")
# A fresh clone of the template repository (only .git in it) may be released into.
KEPT_IN_DEST = frozenset({".git"})


@dataclass(frozen=True)
class Release:
    """What ``build_release`` wrote."""

    dest: Path
    """The learner copy's folder."""
    files: tuple[str, ...]
    """Every file written, relative to ``dest``, sorted."""
    lessons: tuple[str, ...]
    """The lessons nbgrader generated, e.g. ``01-containers``."""


def build_release(course: Path, dest: Path, *, force: bool = False) -> Release:
    """Write the learner copy of ``course`` into ``dest``; raise ReleaseError, writing
    nothing, when ``dest`` is unsafe or the staged copy holds instructor material."""
    course, dest = course.resolve(), dest.resolve()
    _check_course(course)
    _check_dest(course, dest, force=force)
    with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
        stage = Path(tmp) / "release"
        for item in COPIED:
            _copy(course / item.source, stage / item.target)
        _copy_exercises(course, stage)
        lessons = _generate_lessons(course, stage / "lessons", Path(tmp) / "nbgrader-course")
        if problems := leaks(stage, course):
            raise ReleaseError(
                "The learner copy would hold instructor material:\n  " + "\n  ".join(problems),
                hint="Move solutions into nbgrader solution/hidden-test regions in "
                "solutions/, or take the file out of grader.release.COPIED.",
            )
        dest.mkdir(parents=True, exist_ok=True)
        for written in WRITTEN:
            _remove(dest / written)
        shutil.copytree(stage, dest, dirs_exist_ok=True)
        files = tuple(sorted(p.relative_to(stage).as_posix() for p in _files(stage)))
    return Release(dest=dest, files=files, lessons=lessons)


def nbgrader_delimiters() -> tuple[str, ...]:
    """The delimiters nbgrader removes from learner versions: solutions, hidden tests,
    mark schemes. Read from nbgrader itself, so this module holds none of them."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions

    solutions, hidden, scheme = ClearSolutions(), ClearHiddenTests(), ClearMarkScheme()
    return (
        solutions.begin_solution_delimeter,
        solutions.end_solution_delimeter,
        hidden.begin_test_delimeter,
        hidden.end_test_delimeter,
        scheme.begin_mark_scheme_delimeter,
        scheme.end_mark_scheme_delimeter,
    )


def leaks(folder: Path, course: Path) -> list[str]:
    """Instructor material in ``folder``: one line per file and what gives it away."""
    delimiters = nbgrader_delimiters()
    instructor_files = {
        _digest(p): p.relative_to(course)
        for p in _files(course / "solutions")
        if p.stat().st_size  # an empty file gives nothing away
    }
    problems = []
    for path in _files(folder):
        relative = path.relative_to(folder).as_posix()
        if path.stat().st_size and (twin := instructor_files.get(_digest(path))):
            problems.append(f"{relative}: identical to the course's {twin.as_posix()}")
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = [d for d in delimiters if d in text]
        if found:
            problems.append(f"{relative}: nbgrader delimiter {', '.join(map(repr, found))}")
    return problems


def _check_course(course: Path) -> None:
    missing = [name for name in ("solutions", "nbgrader_config.py") if not (course / name).exists()]
    if missing:
        raise ReleaseError(
            f"{course} is not the instructor's course: it has no {' and no '.join(missing)}.",
            hint="Run `make release DEST=…` in the course repository (or pass --course).",
        )


def _check_dest(course: Path, dest: Path, *, force: bool) -> None:
    if dest == course or dest.is_relative_to(course):
        raise ReleaseError(
            f"DEST {dest} is inside the course {course}: the learner copy must live apart.",
            hint=f"Choose a folder outside it, e.g. {course.parent / (course.name + '-template')}.",
        )
    if course.is_relative_to(dest):
        raise ReleaseError(
            f"DEST {dest} holds the course {course}: writing there could replace its files.",
            hint=f"Choose a folder outside it, e.g. {course.parent / (course.name + '-template')}.",
        )
    if dest.exists() and not dest.is_dir():
        raise ReleaseError(f"DEST {dest} is a file, not a folder.")
    others = (
        sorted(p.name for p in dest.iterdir() if p.name not in KEPT_IN_DEST)
        if dest.is_dir()
        else []
    )
    if others and not force:
        shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
        raise ReleaseError(
            f"DEST {dest} is not empty ({shown}).",
            hint="Pass an empty or new folder, or --force to replace what a release writes "
            f"there ({', '.join(WRITTEN)}); anything else, .git included, is kept.",
        )


def _copy_exercises(course: Path, stage: Path) -> None:
    """Each spec, its starter folder without the files the learner writes, its own checks."""
    for spec_path in sorted((course / "exercises").glob("*.toml")):
        spec = load_spec(spec_path)
        target = stage / "exercises"
        _copy(spec_path, target / spec_path.name)
        # A Dockerfile tried out in the starter must not be handed out as the starter's.
        _copy(spec.starter_dir, target / spec.starter_dir.name, (*spec.learner_files, ".env"))
        if spec.extra_checks_path is not None:
            _copy(spec.extra_checks_path, target / spec.extra_checks_path.name)


def _generate_lessons(course: Path, target: Path, work: Path) -> tuple[str, ...]:
    """nbgrader's learner version of every ``solutions/NN-topic/``, written to ``target``."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    work.mkdir(parents=True)
    shutil.copy(course / "nbgrader_config.py", work)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(work)).load_config()
    config.CourseDirectory.root = str(work)
    api = NbGraderAPI(config=config)
    sources = course / api.coursedir.source_directory
    lessons = sorted(p.name for p in sources.iterdir() if p.is_dir() and p.name[:2].isdigit())
    for lesson in lessons:
        _copy(sources / lesson, work / api.coursedir.source_directory / lesson)
        with _interpreter_on_path():
            result = api.generate_assignment(lesson, force=True)
        if not result["success"]:
            raise ReleaseError(
                f"nbgrader could not generate the learner version of {lesson}:\n"
                f"{(result.get('log') or result.get('error') or '').strip()[-2500:]}",
                hint=f"Run `nbgrader generate_assignment {lesson} --force` in the course.",
            )
    for lesson in lessons:
        _copy(work / api.coursedir.release_directory / lesson, target / lesson)
    return tuple(lessons)


@contextmanager
def _interpreter_on_path() -> Iterator[None]:
    """nbgrader runs `alembic` from PATH: the interpreter's bin folder must be on it."""
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{before}"
    try:
        yield
    finally:
        os.environ["PATH"] = before


def _copy(source: Path, target: Path, ignore: tuple[str, ...] = ()) -> None:
    if not source.exists():
        raise ReleaseError(f"The course has no {source}, which the learner copy needs.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(*CACHES, *ignore))
    elif not any(fnmatch.fnmatch(source.name, pattern) for pattern in CACHES):
        shutil.copy2(source, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
