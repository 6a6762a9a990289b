"""The one module that talks to the Docker engine.

Checks never call the docker SDK themselves: they ask an :class:`EngineSession`,
which labels everything it creates with the run's id and removes it all in
:meth:`EngineSession.close` (called from ``with``/``finally``, so on success,
failure, timeout and Ctrl-C alike). Resources left by a run that was killed outright
are found by label and removed by :func:`sweep` at the start of the next run.

testcontainers' Ryuk reaper is disabled: its image cannot be pulled on air-gapped
machines, and the labels above already give us a reaper that needs no image.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer, ExecConfig

from grader.errors import EngineError, EngineUnavailable

testcontainers_config.ryuk_disabled = True

__all__ = [
    "BASE_IMAGE",
    "LABEL_PREFIX",
    "BuildStream",
    "ContainerLimits",
    "EngineSession",
    "RunningContainer",
    "SweepReport",
    "connect",
    "server_version_or_none",
    "sweep",
]

BASE_IMAGE = "python:3.11-slim"
LABEL_PREFIX = "org.docker-ml-course"
# One label carries everything: the classic builder turns each label into a build
# step, and the run id itself says where and when a resource was made (see RunId).
LABEL_RUN = f"{LABEL_PREFIX}.run"

# The errors that mean "the engine went away or misbehaved", as opposed to a
# learner's mistake: a socket that vanished shows up as any of these.
ENGINE_FAULTS: tuple[type[BaseException], ...] = (
    docker.errors.DockerException,
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    ConnectionError,
)


def _resolve_base_url() -> tuple[str | None, Any]:
    """The engine address: DOCKER_HOST, else the current docker context, else the default."""
    if os.environ.get("DOCKER_HOST"):
        return None, None
    with contextlib.suppress(Exception):
        from docker.context import ContextAPI

        context = ContextAPI.get_current_context()
        if context is not None and context.Host:
            return context.Host, context.TLSConfig
    return None, None


def connect(timeout: float = 120) -> docker.DockerClient:
    """A client for the engine the docker CLI would use; raises EngineUnavailable."""
    base_url, tls = _resolve_base_url()
    try:
        if base_url:
            client = docker.DockerClient(base_url=base_url, tls=tls or False, timeout=timeout)
            # testcontainers looks at DOCKER_HOST first: point it at the same engine.
            os.environ.setdefault("DOCKER_HOST", base_url)
        else:
            client = docker.from_env(timeout=timeout)
        client.ping()
    except ENGINE_FAULTS as exc:
        from grader.provision.daemon import how_to_get_an_engine

        raise EngineUnavailable(
            f"The Docker engine does not answer ({_short(exc)}).",
            hint=how_to_get_an_engine(),
        ) from exc
    return client


def server_version_or_none(timeout: float = 10) -> str | None:
    """The engine's version if one answers within ``timeout`` seconds, else None."""
    try:
        client = connect(timeout=timeout)
    except EngineUnavailable:
        return None
    try:
        return str(client.version().get("Version", "unknown"))
    except ENGINE_FAULTS:
        return None
    finally:
        client.close()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


@dataclass(frozen=True)
class ContainerLimits:
    """Resource limits for a container the grader starts."""

    memory_bytes: int = 512 * 1024 * 1024
    """Memory limit; swap is set equal so that the container cannot swap."""
    nano_cpus: int = 1_000_000_000
    """CPU limit in billionths of a CPU (1e9 = one CPU)."""
    pids: int = 256
    """Most processes and threads the container may have at once."""
    drop_all_capabilities: bool = True
    """Drop every Linux capability (the app needs none to serve HTTP on a high port)."""


