"""The one module that talks to the Docker engine.

Checks never call the docker SDK themselves: they ask an :class:`EngineSession`,
which labels everything it creates with the run's id and removes it all in
:meth:`EngineSession.close` (called from ``with``/``finally``, so on success,
failure, timeout and Ctrl-C alike). Resources left by a run that was killed outright
are found by label and removed by :func:`sweep` at the start of the next run.

testcontainers' Ryuk reaper is disabled (in its config object, when a connection is
made or a container started, never through the environment at import): its image cannot
be pulled on air-gapped machines, and the labels above already give us a reaper that
needs no image.

The docker SDK's exceptions stop here: :func:`as_engine_error` (and :func:`engine_errors`
around a block of SDK calls) turns them into the grader's own (:mod:`grader.errors`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer, ExecConfig

from grader.engine import pools
from grader.engine.builders import (
    BuilderChoice,
    BuilderKind,
    BuildHandle,
    EngineFeatures,
    builder_note,
    resolve_builder,
    start_build,
)
from grader.errors import (
    ContainerWontStart,
    EngineError,
    EngineRefused,
    EngineUnavailable,
    GradingInterrupted,
    NotFoundOnEngine,
    how_to_get_an_engine,
)

# Before any client exists: a Ctrl-C must not leave an engine connection's pool locked
# (see grader.engine.pools).
pools.install()

__all__ = [
    "BASE_IMAGE",
    "LABEL_PREFIX",
    "ContainerLimits",
    "EngineSession",
    "RunningContainer",
    "SweepReport",
    "as_engine_error",
    "connect",
    "disable_ryuk",
    "engine_errors",
    "missing_program",
    "run_to_completion",
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


def as_engine_error(exc: BaseException) -> EngineError | None:
    """The engine's exceptions as the grader's own (None for anything else): the one
    translation of the SDK's errors, so that a fault is never blamed on the wrong party.

    An error the engine answered with is an :class:`EngineRefused` with its status
    (:class:`NotFoundOnEngine` for 404); ``detail`` keeps the SDK's whole text. An SDK
    error that wraps an interruption is the interruption (:func:`raise_interruption`).
    """
    if isinstance(exc, EngineError):
        return exc
    raise_interruption(exc)
    if not isinstance(exc, ENGINE_FAULTS):
        return None
    message, detail = f"{type(exc).__name__}: {_short(exc)}", str(exc)
    if isinstance(exc, docker.errors.NotFound):
        return NotFoundOnEngine(message, status_code=404, detail=detail)
    if isinstance(exc, docker.errors.APIError):
        return EngineRefused(message, status_code=exc.status_code, detail=detail)
    return EngineError(message, detail=detail)


def raise_interruption(exc: BaseException) -> None:
    """Raise the :class:`GradingInterrupted` that ``exc`` wraps, if it wraps one: the SDK
    turns any exception in its first request (finding the API version) into one of its
    own, so that a SIGTERM arriving then would read as an engine that does not answer."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, GradingInterrupted):
            raise cause
        cause = cause.__cause__ or cause.__context__


@contextlib.contextmanager
def engine_errors() -> Iterator[None]:
    """Around SDK calls: the engine's exceptions leave as the grader's own (see
    :func:`as_engine_error`), the SDK's as their cause."""
    try:
        yield
    except ENGINE_FAULTS as exc:
        translated = as_engine_error(exc)
        assert translated is not None
        raise translated from exc


def disable_ryuk() -> None:
    """Keep testcontainers from starting its Ryuk reaper (an image to pull: offline, a
    failure) before any container of ours: the run labels do its work.

    testcontainers 4.x reads ``TESTCONTAINERS_RYUK_DISABLED`` only when its config's
    ``ryuk_disabled`` is first asked and nothing was set: setting it here wins over the
    environment, and leaves the environment alone.
    """
    testcontainers_config.ryuk_disabled = True


# The engine's words when the image itself cannot start a process (runc, crun, Podman):
# `exec: "uvicornn": executable file not found in $PATH`, `permission denied`, …
_IMAGE_CANNOT_START = re.compile(
    r"start(?:ing)? container process|executable file .*not found|exec format error|"
    r"OCI runtime attempted to invoke",
    re.IGNORECASE,
)


