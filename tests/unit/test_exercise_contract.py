"""The exercise contract: hints name the spec's values, and grader code hard-codes none.

The contract (base image, user, start command, dependency file, canary variable, the
app's module, port, readiness path, validation file, data folder, log field) lives in
``grader/spec.py`` with its defaults; an exercise's TOML writes it out. These tests keep
grader code from naming model-api's values and prove that another exercise's values
reach the learner.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.build import explain_failure
from grader.build_stream import BuildLog
from grader.checks import CHECKS, Verdict
from grader.checks.base import StaticContext
from grader.dockerfile import Dockerfile, DockerfileProblem, read_dockerfile
from grader.errors import SpecError
from grader.results import CheckStatus
from grader.run import diagnose_logs
from grader.spec import App, ExerciseSpec, VolumeScenario, load_spec
from grader.workspace import prepare_workspace
from tests.unit.static_verdicts import static_verdict

ROOT = Path(__file__).resolve().parents[2]
GRADER = ROOT / "grader"

MODEL_API_VALUES = (
    "model-api",
    "app/schemas.py",
    "appuser",
    "/data",
    "8000",
    "python:3.11-slim",
    "prediction_log",
    "app.main:app",
)
"""The model-api exercise's contract values: grader code must read them from the spec."""


@dataclass(frozen=True)
class Allowed:
    path: str
    """The file, relative to the repository."""
    text: str
    """The literal (a string constant, or a number's digits) it may hold."""
    reason: str


ALLOWED = (
    Allowed(
        "grader/effective_command.py",
        "8000",
        "SERVER_DEFAULT_PORT: uvicorn's, gunicorn's and hypercorn's own default port, which "
        "the command parser needs when a Dockerfile names none; not the exercise's port",
    ),
    Allowed(
        "grader/engine/session.py",
        "python:3.11-slim",
        "BASE_IMAGE: the stand-in image the engine provisions offline (grader/engine is "
        "the engine's; it should provision the specs' base_image one day)",
    ),
    Allowed(
        "grader/provision/base_image.py",
        " packages instead; it is used only until the real image can be pulled (`docker pull "
        "python:3.11-slim` replaces it).",
        "the provisioning of that stand-in (grader/provision is the engine's)",
    ),
    Allowed(
        "grader/provision/base_image.py",
        "Install it (`sudo apt-get install debootstrap`) and run this again as root, or "
        "`docker load` a python:3.11-slim image from a machine that has one.",
        "the provisioning of that stand-in (grader/provision is the engine's)",
    ),
)
"""Code that may name a contract value, each for a reason."""


def _docstring_ids(tree: ast.AST) -> set[int]:
    """Bare string statements: module, class and function docstrings, and the attribute
    docstrings this code base writes under fields."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _field_default_ids(tree: ast.AST) -> set[int]:
    """Constants inside ``Field(...)``: a spec field's default and its description."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Field":
            inside |= {id(child) for child in ast.walk(node)}
    return inside


def hard_coded(source: str, *, spec_module: bool = False) -> list[tuple[int, str, str]]:
    """``(line, value, literal)`` for every literal of code that names a contract value.

    The rule: comments (not in the syntax tree) and docstrings explain and may name them;
    string and number literals are code (hints, defaults of functions, regular
    expressions) and may not. In ``grader/spec.py`` the fields' defaults may.
    """
    tree = ast.parse(source)
    exempt = _docstring_ids(tree) | (_field_default_ids(tree) if spec_module else set())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in exempt:
            continue
        if isinstance(node.value, bool):
            continue
        text = node.value if isinstance(node.value, str) else str(node.value)
        if isinstance(node.value, str | int):
            found += [(node.lineno, value, text) for value in MODEL_API_VALUES if value in text]
    return found


def test_the_scan_finds_a_hard_coded_hint_and_spares_docs_and_field_defaults() -> None:
    """Does the scan flag a hint, a number and a default argument naming a contract value,
    and leave docstrings, comments and (in the spec module) field defaults alone?"""
    source = '''
"""A module docstring may name python:3.11-slim."""
from pydantic import Field

PORT = 8000
user: str = Field("appuser", description="default user, e.g. appuser")

def hint(user: str = "appuser") -> str:
    """Say `USER appuser`."""
    # a comment may name /data
    return f"Create a user: `RUN useradd {user}` then `chown appuser /data`."
'''
    found = {(line, value) for line, value, _ in hard_coded(source)}
    assert found == {
        (5, "8000"),
        (6, "appuser"),
        (8, "appuser"),
        (11, "appuser"),
        (11, "/data"),
    }
    as_spec = {(line, value) for line, value, _ in hard_coded(source, spec_module=True)}
    assert as_spec == found - {(6, "appuser")}