class BuildStream:
    """The classic builder's output stream for one build, cancellable from any thread.

    Iterate it to get the builder's JSON chunks. :meth:`cancel` stops the build:
    from the consuming thread it closes the HTTP stream (the engine then cancels the
    build); from a watchdog thread it kills the step's container, since a generator
    cannot be closed while another thread is inside it.
    """

    def __init__(self, session: EngineSession, chunks: Iterator[dict[str, Any]]) -> None:
        self._session = session
        self._chunks = chunks
        self._lock = threading.Lock()
        self._step_container: str | None = None
        self.cancelled_by_watchdog = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            for chunk in self._chunks:
                text = chunk.get("stream", "")
                if text.startswith(" ---> Running in "):
                    container_id = text.removeprefix(" ---> Running in ").strip()
                    with self._lock:
                        self._step_container = container_id
                    self._session._build_containers.add(container_id)
                yield chunk
        except ENGINE_FAULTS as exc:
            if isinstance(exc, docker.errors.APIError) and exc.status_code == 400:
                # The builder rejects a Dockerfile it cannot parse with HTTP 400.
                yield {"error": exc.explanation or str(exc), "parse_error": True}
                return
            raise EngineError(f"The engine failed during the build: {_short(exc)}") from exc

    def cancel(self) -> None:
        """Stop the build now (from the consuming thread)."""
        with contextlib.suppress(Exception):
            self._chunks.close()  # type: ignore[attr-defined]

    def kill_running_step(self) -> None:
        """Stop the build from another thread by killing the container of its current step."""
        self.cancelled_by_watchdog = True
        with self._lock:
            container_id = self._step_container
        if container_id:
            with contextlib.suppress(Exception):
                self._session.client.api.kill(container_id)


@dataclass
class RunningContainer:
    """A started container and how to reach its published port from the host."""

    wrapped: DockerContainer
    host: str
    port: int
    name: str

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def status(self) -> tuple[str, int | None]:
        """The container's state (``running``, ``exited`` …) and its exit code once exited."""
        container = self.wrapped.get_wrapped_container()
        container.reload()
        state = container.attrs.get("State", {})
        exit_code = state.get("ExitCode") if state.get("Status") == "exited" else None
        return str(state.get("Status", "unknown")), exit_code

    def oom_killed(self) -> bool:
        container = self.wrapped.get_wrapped_container()
        container.reload()
        return bool(container.attrs.get("State", {}).get("OOMKilled"))

    def logs(self) -> str:
        out, err = self.wrapped.get_logs()
        return (out + err).decode("utf-8", errors="replace")

    def exec(self, command: list[str], *, user: str | None = None) -> tuple[int, str]:
        """Run a command in the container; returns its exit code and output."""
        result = self.wrapped.exec(ExecConfig(command=command, user=user))
        return int(result.exit_code or 0), (result.output or b"").decode("utf-8", errors="replace")


@dataclass(frozen=True)
class RunId:
    """``HOST_PID_CREATED_TOKEN``: enough to tell, later, whether the run is still alive."""

    host: str
    pid: int
    created: int
    token: str

    @classmethod
    def new(cls) -> RunId:
        return cls(socket.gethostname(), os.getpid(), int(time.time()), uuid.uuid4().hex[:10])

    @classmethod
    def parse(cls, text: str) -> RunId | None:
        parts = text.rsplit("_", 3)
        if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        return cls(parts[0], int(parts[1]), int(parts[2]), parts[3])

    def __str__(self) -> str:
        return f"{self.host}_{self.pid}_{self.created}_{self.token}"

    def is_stale(self, older_than_s: float) -> bool:
        """Made by a process that is gone (on this host), or older than the limit."""
        if time.time() - self.created > older_than_s:
            return True
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


