"""The engine boundary: the docker SDK and testcontainers are used in grader/engine/ only,
their exceptions leave it as the grader's own, importing it changes nothing, and no
container start asks for testcontainers' Ryuk reaper."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker.errors
import pytest
import requests

from grader.engine.session import ContainerLimits, EngineSession, as_engine_error, engine_errors
from grader.errors import EngineError, EngineRefused, NotFoundOnEngine

GRADER = Path(__file__).resolve().parents[2] / "grader"
ENGINE_LIBRARIES = ("docker", "testcontainers")
# A pure pattern function (a .dockerignore line to a regular expression), not an engine
# call: see the comment at its import.
NOT_ENGINE_CALLS = {("dockerignore.py", "docker.utils")}


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _outside_engine() -> list[Path]:
    return [p for p in sorted(GRADER.rglob("*.py")) if "engine" not in p.relative_to(GRADER).parts]


def test_only_the_engine_package_imports_the_docker_sdk_or_testcontainers() -> None:
    """Does every module outside grader/engine/ reach the engine through that package?"""
    offenders = [
        f"{path.relative_to(GRADER)}: {module}"
        for path in _outside_engine()
        for module in _imported_modules(path)
        if module.split(".")[0] in ENGINE_LIBRARIES
        and (str(path.relative_to(GRADER)), module) not in NOT_ENGINE_CALLS
    ]
    assert offenders == []


def test_the_engine_package_never_imports_the_bring_up() -> None:
    """Is the import cycle engine ↔ provision gone for good (lazy imports included)?"""
    offenders = [
        f"{path.name}: {module}"
        for path in sorted((GRADER / "engine").glob("*.py"))
        for module in _imported_modules(path)
        if module == "grader.provision" or module.startswith("grader.provision.")
    ]
    assert offenders == []


def test_importing_the_engine_changes_no_environment_and_loads_no_bring_up() -> None:
    """Does `import grader.engine` (and its host operations) leave os.environ as it was,
    and leave grader.provision unloaded?"""
    probe = (
        "import json, os, sys\n"
        "before = dict(os.environ)\n"
        "import grader.engine, grader.engine.host\n"
        "print(json.dumps([dict(os.environ) == before,"
        " sorted(m for m in sys.modules if m.startswith('grader.provision'))]))\n"
    )
    # Without testcontainers' variables: an import that set one would otherwise hide
    # behind the value this test process already has.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TESTCONTAINERS_")}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=environment,
    )
    same_environment, provision = json.loads(result.stdout)
    assert same_environment
    assert provision == []


class _NoEngine:
    """Stands in for testcontainers' own client: creating a container finds no engine."""

    def __init__(self, **_kwargs: Any) -> None:
        pass

    def create(self, *_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("no engine here")


def test_a_container_start_never_asks_for_ryuk(monkeypatch: pytest.MonkeyPatch) -> None:
    """With neither the environment variable nor the config set (a fresh process), does
    starting a container go straight to the engine, never to the Ryuk reaper?"""
    import testcontainers.core.container as tc_container
    from testcontainers.core.config import testcontainers_config

    monkeypatch.delenv("TESTCONTAINERS_RYUK_DISABLED", raising=False)
    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", None)
    assert not testcontainers_config.ryuk_disabled  # what testcontainers would do unasked
    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", None)
    reaper_asked: list[bool] = []

    def no_reaper() -> None:
        reaper_asked.append(True)
        raise AssertionError("Ryuk was asked for")

    monkeypatch.setattr(tc_container.Reaper, "get_instance", staticmethod(no_reaper))
    monkeypatch.setattr(tc_container, "DockerClient", _NoEngine)
    client = SimpleNamespace(api=SimpleNamespace(base_url="http+docker://localhost"))
    session = EngineSession(client=client)  # type: ignore[arg-type]

    with pytest.raises(EngineError, match="no engine here"):
        session.start_container(
            "some-image", container_port=8000, purpose="app", limits=ContainerLimits()
        )
    assert reaper_asked == []
    assert testcontainers_config.ryuk_disabled


def _api_error(status: int, reason: str, message: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code, response.reason = status, reason
    response.url = "http+docker://localhost/v1.41/images/x"
    if status == 404:
        return docker.errors.ImageNotFound(message, response=response)
    return docker.errors.APIError(message, response=response)


def test_the_sdk_errors_leave_the_boundary_as_the_graders_own() -> None:
    """Is a missing image NotFoundOnEngine, a refusal EngineRefused with its status, a lost
    socket an EngineError, each keeping the SDK's whole words, and the SDK's the cause?"""
    missing = as_engine_error(_api_error(404, "Not Found", "No such image: x"))
    assert isinstance(missing, NotFoundOnEngine)
    assert missing.status_code == 404

    in_use = _api_error(409, "Conflict", "image is being used by a container")
    refused = as_engine_error(in_use)
    assert type(refused) is EngineRefused
    assert refused.status_code == 409
    assert refused.detail == str(in_use)
    assert refused.message.startswith("APIError: 409 Client Error")

    lost = as_engine_error(requests.exceptions.ConnectionError("socket vanished"))
    assert type(lost) is EngineError
    assert lost.detail == "socket vanished"
    assert as_engine_error(ValueError("a bug")) is None

    with pytest.raises(EngineRefused) as caught, engine_errors():
        raise in_use
    assert caught.value.__cause__ is in_use
    with pytest.raises(ValueError, match="a bug"), engine_errors():
        raise ValueError("a bug")


def test_an_sdk_error_that_wraps_an_interruption_is_the_interruption() -> None:
    """The SDK turns any exception in its first request into its own DockerException:
    is a SIGTERM that arrived then still an interruption, not an engine fault?"""
    import signal

    from grader.errors import GradingInterrupted

    try:
        try:
            raise GradingInterrupted(signal.SIGTERM)
        except GradingInterrupted as interruption:
            raise docker.errors.DockerException("Error while fetching server API version") from (
                interruption
            )
    except docker.errors.DockerException as wrapped:
        with pytest.raises(GradingInterrupted):
            as_engine_error(wrapped)
    assert isinstance(as_engine_error(docker.errors.DockerException("plain")), EngineError)
