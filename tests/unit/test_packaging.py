"""The set-up files agree with each other: pyproject.toml is the one source of truth."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import grader


def _pyproject(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())


def test_environment_yml_installs_the_project_with_every_extra(root: Path) -> None:
    """Does environment.yml stay a thin wrapper over the pip install, with all extras?"""
    env = yaml.safe_load((root / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    assert "pip" in deps
    conda_only = [d for d in deps if isinstance(d, str) and d not in {"python=3.11", "pip"}]
    assert conda_only == [], "dependencies belong in pyproject.toml, not environment.yml"
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert len(pip_section) == 1
    match = re.fullmatch(r"(?:--editable|-e)\s+\.\[([a-z,]+)\]", pip_section[0])
    assert match, pip_section
    extras = set(_pyproject(root)["project"]["optional-dependencies"])
    assert set(match.group(1).split(",")) == extras


def test_makefile_installs_every_extra(root: Path) -> None:
    """Does the Makefiles' venv (make/common.mk, shared with the learner's) get the same
    extras as environment.yml?"""
    makefile = (root / "make" / "common.mk").read_text()
    extras = set(_pyproject(root)["project"]["optional-dependencies"])
    match = re.search(r"^EXTRAS := (.+)$", makefile, re.MULTILINE)
    assert match
    assert set(match.group(1).split(",")) == extras


def test_exercise_requirements_match_the_app_extra(root: Path) -> None:
    """Do the app's tests run with exactly the versions the container installs?"""
    requirements = {
        line.strip()
        for line in (root / "exercises/model-api/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert all("==" in r for r in requirements), "every requirement is pinned with =="
    assert requirements == set(_pyproject(root)["project"]["optional-dependencies"]["app"])


def test_ci_runs_the_readme_test_command(root: Path) -> None:
    """Does CI run what the README tells people to run, and nothing else of substance?"""
    script = (root / ".ci/run").read_text()
    readme = (root / "README.md").read_text()
    assert "make test" in readme
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.strip().startswith(("#", "set ", "cd "))
    ]
    assert commands == ["exec make test"]


def test_public_api_is_pinned() -> None:
    """Is the programmatic API exactly what the docs promise?"""
    assert sorted(grader.__all__) == [
        "CheckResult",
        "CheckStatus",
        "ExerciseSpec",
        "GradeReport",
        "GraderError",
        "grade",
        "load_spec",
    ]
    for name in grader.__all__:
        assert getattr(grader, name) is not None