@dataclass
class EngineSession:
    """The engine as one grading run sees it: every resource it makes carries its label."""

    client: docker.DockerClient
    run: RunId = field(default_factory=RunId.new)
    _containers: list[DockerContainer] = field(default_factory=list)
    _build_containers: set[str] = field(default_factory=set)
    _images: list[str] = field(default_factory=list)
    _volumes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, timeout: float = 120) -> EngineSession:
        return cls(client=connect(timeout=timeout))

    def __enter__(self) -> EngineSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def describe(self) -> str:
        """The engine, e.g. ``Docker Engine 20.10.24 (linux/amd64, API 1.41)``."""
        try:
            version = self.client.version()
        except ENGINE_FAULTS:
            return "Docker Engine (version unknown)"
        return (
            f"Docker Engine {version.get('Version', '?')} ({version.get('Os', '?')}/"
            f"{version.get('Arch', '?')}, API {version.get('ApiVersion', '?')})"
        )

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL_RUN: str(self.run)}

    def name(self, purpose: str) -> str:
        """A name unique to this run, for tags, containers and volumes."""
        return f"docker-ml-course-{purpose}-{self.run.token}"

    # --- images -------------------------------------------------------------------------

    def has_image(self, reference: str) -> bool:
        try:
            self.client.images.get(reference)
        except docker.errors.ImageNotFound:
            return False
        return True

    def build(
        self,
        context_dir: Path,
        *,
        tag: str | None,
        memory_bytes: int,
    ) -> BuildStream:
        """Start a classic build of ``context_dir``; iterate the result to run it."""
        if tag:
            self._images.append(tag)
        chunks = self.client.api.build(
            path=str(context_dir),
            tag=tag,
            rm=True,
            forcerm=True,  # a failed step's container is removed too
            pull=False,
            decode=True,
            labels=self.labels if tag else None,
            container_limits={"memory": memory_bytes, "memswap": memory_bytes},
        )
        return BuildStream(self, chunks)

    def image_attrs(self, reference: str) -> dict[str, Any]:
        return dict(self.client.images.get(reference).attrs)

    def image_history(self, reference: str) -> list[dict[str, Any]]:
        return list(self.client.api.history(reference))

    def export_image_files(self, reference: str) -> Iterator[bytes]:
        """The image's filesystem as a tar stream (made with a never-started container)."""
        container = self.client.containers.create(
            reference, command=["true"], labels=self.labels, network_mode="none"
        )
        try:
            yield from container.export(chunk_size=1024 * 1024)
        finally:
            with contextlib.suppress(*ENGINE_FAULTS):
                container.remove(force=True, v=True)  # v: the image's VOLUMEs make volumes

    def remove_image(self, reference: str, *, keep_cache: bool = True) -> None:
        """Remove a tag; with ``keep_cache`` the untagged parent layers stay as build cache."""
        with contextlib.suppress(*ENGINE_FAULTS):
            self.client.images.remove(reference, force=True, noprune=keep_cache)
        if reference in self._images:
            self._images.remove(reference)

    def remove_build_containers(self) -> None:
        """Remove the containers of build steps (a cancelled build may leave its last one)."""
        for container_id in list(self._build_containers):
            with contextlib.suppress(Exception):
                self.client.api.remove_container(container_id, force=True)
            self._build_containers.discard(container_id)

    def remove_image_ids(self, image_ids: list[str]) -> None:
        """Remove layers that a cancelled probe build made and nothing else uses."""
        for image_id in reversed(image_ids):
            # The engine lets go of a cancelled build's layers a moment after the cancel.
            for _attempt in range(20):
                try:
                    self.client.images.remove(image_id, noprune=False)
                except docker.errors.ImageNotFound:
                    break
                except docker.errors.APIError as exc:
                    if exc.status_code != 409:
                        break
                    time.sleep(0.25)
                except ENGINE_FAULTS:
                    break
                else:
                    break

    # --- volumes and containers ---------------------------------------------------------

    def create_volume(self, purpose: str) -> str:
        volume = self.client.volumes.create(name=self.name(purpose), labels=self.labels)
        self._volumes.append(volume.name)
        return str(volume.name)

    def start_container(
        self,
        image: str,
        *,
        container_port: int,
        purpose: str,
        limits: ContainerLimits,
        environment: Mapping[str, str] | None = None,
        volumes: Mapping[str, str] | None = None,
    ) -> RunningContainer:
        """Start ``image`` with its port published on 127.0.0.1 at a free host port."""
        name = self.name(purpose)
        container = DockerContainer(image)
        for key, value in (environment or {}).items():
            container.with_env(key, value)
        for volume, path in (volumes or {}).items():
            container.with_volume_mapping(volume, path, mode="rw")
        # with_bind_ports() would publish on every interface: loopback only, a free port.
        container.ports = {f"{container_port}/tcp": ("127.0.0.1", None)}  # type: ignore[dict-item]
        container.with_name(name).with_kwargs(
            labels=self.labels,
            mem_limit=limits.memory_bytes,
            memswap_limit=limits.memory_bytes,
            nano_cpus=limits.nano_cpus,
            pids_limit=limits.pids,
            cap_drop=["ALL"] if limits.drop_all_capabilities else None,
            security_opt=["no-new-privileges:true"],
            privileged=False,
            init=True,
        )
        self._containers.append(container)
        try:
            container.start()
            wrapped = container.get_wrapped_container()
            wrapped.reload()
            bindings = wrapped.attrs["NetworkSettings"]["Ports"].get(f"{container_port}/tcp")
        except ENGINE_FAULTS as exc:
            raise EngineError(f"Could not start a container from the image: {_short(exc)}") from exc
        # An image whose process exits at once may have no port binding left.
        host_port = int(bindings[0]["HostPort"]) if bindings else 0
        return RunningContainer(wrapped=container, host="127.0.0.1", port=host_port, name=name)

    def stop_container(self, running: RunningContainer) -> None:
        with contextlib.suppress(*ENGINE_FAULTS):
            running.wrapped.stop()
        if running.wrapped in self._containers:
            self._containers.remove(running.wrapped)

    # --- cleanup ------------------------------------------------------------------------

    def close(self) -> None:
        """Remove everything this run created, even if the engine is half gone."""
        for container in self._containers:
            with contextlib.suppress(Exception):
                container.get_wrapped_container().remove(force=True, v=True)
        self._containers.clear()
        self.remove_build_containers()
        with contextlib.suppress(Exception):
            remove_by_label(self.client, f"{LABEL_RUN}={self.run}", keep_cache=True)
        for tag in list(self._images):
            self.remove_image(tag)
        for volume in self._volumes:
            with contextlib.suppress(Exception):
                self.client.volumes.get(volume).remove(force=True)
        self._volumes.clear()
        with contextlib.suppress(Exception):
            self.client.close()


