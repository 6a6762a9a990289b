"""Shared fixtures. Tests marked ``docker`` need a running engine: they fail (not skip)
when none answers, so that a broken set-up is never mistaken for a pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite the golden files of the report renderers instead of comparing",
    )


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