# What the init process (tini, catatonit), the runtime (runc, crun) or /bin/sh says when a
# program is not in the image: `exec uvicornn failed: No such file or directory`,
# `exec: "uvicornn": executable file not found in $PATH`, `/bin/sh: 1: curl: not found`.
_MISSING_PROGRAM = re.compile(
    r"exec (?P<init>\S+) failed: No such file or directory"
    r"|exec: \"(?P<runtime>[^\"]+)\": executable file not found"
    r"|(?:^|\s)(?P<sh>[\w./-]+): not found"
)


def missing_program(text: str) -> tuple[str, str] | None:
    """The program an engine's, runtime's or shell's words say is not in the image, and
    those words; None when they say no such thing."""
    found = _MISSING_PROGRAM.search(text)
    if found is None:
        return None
    program = found.group("init") or found.group("runtime") or found.group("sh") or ""
    return program.rsplit("/", 1)[-1], found.group(0).strip()


def _resolve_base_url() -> tuple[str | None, Any, str]:
    """The engine address (None: DOCKER_HOST or the default, as docker-py finds them), its
    TLS settings, and where it came from, in words for when no engine answers there."""
    if host := os.environ.get("DOCKER_HOST"):
        return None, None, f"{host} (from DOCKER_HOST)"
    with contextlib.suppress(Exception):
        from docker.context import ContextAPI

        context = ContextAPI.get_current_context()
        if context is not None and context.Host:
            where = f"{context.Host} (from the docker context `{context.name}`)"
            return context.Host, context.TLSConfig, where
    return (
        None,
        None,
        "unix:///var/run/docker.sock (the default: no DOCKER_HOST, no docker context)",
    )


T = TypeVar("T")


def within(timeout_s: float, call: Callable[[], T]) -> T | None:
    """``call()``'s result, or None when it ran past ``timeout_s``: an exec into a container
    has no timeout of its own, so it runs in a thread that is left to end on its own (with
    the container). What it raised is raised here."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout_s)
    if failure:
        raise failure[0]
    return result[0] if result else None


def run_to_completion(
    client: docker.DockerClient,
    image: str,
    command: list[str],
    *,
    labels: Mapping[str, str],
    timeout_s: float = 60,
    **options: Any,
) -> tuple[int, str]:
    """Run a short-lived helper container to its end: its exit status and what it printed
    on stdout. The output is read once it has exited (following the logs of a container
    that lives a few milliseconds, as ``containers.run`` does, sometimes gets nothing),
    and the container is removed whatever happens. The engine's errors are raised as the
    grader's own (:func:`engine_errors`)."""
    with engine_errors():
        helper = client.containers.run(image, command, labels=dict(labels), detach=True, **options)
        try:
            status = int(helper.wait(timeout=timeout_s).get("StatusCode", 1))
            output = helper.logs(stdout=True, stderr=False).decode("utf-8", errors="replace")
            return status, output
        finally:
            with contextlib.suppress(*ENGINE_FAULTS):
                helper.remove(force=True, v=True)