@dataclass(frozen=True)
class SweepReport:
    """What :func:`sweep` removed."""

    containers: int = 0
    images: int = 0
    volumes: int = 0
    networks: int = 0

    @property
    def total(self) -> int:
        return self.containers + self.images + self.volumes + self.networks


def remove_by_label(client: docker.DockerClient, label: str, *, keep_cache: bool) -> SweepReport:
    """Remove every container, image, volume and network carrying ``label``."""
    containers = images = volumes = networks = 0
    filters = {"label": label}
    for container in client.containers.list(all=True, filters=filters):
        with contextlib.suppress(*ENGINE_FAULTS):
            container.remove(force=True, v=True)
            containers += 1
    for image in client.images.list(filters=filters):
        with contextlib.suppress(*ENGINE_FAULTS):
            client.images.remove(image.id, force=True, noprune=keep_cache)
            images += 1
    for volume in client.volumes.list(filters=filters):
        with contextlib.suppress(*ENGINE_FAULTS):
            volume.remove(force=True)
            volumes += 1
    for network in client.networks.list(filters=filters):
        with contextlib.suppress(*ENGINE_FAULTS):
            network.remove()
            networks += 1
    return SweepReport(containers, images, volumes, networks)


def sweep(
    client: docker.DockerClient, *, older_than_s: float = 6 * 3600, everything: bool = False
) -> SweepReport:
    """Remove resources left by grader runs that were killed (or all of ours)."""
    stale_runs: set[str] = set()
    label_filter = {"label": LABEL_RUN}
    listed: list[Mapping[str, str]] = []
    with contextlib.suppress(*ENGINE_FAULTS):
        listed += [c.labels for c in client.containers.list(all=True, filters=label_filter)]
        listed += [v.attrs.get("Labels") or {} for v in client.volumes.list(filters=label_filter)]
        listed += [i.labels for i in client.images.list(filters=label_filter)]
        listed += [n.attrs.get("Labels") or {} for n in client.networks.list(filters=label_filter)]
    for labels in listed:
        text = labels.get(LABEL_RUN, "")
        run = RunId.parse(text)
        if everything or run is None or run.is_stale(older_than_s):
            stale_runs.add(text)
    report = SweepReport()
    for run_id in sorted(stale_runs):
        part = remove_by_label(client, f"{LABEL_RUN}={run_id}", keep_cache=not everything)
        report = SweepReport(
            report.containers + part.containers,
            report.images + part.images,
            report.volumes + part.volumes,
            report.networks + part.networks,
        )
    return report
