"""Shared fixtures. Tests marked ``docker`` need a running engine: they fail (not skip)
when none answers, so that a broken set-up is never mistaken for a pass.

Engine lanes: ``--engine host`` (the default) tests against the engine that answers
here; ``--engine modern``, ``modern-containerd`` or ``podman`` first bring up that
nested engine (Docker Engine 26 with overlay2 or the containerd image store, Podman 5;
see grader/provision/nested_engine.py), point ``DOCKER_HOST`` at it for the session and
remove it afterwards. ``make test`` runs everything on the host and the tests marked
``lanes`` (the engine-sensitive ones) on every other lane.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lanes import LANES

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite the golden files of the report renderers instead of comparing",
    )
    parser.addoption(
        "--engine",
        choices=LANES,
        default="host",
        help="the engine lane: the host's engine, or a nested Docker Engine 26 (overlay2 or "
        "containerd store) or Podman 5 brought up for the session",
    )


@pytest.fixture(scope="session")
def lane(request: pytest.FixtureRequest) -> str:
    """The engine lane of this session (``host``, ``modern``, ``modern-containerd``, ``podman``)."""
    return str(request.config.getoption("--engine"))


@pytest.fixture(scope="session", autouse=True)
def _lane_engine(lane: str) -> Iterator[None]:
    """On a nested lane: start its engine, point DOCKER_HOST at it, remove it at the end."""
    if lane == "host":
        yield
        return
    import os

    from grader import engine
    from grader.provision import nested_engine

    host = engine.connect()
    try:
        started = nested_engine.start(host, lane, say=lambda line: print(f"[{lane}] {line}"))
        previous = os.environ.get("DOCKER_HOST")
        os.environ["DOCKER_HOST"] = started.docker_host
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("DOCKER_HOST", None)
            else:
                os.environ["DOCKER_HOST"] = previous
            nested_engine.stop(host, lane, say=lambda line: print(f"[{lane}] {line}"))
    finally:
        host.close()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def docker_client() -> Iterator[object]:
    from grader import engine
    from grader.errors import EngineUnavailable

    try:
        client = engine.connect()
    except EngineUnavailable as exc:
        pytest.fail(f"{exc}\n(run `make engine`, or deselect with -m 'not docker')")
    try:
        client.images.get(engine.BASE_IMAGE)
    except Exception:
        pytest.fail(f"{engine.BASE_IMAGE} is missing: run `make engine` first")
    yield client
    client.close()
