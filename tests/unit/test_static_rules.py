"""The static rules, each on small Dockerfiles: no engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks import Verdict
from grader.checks.dockerfile_rules import (
    StaticContext,
    dependency_install_step,
    pip_installs,
)
from grader.dockerfile import Dockerfile, read_dockerfile
from grader.hadolint import run_hadolint
from grader.results import CheckStatus
from grader.spec import load_spec
from tests.unit.static_verdicts import STATIC_RULES, static_verdict

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
    parsed = read_dockerfile(
        tmp_path / "Dockerfile", base_image=SPEC.base_image, dependency_file=SPEC.dependency_file
    )
    assert isinstance(parsed, Dockerfile)
    context = StaticContext(parsed, tuple(run_hadolint(parsed.text)), SPEC, tmp_path)
    return static_verdict(rule, context)


@pytest.mark.parametrize("rule", STATIC_RULES)
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
        "listens on 127.0.0.1:8000",
        "--host 0.0.0.0",
    ),
    (
        "binds_all_interfaces",
        BASE + 'CMD ["uvicorn", "app.main:app", "--host", "::", "--port", "8000"]\n',
        3,
        "IPv6 only",
        "--host 0.0.0.0",
    ),
    (
        "binds_all_interfaces",
        BASE + 'CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "app.main:app"]\n',
        3,
        "127.0.0.1:8000",
        "--bind 0.0.0.0:8000",
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


# --- BuildKit syntax and real-world install patterns ---------------------------------------

APP = "COPY app/ ./app/\nCOPY model/ ./model/\n"
INSTALL_RULES = ("deps_from_requirements", "requirements_before_app", "pip_no_cache_dir")

PASSING_SHAPES = {
    # Docker's Python guide: the cache lives in a cache mount, not in the layer.
    "cache-mount": BASE
    + "COPY requirements.txt .\n"
    + "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
    + APP,
    # `docker init`: requirements.txt bind-mounted into the install, nothing copied before it.
    "docker-init": BASE
    + "RUN --mount=type=cache,target=/root/.cache/pip \\\n"
    + "    --mount=type=bind,source=requirements.txt,target=requirements.txt \\\n"
    + "    python -m pip install -r requirements.txt\n"
    + "COPY . .\n",
    # Multi-stage: the venv is built in one stage and copied into the final one.
    "multi-stage-venv": "FROM python:3.11-slim AS builder\nWORKDIR /app\n"
    + "COPY requirements.txt .\n"
    + "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt\n"
    + "FROM python:3.11-slim\nWORKDIR /app\nCOPY --from=builder /opt/venv /opt/venv\n"
    + 'ENV PATH="/opt/venv/bin:$PATH"\n'
    + APP,
    # A builder stage keeps its pip cache to itself: only /opt/venv reaches the image.
    "builder-cache-stays-behind": "FROM python:3.11-slim AS builder\n"
    + "COPY requirements.txt .\n"
    + "RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt\n"
    + "FROM python:3.11-slim\nWORKDIR /app\nCOPY --from=builder /opt/venv /opt/venv\n"
    + APP,
    # hadolint's DL3042 on a stage whose layers stay behind does not count.
    "builder-prefix-install": "FROM python:3.11-slim AS builder\n"
    + "COPY requirements.txt .\n"
    + "RUN pip install --prefix=/install -r requirements.txt\n"
    + "FROM python:3.11-slim\nWORKDIR /app\nCOPY --from=builder /install /usr/local\n"
    + APP,
    # Wheels copied from another stage before the install are not app code.
    "wheels-from-another-stage": "FROM python:3.11-slim AS wheels\nCOPY requirements.txt .\n"
    + "RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt\n"
    + BASE
    + "COPY --from=wheels /wheels /wheels\nCOPY requirements.txt .\n"
    + "RUN pip install --no-cache-dir --no-index --find-links=/wheels -r requirements.txt\n"
    + APP,
    "exec-form": BASE
    + "COPY requirements.txt .\n"
    + 'RUN ["pip", "install", "--no-cache-dir", "-r", "requirements.txt"]\n',
    "pip3": BASE + "COPY requirements.txt .\nRUN pip3 install --no-cache-dir -r requirements.txt\n",
    "pip3.11": BASE
    + "COPY requirements.txt .\nRUN pip3.11 install --no-cache-dir --requirement requirements.txt\n",
    "python3.11-m-pip": BASE
    + "COPY requirements.txt .\n"
    + "RUN python3.11 -m pip install --no-cache-dir --requirement=requirements.txt\n",
    "venv-python-m-pip": BASE
    + "COPY requirements.txt .\n"
    + "RUN python -m venv /opt/venv && /opt/venv/bin/python -m pip install --no-cache-dir "
    + "-rrequirements.txt\n",
    "uv": BASE
    + "COPY requirements.txt .\n"
    + "RUN pip install --no-cache-dir uv==0.5.0 && uv pip install --system --no-cache "
    + "-r requirements.txt\n",
    "upgrade-pip-first": BASE
    + "COPY requirements.txt .\n"
    + "RUN pip install --no-cache-dir --upgrade pip setuptools wheel \\\n"
    + "    && pip install --no-cache-dir -r requirements.txt\n",
    # pip turns its cache off for every value it accepts, "off" and "0" too (measured).
    "env-no-cache-1": BASE + "ENV PIP_NO_CACHE_DIR=1\nCOPY requirements.txt .\n"
    "RUN pip install -r requirements.txt\n",
    "env-no-cache-off": BASE + "ENV PIP_NO_CACHE_DIR=off\nCOPY requirements.txt .\n"
    "RUN pip install -r requirements.txt\n",
    "env-no-cache-true-legacy-form": BASE + "ENV PIP_NO_CACHE_DIR true\nCOPY requirements.txt .\n"
    "RUN pip install -r requirements.txt\n",
    "cache-mount-on-dot-cache": BASE
    + "COPY requirements.txt .\n"
    + "RUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt\n",
    "cache-mount-home-variable": BASE
    + "COPY requirements.txt .\n"
    + "RUN --mount=type=cache,target=$HOME/.cache/pip pip install -r requirements.txt\n",
    "cache-mount-pip-cache-dir": BASE
    + "ENV PIP_CACHE_DIR=/var/cache/pip\nCOPY requirements.txt .\n"
    + "RUN --mount=type=cache,target=/var/cache/pip pip install -r requirements.txt\n",
    "bind-mount-renamed": BASE
    + "RUN --mount=type=bind,source=requirements.txt,target=/tmp/deps.txt \\\n"
    + "    pip install --no-cache-dir -r /tmp/deps.txt\n"
    + APP,
    "heredoc": "# syntax=docker/dockerfile:1\n"
    + BASE
    + "COPY requirements.txt .\n"
    + "RUN <<EOF\nset -e\npip install --no-cache-dir -r requirements.txt\nEOF\n"
    + APP,
}


@pytest.mark.parametrize("shape", sorted(PASSING_SHAPES))
@pytest.mark.parametrize("rule", INSTALL_RULES)
def test_real_world_install_shapes_pass(tmp_path: Path, shape: str, rule: str) -> None:
    """Does each correct BuildKit-era or multi-stage install pass the install rules?"""
    result = verdict(tmp_path, rule, PASSING_SHAPES[shape])
    assert result.status is CheckStatus.PASSED, result.message


FAILING_SHAPES = [
    # (rule, Dockerfile, expected line, words in the message, words in the hint)
    (
        "pip_no_cache_dir",
        BASE
        + "COPY requirements.txt .\n"
        + "RUN --mount=type=cache,target=/tmp/cache pip install -r requirements.txt\n",
        4,
        "pip keeps its download cache",
        "--mount=type=cache,target=/root/.cache/pip",
    ),
    (
        "pip_no_cache_dir",  # pip errors on a value it cannot read: no cache setting at all
        BASE + "ENV PIP_NO_CACHE_DIR=maybe\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n",
        5,
        "pip keeps its download cache",
        "--no-cache-dir",
    ),
    (
        "pip_no_cache_dir",  # hadolint 2.15 says nothing about /opt/venv/bin/pip
        BASE
        + "COPY requirements.txt .\n"
        + "RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt\n",
        4,
        "pip keeps its download cache",
        "--no-cache-dir",
    ),
    (
        "pip_no_cache_dir",  # nor about uv's cache
        BASE + "COPY requirements.txt .\nRUN uv pip install --system -r requirements.txt\n",
        4,
        "uv keeps its download cache",
        "--no-cache",
    ),
    (
        "pip_no_cache_dir",  # pip runs as `app`: its cache is /home/app/.cache/pip
        BASE
        + "RUN useradd --create-home app\nUSER app\nCOPY requirements.txt .\n"
        + "RUN --mount=type=cache,target=/root/.cache/pip pip install --user -r requirements.txt\n",
        6,
        "pip keeps its download cache",
        "--no-cache-dir",
    ),
    (
        "pip_no_cache_dir",
        BASE + "COPY requirements.txt .\nRUN <<EOF\npip install -r requirements.txt\nEOF\n",
        4,
        "pip keeps its download cache",
        "--no-cache-dir",
    ),
    (
        "pip_no_cache_dir",  # the final stage is built FROM the stage that kept the cache
        "FROM python:3.11-slim AS base\nCOPY requirements.txt .\n"
        + "RUN pip install -r requirements.txt\nFROM base\nCOPY app/ ./app/\n",
        3,
        "pip keeps its download cache",
        "--no-cache-dir",
    ),
    (
        "deps_from_requirements",
        BASE
        + "COPY requirements.txt .\n"
        + "RUN pip install --no-cache-dir --upgrade pip gunicorn \\\n"
        + "    && pip install --no-cache-dir -r requirements.txt\n",
        4,
        "(gunicorn)",
        "requirements.txt",
    ),
    (
        "deps_from_requirements",  # installing in a builder stage is still installing
        "FROM python:3.11-slim AS builder\n"
        + "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir fastapi\n"
        + "FROM python:3.11-slim\nCOPY --from=builder /opt/venv /opt/venv\n",
        2,
        "(fastapi)",
        "requirements.txt",
    ),
    (
        "deps_from_requirements",
        BASE + "RUN --mount=type=bind,source=requirements.txt,target=/tmp/r.txt "
        "pip install --no-cache-dir -r other.txt\n",
        3,
        "No pip install reads requirements.txt",
        "-r requirements.txt",
    ),
    (
        "requirements_before_app",  # judged in the builder stage, where the install is
        "FROM python:3.11-slim AS builder\nWORKDIR /app\nCOPY . .\n"
        + "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir "
        + "-r requirements.txt\n"
        + "FROM python:3.11-slim\nCOPY --from=builder /opt/venv /opt/venv\n",
        3,
        "copies app code before",
        "Copy only requirements.txt first",
    ),
    (
        "requirements_before_app",  # the whole context bind-mounted: part of the cache key
        BASE + "RUN --mount=type=bind,target=/src pip install --no-cache-dir "
        "-r /src/requirements.txt\nCOPY . .\n",
        3,
        "mounts `.` from the build context",
        "--mount=type=bind,source=requirements.txt",
    ),
    (
        "requirements_before_app",
        BASE + "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
        "COPY . .\n",
        3,
        "not copied into the image",
        "COPY requirements.txt .",
    ),
]


@pytest.mark.parametrize(
    ("rule", "dockerfile", "line", "message", "hint"),
    FAILING_SHAPES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(FAILING_SHAPES)],
)
def test_real_world_install_mistakes_fail(
    tmp_path: Path, rule: str, dockerfile: str, line: int, message: str, hint: str
) -> None:
    """Does each mistake in a BuildKit-era or multi-stage install fail, on its line?"""
    result = verdict(tmp_path, rule, dockerfile)
    assert result.status is CheckStatus.FAILED
    assert result.line == line
    assert message in result.message
    assert hint in result.hint


def test_install_step_is_found_in_every_stage_feeding_the_image(tmp_path: Path) -> None:
    """Is the builder's install the dependency step, and a stage nobody reads ignored?"""
    dockerfile = (
        "FROM python:3.11-slim AS unused\nRUN pip install --no-cache-dir -r requirements.txt\n"
        + PASSING_SHAPES["multi-stage-venv"]
    )
    parsed = read_dockerfile(
        _write(tmp_path, dockerfile),
        base_image=SPEC.base_image,
        dependency_file=SPEC.dependency_file,
    )
    assert isinstance(parsed, Dockerfile)
    install = dependency_install_step(parsed, "requirements.txt")
    assert install is not None
    assert install.line == 6
    assert install.stage == 1
    assert [i.line for i in pip_installs(parsed)] == [6]


