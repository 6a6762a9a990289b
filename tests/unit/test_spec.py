"""Exercise specs: the shipped one is valid; broken ones say which file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks import KNOWN_CHECKS
from grader.errors import SpecError
from grader.spec import find_exercise, load_spec

ROOT = Path(__file__).resolve().parents[2]


def test_model_api_spec_is_valid_and_has_the_contracted_checks() -> None:
    """Does the model-api spec load, with the check ids other tools rely on and 100 points?"""
    spec = load_spec(ROOT / "exercises" / "model-api.toml")
    ids = [c.id for c in spec.checks]
    for required in (
        "builds",
        "serves_predict",
        "cache_app_edit",
        "cache_requirements_edit",
        "secret_not_in_image",
    ):
        assert required in ids
    assert spec.max_score == 96  # the 4 points left are the exercise's own checks
    assert spec.starter_dir == ROOT / "exercises" / "model-api"
    assert set(ids) <= KNOWN_CHECKS


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "demo").mkdir(exist_ok=True)
    path = tmp_path / "demo.toml"
    path.write_text(text)
    return path


MINIMAL = 'name = "demo"\ntitle = "Demo"\nchecks = [{ id = "builds", points = 1 }]\n'


def test_a_second_exercise_needs_only_a_folder_and_a_spec(tmp_path: Path) -> None:
    """Can an exercise be added without touching grader code, with defaults filled in?"""
    (tmp_path / "exercises").mkdir()
    _write(tmp_path / "exercises", MINIMAL)
    spec = find_exercise(None, tmp_path / "anything", course=tmp_path)
    assert spec.name == "demo"
    assert spec.app is None  # no [app]: nothing about a port or a readiness URL
    assert spec.base_image == "python:3.11-slim"
    assert spec.limits.build_timeout_s == 600


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = [", "not valid TOML"),
        ('title = "x"\nchecks = [{ id = "builds", points = 1 }]\n', "name: Field required"),
        (MINIMAL.replace("builds", "buidls"), "unknown check id 'buidls'"),
        (MINIMAL + "[app]\ncontainer_port = 70000\n", "app.container_port: Input should be less"),
        (MINIMAL + "container_port = 8000\n", "container_port: Extra inputs are not permitted"),
        (MINIMAL + 'user = "Admin User"\n', "user: String should match pattern"),
        (MINIMAL + "[limits]\nbuild_timeout_s = -1\n", "limits.build_timeout_s"),
        (MINIMAL + "colour = 'blue'\n", "colour: Extra inputs are not permitted"),
        (
            MINIMAL.replace("points = 1 }", 'points = 1 }, { id = "builds", points = 2 }'),
            "listed twice",
        ),
    ],
    ids=[
        "toml",
        "missing-name",
        "unknown-check",
        "port",
        "port-outside-app",
        "user-name",
        "negative-limit",
        "typo-field",
        "duplicate",
    ],
)
def test_invalid_spec_names_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    """Does a broken spec raise SpecError naming the file and what is wrong?"""
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_unknown_exercise_lists_the_known_ones(tmp_path: Path) -> None:
    """Does asking for an exercise that does not exist say which ones do?"""
    with pytest.raises(SpecError, match="Known exercises: batch-scoring, model-api"):
        find_exercise("model-apii", tmp_path)


@pytest.mark.parametrize(
    ("code", "exercise"), [("app/main.py", "model-api"), ("score.py", "batch-scoring")]
)
def test_the_exercise_is_told_by_the_starter_code_a_folder_holds(
    tmp_path: Path, code: str, exercise: str
) -> None:
    """Is a learner's folder with another name graded as the exercise whose code it holds,
    and is a folder with neither asked to name it?"""
    with pytest.raises(SpecError, match="Pass --exercise with one of: batch-scoring, model-api"):
        find_exercise(None, tmp_path)
    (tmp_path / code).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / code).write_text("")
    assert find_exercise(None, tmp_path).name == exercise