def test_grader_code_names_no_contract_value_outside_the_spec() -> None:
    """Do grader modules read model-api's contract values from the spec instead of
    hard-coding them (outside docstrings, comments, the spec's defaults and the
    allow-list)?"""
    offences = []
    used: set[Allowed] = set()
    for path in sorted(GRADER.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        for line, value, text in hard_coded(source, spec_module=relative == "grader/spec.py"):
            allowed = next(
                (a for a in ALLOWED if a.path == relative and a.text == text and value in a.text),
                None,
            )
            if allowed is None:
                offences.append(f"{relative}:{line}: {value!r} in {text!r}")
            else:
                used.add(allowed)
    assert not offences, "read these from the spec (grader/spec.py):\n" + "\n".join(offences)
    assert used == set(ALLOWED), f"allow-list entries no longer needed: {set(ALLOWED) - used}"


# --- another exercise's contract reaches the learner ------------------------------------

OTHER = """\
name = "scoring-api"
title = "Another app"
base_image = "python:3.12-slim"
user = "scorer"
dependency_file = "deps/pinned.txt"
canary_variable = "SCORE_TOKEN"
checks = [
    { id = "base_image_pinned", points = 1 },
    { id = "exec_form_cmd", points = 1 },
    { id = "expose_matches_port", points = 1 },
    { id = "non_root_user", points = 1 },
    { id = "healthcheck", points = 1 },
]

[app]
module = "scoring.api:service"
container_port = 9000
readiness_path = "/ready"
validation_file = "scoring/requests.py"
served_dirs = ["weights/", "scoring/"]

[volume]
data_dir = "/var/lib/scores"
log_status_field = "score_log"
"""


def _exercise(tmp_path: Path, text: str) -> ExerciseSpec:
    (tmp_path / "exercises" / "other").mkdir(parents=True)
    path = tmp_path / "exercises" / "other.toml"
    path.write_text(text)
    return load_spec(path)


@pytest.fixture
def other(tmp_path: Path) -> ExerciseSpec:
    return _exercise(tmp_path, OTHER)


def _static(tmp_path: Path, spec: ExerciseSpec, rule: str, dockerfile: str) -> Verdict:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    parsed = read_dockerfile(
        tmp_path / "Dockerfile", base_image=spec.base_image, dependency_file=spec.dependency_file
    )
    assert isinstance(parsed, Dockerfile)
    return static_verdict(rule, StaticContext(parsed, (), spec, tmp_path))


def _names_none_of_model_apis(text: str) -> None:
    for value in ("python:3.11-slim", "appuser", "8000", "app.main:app", "/health", "/data"):
        assert value not in text


@pytest.mark.parametrize(
    ("rule", "dockerfile", "wanted"),
    [
        ("base_image_pinned", "FROM python\n", "`FROM python:3.12-slim`"),
        ("base_image_pinned", "FROM python:3.12\n", "`FROM python:3.12-slim`"),
        ("non_root_user", "FROM python:3.12-slim\n", "`USER scorer`"),
        (
            "exec_form_cmd",
            "FROM python:3.12-slim\n",
            '`CMD ["uvicorn", "scoring.api:service", "--host", "0.0.0.0", "--port", "9000"]`',
        ),
        ("expose_matches_port", 'FROM python:3.12-slim\nCMD ["python"]\n', "`EXPOSE 9000`"),
        ("healthcheck", "FROM python:3.12-slim\n", "http://127.0.0.1:9000/ready"),
    ],
)
def test_static_hints_name_the_exercises_own_contract(
    tmp_path: Path, other: ExerciseSpec, rule: str, dockerfile: str, wanted: str
) -> None:
    """With another exercise's base image, user, module and port, do the static rules'
    hints name those, and none of model-api's?"""
    verdict = _static(tmp_path, other, rule, dockerfile)
    assert verdict.status is CheckStatus.FAILED
    assert wanted in verdict.hint
    _names_none_of_model_apis(verdict.hint)


def test_an_explicit_command_is_the_cmd_hints_suggest(tmp_path: Path) -> None:
    """Does a spec's own `command` replace the uvicorn example in the CMD hint?"""
    spec = _exercise(tmp_path, OTHER.replace('user = "scorer"', 'command = ["scoring-serve"]'))
    verdict = _static(tmp_path, spec, "exec_form_cmd", "FROM python:3.12-slim\n")
    assert verdict.hint == 'Add `CMD ["scoring-serve"]`.'


def test_parse_build_and_run_hints_name_the_exercises_own_contract(
    tmp_path: Path, other: ExerciseSpec
) -> None:
    """Do the hints of an empty Dockerfile, a failed build and an app that cannot write
    or import name the exercise's base image, dependency file, user, folder and package?"""
    (tmp_path / "Dockerfile").write_text("# nothing yet\n")
    empty = read_dockerfile(
        tmp_path / "Dockerfile", base_image="python:3.12-slim", dependency_file="x"
    )
    assert isinstance(empty, DockerfileProblem)
    assert "`FROM python:3.12-slim`" in empty.hint
    missing = read_dockerfile(
        tmp_path / "nowhere" / "Dockerfile", base_image="b", dependency_file="deps/pinned.txt"
    )
    assert isinstance(missing, DockerfileProblem)
    assert missing.hint.endswith("next to deps/pinned.txt.")

    dockerfile = _static(tmp_path, other, "non_root_user", "FROM python:3.12-slim\n")
    assert dockerfile.status is CheckStatus.FAILED
    parsed = read_dockerfile(tmp_path / "Dockerfile", base_image="b", dependency_file="d")
    assert isinstance(parsed, Dockerfile)
    contract = {"base_image": other.base_image, "dependency_file": other.dependency_file}
    for error, wanted in [
        ("failed to resolve source metadata: no such host", "`FROM python:3.12-slim`"),
        ("No matching distribution found for numpy==0", "versions in deps/pinned.txt."),
        ("exit code: 2", "`docker run -it python:3.12-slim bash`"),
    ]:
        log = BuildLog(builder="buildkit")
        log.error = error
        verdict = explain_failure(log, parsed, other.limits, **contract)
        assert wanted in verdict.hint
        _names_none_of_model_apis(verdict.hint)

    workspace = prepare_workspace(other, other.starter_dir)
    try:
        env = (workspace.path / ".env").read_text()
        assert f"SCORE_TOKEN={workspace.canary}\n" in env
        assert "API_KEY" not in env
        _, denied = diagnose_logs("PermissionError: [Errno 13] Permission denied", other, workspace)
        assert "`RUN mkdir -p /var/lib/scores && chown scorer /var/lib/scores`" in denied
        assert "`USER scorer`" in denied
        cause, imported = diagnose_logs(
            "ModuleNotFoundError: No module named 'scoring'", other, workspace
        )
        assert "`COPY scoring/ ./scoring/`" in imported, cause
        _, deps = diagnose_logs("ModuleNotFoundError: No module named 'numpy'", other, workspace)
        assert "`pip install -r deps/pinned.txt`" in deps
        for hint in (denied, imported, deps):
            _names_none_of_model_apis(hint)
    finally:
        workspace.remove()


# --- a job exercise needs no app --------------------------------------------------------

JOB = """\
name = "batch-job"
title = "A batch job"
user = "scorer"
checks = [
    { id = "dockerfile_valid", points = 0 },
    { id = "base_image_pinned", points = 1 },
    { id = "exec_form_cmd", points = 1 },
    { id = "non_root_user", points = 1 },
    { id = "builds", points = 1 },
    { id = "secret_not_in_image", points = 1 },
]
"""


def test_a_job_exercise_is_described_without_any_app_part(tmp_path: Path) -> None:
    """Does a spec with no [app] (no port, no readiness path, no probes) load, and do its
    hints stay away from servers?"""
    spec = _exercise(tmp_path, JOB)
    assert spec.app is None
    assert spec.start_command is None
    verdict = _static(tmp_path, spec, "exec_form_cmd", "FROM python:3.11-slim\n")
    assert verdict.status is CheckStatus.FAILED
    assert "uvicorn" not in verdict.hint
    with pytest.raises(SpecError, match="has no \\[app\\] section"):
        spec.require_app()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('\n[[probes]]\nname = "one"\n', "probes needs an [app] section"),
        ("\n[volume]\n", "volume needs an [app] section"),
        ("\n[api_key]\n", "api_key needs an [app] section"),
    ],
)
def test_app_parts_without_an_app_are_refused(tmp_path: Path, extra: str, message: str) -> None:
    """Does a spec with requests, a volume or an API key but no [app] say what is missing?"""
    with pytest.raises(SpecError, match=message.replace("[", "\\[").replace("]", "\\]")):
        _exercise(tmp_path, JOB + extra)


@pytest.mark.parametrize("check_id", sorted(c.id for c in CHECKS.values() if c.needs_app))
def test_a_check_that_needs_the_app_cannot_be_listed_without_one(
    tmp_path: Path, check_id: str
) -> None:
    """Is a check that talks to the running app, or reads its port, refused in a spec
    without [app], naming the file and the check?"""
    text = JOB.replace("checks = [\n", f'checks = [\n    {{ id = "{check_id}", points = 1 }},\n')
    with pytest.raises(SpecError) as caught:
        _exercise(tmp_path, text)
    assert "other.toml" in str(caught.value)
    assert f"check {check_id!r} needs an [app] section" in str(caught.value)


def test_model_api_writes_its_whole_contract_out() -> None:
    """Does model-api.toml state every contract field itself, rather than lean on the
    defaults (so the exercise documents itself)?"""
    data = tomllib.loads((ROOT / "exercises" / "model-api.toml").read_text())
    contract = ("base_image", "user", "command", "dependency_file", "app_code_file")
    assert set(contract) | {"canary_variable"} <= set(data)
    assert set(App.model_fields) <= set(data["app"])
    assert set(VolumeScenario.model_fields) <= set(data["volume"])