def test_docker_init_install_is_the_dependency_step(tmp_path: Path) -> None:
    """Is the bind-mounted `python -m pip install` found as the install of requirements.txt?"""
    parsed = read_dockerfile(
        _write(tmp_path, PASSING_SHAPES["docker-init"]),
        base_image=SPEC.base_image,
        dependency_file=SPEC.dependency_file,
    )
    assert isinstance(parsed, Dockerfile)
    install = dependency_install_step(parsed, "requirements.txt")
    assert install is not None
    assert install.line == 3
    assert not any(c.copy_sources() for c in parsed.instructions if c.line < install.line)


def test_hadolint_does_not_warn_on_a_pip_upgrade(tmp_path: Path) -> None:
    """Is DL3013 on `pip install --upgrade pip` (tooling) left out, and kept for a real package?"""
    tooling = verdict(tmp_path, "hadolint_clean", PASSING_SHAPES["upgrade-pip-first"])
    assert tooling.status is CheckStatus.PASSED, tooling.message
    named = verdict(
        tmp_path,
        "hadolint_clean",
        BASE + "COPY requirements.txt .\nRUN pip install --no-cache-dir flask\n",
    )
    assert named.status is CheckStatus.FAILED
    assert "DL3013" in named.message


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        # The next instruction right after the delimiter: a false DL1000 without the fix.
        (
            BASE + "RUN <<EOF\npip install -r requirements.txt\nEOF\nWORKDIR app\n",
            [("DL3042", 3), ("DL3000", 6)],
        ),
        # `<<-` with a tab-indented delimiter.
        (
            BASE + "RUN <<-EOT\n\tapt-get update && apt-get install -y curl\n\tEOT\nWORKDIR app\n",
            [("DL3009", 3), ("DL3015", 3), ("DL3000", 6)],
        ),
        # Two heredocs on one RUN.
        (
            BASE + "RUN <<A cat <<B\na\nA\npip install -r requirements.txt\nB\nWORKDIR app\n",
            [("DL3042", 3), ("DL3000", 8)],
        ),
        # A heredoc on ADD.
        (BASE + "ADD <<EOF /app/x.txt\nhi\nEOF\nWORKDIR app\n", [("DL3000", 6)]),
    ],
    ids=["next-instruction-at-once", "dash-tabs", "two-on-one-run", "add"],
)
def test_hadolint_reads_heredoc_dockerfiles_on_the_learners_lines(
    dockerfile: str, expected: list[tuple[str, int]]
) -> None:
    """Do heredoc Dockerfiles get hadolint's real findings (no DL1000) on the right lines?"""
    found = [(f.code, f.line) for f in run_hadolint(dockerfile) if f.code != "DL3059"]
    assert sorted(found) == sorted(expected)


