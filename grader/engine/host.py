"""Operations on an engine for code that holds a client, not a grading session.

The engine bring-up (:mod:`grader.provision`: the base image, nested engines' images,
containers and volumes) and the lessons' helpers (:mod:`grader.lesson_helpers`) need a
few engine operations outside a grading run. They are here, so that the docker SDK stays
inside the engine package: each function raises the grader's own exceptions (see
:func:`grader.engine.session.as_engine_error`): :class:`~grader.errors.NotFoundOnEngine`
when the engine has no such thing, :class:`~grader.errors.EngineRefused` (with its HTTP
status) when it refused, :class:`~grader.errors.EngineError` when it went away.

What these functions create is labelled by their callers (the nested engines' kinds, the
lessons' runs): none of it carries a grading run's label, so no sweep of grading runs
touches it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from grader.engine.session import engine_errors, within
from grader.errors import EngineError, NotFoundOnEngine

__all__ = [
    "ContainerState",
    "EngineClient",
    "ImageState",
    "base_url",
    "client_at",
    "close",
    "container_logs",
    "copy_image",
    "create_container",
    "create_volume",
    "engine_info",
    "engine_version",
    "exec_in_container",
    "find_containers",
    "find_images",
    "find_volumes",
    "image_history",
    "image_state",
    "import_rootfs",
    "inspect_container",
    "pull_image",
    "put_archive",
    "remove_container",
    "remove_image",
    "remove_volume",
    "save_image_file",
    "start_container",
    "tag_image",
    "volume_exists",
]

EngineClient = docker.DockerClient
"""A connection to an engine (:func:`grader.engine.connect` or :func:`client_at` makes one)."""

SAVE_CHUNK_BYTES = 1024 * 1024


# --- the engine itself ------------------------------------------------------------------


def client_at(address: str, *, timeout: float) -> EngineClient:
    """A client for the engine at ``address`` (``tcp://…``). Making it asks the engine's
    API version, so that an engine that does not answer raises here."""
    with engine_errors():
        return docker.DockerClient(base_url=address, timeout=timeout)


def close(client: EngineClient) -> None:
    """Let go of the client's connections."""
    client.close()


def base_url(client: EngineClient) -> str:
    """Where the client reaches its engine, e.g. ``http+docker://localhost``."""
    return str(client.api.base_url)


def engine_version(client: EngineClient) -> dict[str, Any]:
    """``docker version``'s server part: ``Version``, ``ApiVersion``, ``Components`` …"""
    with engine_errors():
        return dict(client.version())


def engine_info(client: EngineClient) -> dict[str, Any]:
    """``docker info``: ``Name``, ``Driver``, ``DriverStatus`` …"""
    with engine_errors():
        return dict(client.info())


# --- images -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageState:
    """An image as the engine describes it."""

    id: str
    short_id: str
    tags: tuple[str, ...]
    labels: dict[str, str]
    attrs: dict[str, Any] = field(repr=False)
    """``docker image inspect``'s whole answer."""

    @classmethod
    def of(cls, image: Any) -> ImageState:
        attrs = dict(image.attrs or {})
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        return cls(str(image.id), str(image.short_id), tuple(image.tags), dict(labels), attrs)


def image_state(client: EngineClient, reference: str) -> ImageState:
    """The image ``reference`` names; NotFoundOnEngine when the engine has none."""
    with engine_errors():
        return ImageState.of(client.images.get(reference))


def find_images(
    client: EngineClient, *, labels: list[str] | None = None, name: str | None = None
) -> list[ImageState]:
    """The images carrying every label ``key=value`` in ``labels`` (and named ``name``)."""
    with engine_errors():
        if labels is None:
            return [ImageState.of(image) for image in client.images.list(name=name)]
        found = client.images.list(name=name, filters={"label": labels})
        return [ImageState.of(image) for image in found]


def remove_image(
    client: EngineClient, reference: str, *, force: bool = False, noprune: bool = False
) -> None:
    """Remove an image or tag; EngineRefused with status 409 when a container uses it."""
    with engine_errors():
        client.images.remove(reference, force=force, noprune=noprune)


def tag_image(client: EngineClient, reference: str, repository: str, tag: str) -> None:
    with engine_errors():
        client.api.tag(reference, repository, tag=tag)


def pull_image(client: EngineClient, reference: str) -> None:
    """``docker pull reference`` (offline it fails at once)."""
    repository, tag = reference.rsplit(":", 1)
    with engine_errors():
        client.images.pull(repository, tag=tag)


def import_rootfs(client: EngineClient, tarball: Path, reference: str, changes: list[str]) -> None:
    """``docker import --change … TARBALL reference``, then make sure the image is there."""
    repository, tag = reference.rsplit(":", 1)
    with engine_errors():
        client.api.import_image(src=str(tarball), repository=repository, tag=tag, changes=changes)
        client.images.get(reference)


def copy_image(source: EngineClient, dest: EngineClient, reference: str) -> None:
    """``docker save reference`` on ``source``, ``docker load`` on ``dest`` (no registry)."""
    with engine_errors():
        # named=True: without it the archive carries no tag and loads untagged.
        archive = source.images.get(reference).save(named=True)
        dest.images.load(archive)


def save_image_file(client: EngineClient, reference: str, dest: Path) -> None:
    """Write ``docker save reference`` into the file ``dest``, a chunk at a time.

    The image can be several hundred MB: it is streamed to disk, never held in memory.
    """
    with engine_errors():
        image = client.images.get(reference)
        with dest.open("wb") as out:
            for chunk in image.save(chunk_size=SAVE_CHUNK_BYTES):
                out.write(chunk)


def image_history(client: EngineClient, reference: str) -> list[dict[str, Any]]:
    """``docker history``, newest first, as the engine lists it."""
    with engine_errors():
        return list(client.api.history(reference))


# --- containers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerState:
    """A container as the engine described it when asked."""

    id: str
    name: str
    status: str
    """``running``, ``exited``, ``created`` …"""
    labels: dict[str, str]
    exit_code: int | None
    """``State.ExitCode`` (0 while it runs)."""
    bridge_address: str
    """Its IP on the engine's default bridge, ``""`` when it has none."""
    image_id: str = ""
    """The id of the image it was created from (``Image`` in inspect)."""
    health: dict[str, Any] = field(default_factory=dict)
    """``State.Health`` (``Status``, ``FailingStreak``, ``Log``); empty without a health check."""
    healthcheck: dict[str, Any] = field(default_factory=dict)
    """``Config.Healthcheck``: the image's HEALTHCHECK or ``--health-cmd``; empty without one."""

    @classmethod
    def of(cls, container: Any) -> ContainerState:
        attrs = container.attrs
        networks = attrs.get("NetworkSettings", {}).get("Networks") or {}
        code = attrs.get("State", {}).get("ExitCode")
        return cls(
            id=str(container.id),
            name=str(container.name),
            status=str(container.status),
            labels=dict(container.labels),
            exit_code=None if code is None else int(code),
            bridge_address=str((networks.get("bridge") or {}).get("IPAddress") or ""),
            image_id=str(attrs.get("Image") or ""),
            health=dict(attrs.get("State", {}).get("Health") or {}),
            healthcheck=dict((attrs.get("Config") or {}).get("Healthcheck") or {}),
        )


def find_containers(client: EngineClient, labels: list[str]) -> list[ContainerState]:
    """Every container (running or not) carrying every label ``key=value`` in ``labels``;
    every container on the engine when ``labels`` is empty."""
    with engine_errors():
        found = client.containers.list(all=True, filters={"label": labels} if labels else {})
        return [ContainerState.of(container) for container in found]


def inspect_container(client: EngineClient, container_id: str) -> ContainerState:
    """The container as it is now; NotFoundOnEngine when it is gone."""
    with engine_errors():
        return ContainerState.of(client.containers.get(container_id))


def create_container(
    client: EngineClient,
    image: str,
    command: list[str],
    *,
    host_config: Mapping[str, Any],
    unmasked: bool = False,
    **options: Any,
) -> str:
    """Create (not start) a container; its id. ``host_config``: ``create_host_config``'s
    arguments; ``unmasked`` leaves ``/proc`` unmasked and writable (what the CLI spells
    ``--security-opt systempaths=unconfined``, which the API refuses as a security
    option); ``options``: ``name``, ``hostname``, ``labels``, ``environment`` …"""
    api = client.api
    with engine_errors():
        config = api.create_host_config(**host_config)
        if unmasked:
            # Empty lists: nothing masked, nothing read-only.
            config["MaskedPaths"] = []
            config["ReadonlyPaths"] = []
        created = api.create_container(image, command, host_config=config, **options)
    return str(created["Id"])


def exec_in_container(
    client: EngineClient, container_id: str, command: list[str], *, timeout_s: float
) -> tuple[int, str] | None:
    """Run ``command`` in the running container: its exit code and output (stdout and
    stderr), or None when it ran past ``timeout_s`` (it is then left to end on its own)."""

    def run() -> tuple[int, str]:
        with engine_errors():
            code, output = client.containers.get(container_id).exec_run(command)
        return int(code or 0), bytes(output or b"").decode("utf-8", "replace")

    return within(timeout_s, run)


def put_archive(client: EngineClient, container_id: str, path: str, data: bytes) -> None:
    """Unpack the tar ``data`` at ``path`` in the container (before it starts, too)."""
    with engine_errors():
        client.api.put_archive(container_id, path, data)


def start_container(client: EngineClient, container_id: str) -> None:
    with engine_errors():
        client.api.start(container_id)


def container_logs(client: EngineClient, container_id: str, *, tail: int) -> str:
    """The container's last ``tail`` lines of output, stdout and stderr."""
    with engine_errors():
        return bytes(client.api.logs(container_id, tail=tail)).decode("utf-8", errors="replace")


def remove_container(
    client: EngineClient, container_id: str, *, stop_timeout: int | None = None
) -> None:
    """Remove a container and its anonymous volumes; one already gone is no error.

    With ``stop_timeout``, stop it gracefully first (a nested dockerd then stops its own
    containers and unmounts their layers); a stop that fails does not keep it alive.
    """
    if stop_timeout is not None:
        with contextlib.suppress(EngineError), engine_errors():
            client.api.stop(container_id, timeout=stop_timeout)
    with contextlib.suppress(NotFoundOnEngine), engine_errors():
        client.api.remove_container(container_id, force=True, v=True)


# --- volumes ------------------------------------------------------------------------------


def volume_exists(client: EngineClient, name: str) -> bool:
    try:
        with engine_errors():
            client.volumes.get(name)
    except NotFoundOnEngine:
        return False
    return True


def create_volume(client: EngineClient, name: str, labels: Mapping[str, str]) -> None:
    with engine_errors():
        client.volumes.create(name=name, labels=dict(labels))


def find_volumes(client: EngineClient, labels: list[str]) -> list[str]:
    """The names of the volumes carrying every label ``key=value`` in ``labels``; of every
    volume on the engine when ``labels`` is empty."""
    with engine_errors():
        found = client.volumes.list(filters={"label": labels} if labels else {})
        return [str(volume.name) for volume in found]


def remove_volume(client: EngineClient, name: str) -> None:
    with engine_errors():
        client.api.remove_volume(name, force=True)
