"""The static rules, each on small Dockerfiles: no engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks import Verdict
from grader.dockerfile import Dockerfile, read_dockerfile
from grader.hadolint import run_hadolint
from grader.results import CheckStatus
from grader.spec import load_spec
from grader.static_rules import RULES, StaticContext

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_spec(ROOT / "exercises" / "model-api.toml")
GOOD = (ROOT / "solutions" / "model-api" / "Dockerfile").read_text()
GOOD_IGNORE = (ROOT / "solutions" / "model-api" / ".dockerignore").read_text()


def verdict(
    tmp_path: Path, rule: str, dockerfile: str, dockerignore: str | None = GOOD_IGNORE
) -> Verdict:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    if dockerignore is not None:
        (tmp_path / ".dockerignore").write_text(dockerignore)
    parsed = read_dockerfile(tmp_path / "Dockerfile")
    assert isinstance(parsed, Dockerfile)
    context = StaticContext(parsed, tuple(run_hadolint(parsed.text)), SPEC, tmp_path)
    return RULES[rule](context)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_reference_solution_passes_every_rule(tmp_path: Path, rule: str) -> None:
    """Does the reference Dockerfile pass each static rule?"""
    result = verdict(tmp_path, rule, GOOD)
    assert result.status is CheckStatus.PASSED, result.message


BASE = "FROM python:3.11-slim\nWORKDIR /app\n"
CMD = 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]\n'

FAILING = [
    # (rule, Dockerfile, expected line, words in the message, words in the hint)
    ("base_image_pinned", 'FROM python\nCMD ["python"]\n', 1, "no version tag", "python:3.11-slim"),
    ("base_image_pinned", "FROM python:latest\n", 1, "no version tag", "python:3.11-slim"),
    ("base_image_pinned", "FROM python:3.11\n", 1, "full Python image", "slim"),
    (
        "deps_from_requirements",
        BASE + "RUN pip install --no-cache-dir fastapi uvicorn\n",
        3,
        "fastapi, uvicorn",
        "requirements.txt",
    ),
    ("deps_from_requirements", BASE + "COPY . .\n" + CMD, None, "No RUN", "pip install"),
    (
        "requirements_before_app",
        BASE + "COPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n" + CMD,
        3,
        "copies app code before",
        "Copy only requirements.txt first",
    ),
    (
        "requirements_before_app",
        BASE + "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n",
        3,
        "not copied into the image",
        "COPY requirements.txt .",
    ),
    (
        "pip_no_cache_dir",
        BASE + "COPY requirements.txt .\nRUN pip install -r requirements.txt\n",
        4,
        "download cache",
        "--no-cache-dir",
    ),
    (
        "apt_best_practices",
        BASE
        + "RUN apt-get update\nRUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
        3,
        "alone in a RUN",
        "apt-get update && apt-get install",
    ),
    (
        "apt_best_practices",
        BASE + "RUN apt-get update && apt-get install -y curl\n",
        3,
        "DL30",
        "--no-install-recommends",
    ),
    (
        "exec_form_cmd",
        BASE + "CMD uvicorn app.main:app --host 0.0.0.0\n",
        3,
        "shell form",
        '["uvicorn", "app.main:app", "--host", "0.0.0.0"]',
    ),
    ("exec_form_cmd", BASE, None, "no CMD", "CMD ["),
    (
        "binds_all_interfaces",
        BASE + 'CMD ["uvicorn", "app.main:app", "--port", "8000"]\n',
        3,
        "127.0.0.1",
        "--host 0.0.0.0",
    ),
    (
        "binds_all_interfaces",
        BASE + 'CMD ["uvicorn", "app.main:app", "--host", "127.0.0.1"]\n',
        3,
        "--host 127.0.0.1",
        "--host 0.0.0.0",
    ),
    ("expose_matches_port", BASE + CMD, None, "no EXPOSE", "EXPOSE 8000"),
    ("expose_matches_port", BASE + "EXPOSE 80\n" + CMD, 3, "EXPOSE says 80", "EXPOSE 8000"),
    (
        "expose_matches_port",
        BASE
        + 'EXPOSE 5000\nCMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "5000"]\n',
        4,
        "port 5000",
        "--port 8000",
    ),
    ("no_secrets_in_dockerfile", BASE + "ENV API_KEY=hunter2\n", 3, "ENV API_KEY", "--env-file"),
    ("no_secrets_in_dockerfile", BASE + "ARG DB_PASSWORD=x\n", 3, "ARG DB_PASSWORD", "--env-file"),
    ("no_secrets_in_dockerfile", BASE + "COPY .env .\n", 3, "copies a .env", "--env-file"),
    ("non_root_user", BASE + CMD, None, "runs as root", "USER appuser"),
    ("non_root_user", BASE + "USER root\n" + CMD, 3, "last USER is root", "unprivileged"),
    ("healthcheck", BASE + CMD, None, "no HEALTHCHECK", "/health"),
    ("hadolint_clean", BASE + "WORKDIR app\n", 3, "DL3000", "hadolint/wiki/DL3000"),
]


@pytest.mark.parametrize(
    ("rule", "dockerfile", "line", "message", "hint"),
    FAILING,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(FAILING)],
)
def test_each_mistake_fails_its_rule_with_line_and_hint(
    tmp_path: Path, rule: str, dockerfile: str, line: int | None, message: str, hint: str
) -> None:
    """Does each classic mistake fail its rule, on the right line, with a useful hint?"""
    result = verdict(tmp_path, rule, dockerfile)
    assert result.status is CheckStatus.FAILED
    assert result.line == line
    assert message in result.message
    assert hint in result.hint


@pytest.mark.parametrize(
    ("dockerignore", "missing"),
    [
        (None, "There is no .dockerignore"),
        ("__pycache__/\n.git\n", ".env"),
        (".env\n", ".git, __pycache__"),
    ],
)
def test_dockerignore_must_exclude_secrets_vcs_and_caches(
    tmp_path: Path, dockerignore: str | None, missing: str
) -> None:
    """Is a missing or thin .dockerignore failed, naming what to add?"""
    result = verdict(tmp_path, "dockerignore", GOOD, dockerignore)
    assert result.status is CheckStatus.FAILED
    assert missing in result.message
    assert result.file == ".dockerignore"


def test_dockerignore_patterns_follow_docker_semantics(tmp_path: Path) -> None:
    """Do wildcard patterns count, as they do for the engine?"""
    result = verdict(tmp_path, "dockerignore", GOOD, ".env*\n.git*\n**/__pycache__\n")
    assert result.status is CheckStatus.PASSED


def test_learner_cannot_silence_hadolint(tmp_path: Path) -> None:
    """Do `# hadolint ignore=` pragmas and a learner's .hadolint.yaml leave the rules on?"""
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3042]\n")
    dockerfile = (
        BASE
        + "COPY requirements.txt .\n# hadolint ignore=DL3042\nRUN pip install -r requirements.txt\n"
    )
    result = verdict(tmp_path, "pip_no_cache_dir", dockerfile)
    assert result.status is CheckStatus.FAILED
    assert result.line == 5


def test_multi_stage_build_is_judged_on_the_final_stage(tmp_path: Path) -> None:
    """Does a builder stage's root user not count against the final image?"""
    dockerfile = "FROM python:3.11-slim AS build\nUSER root\n" + GOOD.replace(
        "FROM python:3.11-slim", "FROM python:3.11-slim AS final"
    )
    assert verdict(tmp_path, "non_root_user", dockerfile).status is CheckStatus.PASSED
    assert verdict(tmp_path, "base_image_pinned", dockerfile).status is CheckStatus.PASSED