def _write(tmp_path: Path, dockerfile: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile)
    return path


@pytest.mark.parametrize(
    "command",
    [
        'CMD ["gunicorn", "-b", "0.0.0.0:8000", "-k", "uvicorn.workers.UvicornWorker", "app.main:app"]',
        'CMD ["sh", "-c", "cd /app && exec uvicorn app.main:app --host 0.0.0.0 --port 8000"]',
        'ENV HOST=0.0.0.0\nCMD uvicorn app.main:app --host "$HOST" --port 8000',
        'ENTRYPOINT ["uvicorn"]\nCMD ["app.main:app", "--host=0.0.0.0", "--port=8000"]',
        'CMD ["python", "-m", "app"]',
    ],
)
def test_servers_that_listen_on_every_interface_pass(tmp_path: Path, command: str) -> None:
    """Is the address read from the command the container runs, in each server's syntax?
    (A program the rule does not know is left to the run stage, never failed.)"""
    result = verdict(tmp_path, "binds_all_interfaces", BASE + command + "\n")
    assert result.status is CheckStatus.PASSED, result.message


def test_an_exec_form_port_variable_is_named_as_the_part_to_change(tmp_path: Path) -> None:
    """`--port $PORT` in the exec form reaches uvicorn as it is: does the hint say to write
    the port (not the host, which is right), and why?"""
    dockerfile = BASE + 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "$PORT"]\n'
    result = verdict(tmp_path, "binds_all_interfaces", dockerfile)
    assert result.status is CheckStatus.FAILED
    assert "`--port 8000`" in result.hint
    assert "--host" not in result.hint
    assert "exec form replaces no variables" in result.hint
