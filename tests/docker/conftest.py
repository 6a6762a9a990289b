"""Real-engine tests: every one is marked ``docker``; the session ends with a leftover check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.engine import LABEL_RUN

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_behind(docker_client) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """After the Docker tests, no container, volume, network or tagged image of ours remains."""
    volumes_before = {v.name for v in docker_client.volumes.list()}
    yield
    # Anonymous volumes carry no label: count them, since VOLUME in an image makes one per
    # container that is removed without v=True.
    # Only volumes no container uses: another grader at work on the engine is not a leak.
    dangling = {v.name for v in docker_client.volumes.list(filters={"dangling": True})}
    new_volumes = dangling - volumes_before
    assert new_volumes == set(), f"anonymous volumes were left behind: {sorted(new_volumes)}"
    label = {"label": LABEL_RUN}
    left = (
        [c.name for c in docker_client.containers.list(all=True, filters=label)]
        + [v.name for v in docker_client.volumes.list(filters=label)]
        + [n.name for n in docker_client.networks.list(filters=label)]
        + [t for i in docker_client.images.list(filters=label) for t in i.tags]
    )
    assert left == [], f"the grader left these behind: {left}"


@pytest.fixture
def our_resources(docker_client):  # type: ignore[no-untyped-def]
    """A function listing the grader's containers, volumes and tagged images on the engine."""

    def listing() -> list[str]:
        label = {"label": LABEL_RUN}
        return (
            [f"container {c.name}" for c in docker_client.containers.list(all=True, filters=label)]
            + [f"volume {v.name}" for v in docker_client.volumes.list(filters=label)]
            + [f"image {t}" for i in docker_client.images.list(filters=label) for t in i.tags]
        )

    return listing