def connect(timeout: float = 120) -> docker.DockerClient:
    """A client for the engine the docker CLI would use; raises EngineUnavailable."""
    disable_ryuk()
    base_url, tls, sought = _resolve_base_url()
    try:
        if base_url:
            client = docker.DockerClient(base_url=base_url, tls=tls or False, timeout=timeout)
            # testcontainers looks at DOCKER_HOST first: point it at the same engine.
            os.environ.setdefault("DOCKER_HOST", base_url)
        else:
            client = docker.from_env(timeout=timeout)
        client.ping()
    except ENGINE_FAULTS as exc:
        raise_interruption(exc)
        raise EngineUnavailable(
            f"No Docker engine answers at {sought}: {_short(exc)}.",
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


def _api_at_least(version: str, major: int, minor: int) -> bool:
    try:
        have = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    return have >= (major, minor)


def publish_host_for(base_url: str) -> str:
    """127.0.0.1, or the engine's own address when it is reached over TCP elsewhere."""
    parsed = urlparse(base_url)
    remote = parsed.hostname not in {None, "", "localhost", "127.0.0.1", "::1"}
    if parsed.scheme in {"http", "https", "tcp"} and remote:
        return str(parsed.hostname)
    return "127.0.0.1"


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

    def run_options(self) -> dict[str, Any]:
        """These limits, and the hardening every container the grader grades gets, as
        ``containers.create``/``run`` take them."""
        return {
            "mem_limit": self.memory_bytes,
            "memswap_limit": self.memory_bytes,
            "nano_cpus": self.nano_cpus,
            "pids_limit": self.pids,
            "cap_drop": ["ALL"] if self.drop_all_capabilities else None,
            "security_opt": ["no-new-privileges:true"],
            "privileged": False,
            "init": True,
        }


@dataclass
class RunningContainer:
    """A started container and how to reach its published port from the host."""

    wrapped: DockerContainer
    host: str
    port: int
    name: str
    socket_table_via: str = ""
    """How :meth:`EngineSession.socket_table` reads this container's table: ``exec``,
    ``helper``, or ``none`` once neither worked (empty until the first read)."""

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

    def health(self) -> tuple[str, list[dict[str, Any]]]:
        """``State.Health``: the engine's status (``starting``, ``healthy``, ``unhealthy``;
        ``""`` without a HEALTHCHECK) and its log of runs, oldest first."""
        container = self.wrapped.get_wrapped_container()
        container.reload()
        health = container.attrs.get("State", {}).get("Health") or {}
        return str(health.get("Status", "")), list(health.get("Log") or [])

    def run_health_command(self, test: list[str], timeout_s: float) -> tuple[int, str] | None:
        """Run a HEALTHCHECK's ``Test`` (``["CMD", …]`` or ``["CMD-SHELL", "…"]``) once, as
        the engine would; its exit code and output, or None when it ran past ``timeout_s``
        (it is then left to end with the container)."""
        command = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
        return within(timeout_s, lambda: self.exec(command))


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
    _builds: list[BuildHandle] = field(default_factory=list)
    _builds_cancelled: bool = False
    _images: list[str] = field(default_factory=list)
    _volumes: list[str] = field(default_factory=list)
    _features: EngineFeatures | None = None

    @classmethod
    def open(cls, timeout: float = 120) -> EngineSession:
        return cls(client=connect(timeout=timeout))

    def __enter__(self) -> EngineSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def features(self) -> EngineFeatures:
        """What the engine is and offers (asked once per session)."""
        if self._features is None:
            try:
                self._features = EngineFeatures.from_version(
                    self.client.version(), self.client.info()
                )
            except ENGINE_FAULTS as exc:
                raise EngineError(f"The engine did not say what it is: {_short(exc)}") from exc
        return self._features

    def describe(self) -> str:
        """The engine, e.g. ``Docker Engine 20.10.24 (linux/amd64, API 1.41)``."""
        return self.features().describe()

    def builder(self, requested: BuilderChoice) -> tuple[BuilderKind, str]:
        """The builder this engine grades with when ``requested`` (auto, buildkit, classic),
        and a note when ``auto`` had to pass BuildKit over."""
        kind = resolve_builder(self.features(), requested)
        return kind, builder_note(self.features(), requested, kind)

    @property
    def publish_host(self) -> str:
        """Where the engine publishes the grader's container ports, and the grader reaches them.

        127.0.0.1 for a local engine (a socket, or TCP on loopback); for an engine reached
        at another address over TCP (a nested engine on the host's bridge), that address:
        its loopback is not ours.
        """
        return publish_host_for(str(self.client.api.base_url))

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL_RUN: str(self.run)}

    def name(self, purpose: str) -> str:
        """A name unique to this run, for tags, containers and volumes."""
        return f"docker-ml-course-{purpose}-{self.run.token}"

    # --- images -------------------------------------------------------------------------

    def build(
        self,
        context_dir: Path,
        *,
        tag: str | None,
        memory_bytes: int,
        builder: BuilderKind,
    ) -> BuildHandle:
        """Start a build of ``context_dir``; iterate the result to run it."""
        if self._builds_cancelled:
            raise EngineError(
                "Not built: the grade had already stopped (its builds were cancelled)."
            )
        if tag:
            self._images.append(tag)
        handle = start_build(
            self,
            context_dir,
            kind=builder,
            tag=tag,
            memory_bytes=memory_bytes,
            labels=self.labels if tag else None,
        )
        self._builds.append(handle)
        return handle

    def cancel_builds(self) -> None:
        """Cancel every build of this session still going, from any thread (a grade that
        failed or was interrupted while a rebuild ran beside it); none starts after this."""
        self._builds_cancelled = True
        for handle in list(self._builds):
            handle.cancel()

    def container_cpu_seconds(self, container_id: str) -> float | None:
        """CPU time a container (e.g. a classic build step's) has used so far, or None."""
        try:
            stats = self.client.api.stats(container_id, stream=False, one_shot=True)
            return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9
        except (*ENGINE_FAULTS, KeyError, TypeError, ValueError):
            return None

    def track_build_container(self, container_id: str) -> None:
        self._build_containers.add(container_id)

    def image_attrs(self, reference: str) -> dict[str, Any]:
        return dict(self.client.images.get(reference).attrs)

    def image_history(self, reference: str) -> list[dict[str, Any]]:
        return list(self.client.api.history(reference))

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

    # --- BuildKit's build cache -----------------------------------------------------------
    # BuildKit keeps its cache as records of its own, not as images: a probe build's
    # records (the edited COPY and what follows it) and every build's uploaded context
    # ("http url http://build-context-…", never reused) are removed here.

    def build_cache_records(self) -> list[dict[str, Any]]:
        """BuildKit's cache records. Engines with API 1.42+ list them alone; older ones
        only as part of the whole disk-usage report, which takes seconds: ask rarely."""
        api = self.client.api
        try:
            params = {"type": "build-cache"} if _api_at_least(api.api_version, 1, 42) else {}
            usage = api._result(api._get(api._url("/system/df"), params=params), json=True)
        except ENGINE_FAULTS:
            return []
        return list(usage.get("BuildCache") or [])

    def _prune_build_cache_record(self, record_id: str) -> None:
        api = self.client.api
        with contextlib.suppress(*ENGINE_FAULTS):
            # The engine takes one id per filter.
            api._post(api._url("/build/prune"), params={"filters": json.dumps({"id": [record_id]})})

    def remove_build_cache_records(self, keep: set[str], *, only_contexts: bool) -> int:
        """Remove uploaded contexts, and records not in ``keep``; never one in use.

        With ``only_contexts`` (or while another grader runs: records it made meanwhile
        may hold its install step's cache), only the uploaded contexts go.
        """
        if not only_contexts and self._other_runs_alive():
            only_contexts = True
        removed = 0
        for record in self.build_cache_records():
            record_id = str(record.get("ID", ""))
            if not record_id or record.get("InUse"):
                continue
            is_context = str(record.get("Description", "")).startswith(
                "http url http://build-context-"
            )
            if not is_context and (only_contexts or record_id in keep):
                continue
            self._prune_build_cache_record(record_id)
            removed += 1
        return removed

    def _other_runs_alive(self) -> bool:
        label_filter = {"label": LABEL_RUN}
        try:
            labels = [c.labels for c in self.client.containers.list(all=True, filters=label_filter)]
            labels += [i.labels for i in self.client.images.list(filters=label_filter)]
        except ENGINE_FAULTS:
            return True
        for item in labels:
            run = RunId.parse(item.get(LABEL_RUN, ""))
            if run is not None and run != self.run and not run.is_stale(6 * 3600):
                return True
        return False

    # --- volumes and containers ---------------------------------------------------------

    def create_volume(self, purpose: str) -> str:
        volume = self.client.volumes.create(name=self.name(purpose), labels=self.labels)
        self._volumes.append(volume.name)
        return str(volume.name)

    def remove_volume(self, name: str) -> None:
        """Remove a volume this session made, once nothing uses it any more."""
        with contextlib.suppress(*ENGINE_FAULTS):
            self.client.volumes.get(name).remove(force=True)
        if name in self._volumes:
            self._volumes.remove(name)

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
        """Start ``image`` with its port published on :attr:`publish_host` at a free port."""
        name = self.name(purpose)
        container = DockerContainer(image)
        for key, value in (environment or {}).items():
            container.with_env(key, value)
        for volume, path in (volumes or {}).items():
            container.with_volume_mapping(volume, path, mode="rw")
        # with_bind_ports() would publish on every interface: one address only, a free port.
        container.ports = {f"{container_port}/tcp": (self.publish_host, None)}  # type: ignore[dict-item]
        container.with_name(name).with_kwargs(labels=self.labels, **limits.run_options())
        self._containers.append(container)
        # A session may hold a client that connect() did not make.
        disable_ryuk()
        try:
            container.start()
            wrapped = container.get_wrapped_container()
            wrapped.reload()
            bindings = wrapped.attrs["NetworkSettings"]["Ports"].get(f"{container_port}/tcp")
        except docker.errors.APIError as exc:
            explanation = str(exc.explanation or exc)
            if _IMAGE_CANNOT_START.search(explanation):
                raise ContainerWontStart(explanation, _exit_code(container)) from exc
            raise EngineError(f"Could not start a container from the image: {_short(exc)}") from exc
        except ENGINE_FAULTS as exc:
            raise EngineError(f"Could not start a container from the image: {_short(exc)}") from exc
        # An image whose process exits at once may have no port binding left.
        host_port = int(bindings[0]["HostPort"]) if bindings else 0
        return RunningContainer(
            wrapped=container, host=self.publish_host, port=host_port, name=name
        )

    def socket_table(self, running: RunningContainer) -> str | None:
        """``/proc/net/tcp`` and ``/proc/net/tcp6`` of the container's network namespace,
        or None when they cannot be read (the diagnosis then falls back to the logs).

        ``cat`` inside the container where the image has it (~0.1 s); otherwise a
        labelled, self-removing helper from the base image sharing the container's
        network namespace (``network_mode=container:…``, ~0.2 s), which works for
        images without a shell too.
        """
        files = ["cat", "/proc/net/tcp", "/proc/net/tcp6"]
        if running.socket_table_via in {"", "exec"}:
            try:
                _code, output = running.exec(files)
            except ENGINE_FAULTS:
                output = ""
            # cat exits 1 when IPv6 is off (no tcp6) but has printed tcp: that is enough.
            if "local_address" in output:
                running.socket_table_via = "exec"
                return output
            running.socket_table_via = "helper"
        if running.socket_table_via == "helper":
            try:
                container_id = running.wrapped.get_wrapped_container().id
                _code, output = run_to_completion(
                    self.client,
                    BASE_IMAGE,
                    # Without IPv6 there is no tcp6: the IPv4 table alone still answers.
                    ["sh", "-c", "cat /proc/net/tcp; cat /proc/net/tcp6 2>/dev/null; true"],
                    labels=self.labels,
                    network_mode=f"container:{container_id}",
                    mem_limit="64m",
                    pids_limit=16,
                    cap_drop=["ALL"],
                    security_opt=["no-new-privileges:true"],
                )
            except (*ENGINE_FAULTS, EngineError):
                output = ""
            if "local_address" in output:
                return output
            running.socket_table_via = "none"
        return None

    def sweep_stale(self) -> SweepReport:
        """Remove what killed grader runs left behind (see :func:`sweep`)."""
        return sweep(self.client)

    def stop_container(self, running: RunningContainer) -> None:
        """Stop and remove a container this session started; once is enough (a second
        call, from a stage's clean-up after a check stopped it, does nothing)."""
        if running.wrapped not in self._containers:
            return
        self._containers.remove(running.wrapped)
        with contextlib.suppress(*ENGINE_FAULTS):
            running.wrapped.stop()

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


def _exit_code(container: DockerContainer) -> int | None:
    """The exit code the engine gave a container that never started (127, 126)."""
    with contextlib.suppress(Exception):
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        return int(wrapped.attrs["State"]["ExitCode"])
    return None


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
