"""Builds through the Engine API, with BuildKit or the classic builder.

Both builders are reached the same way: ``POST /build`` with the build context as a
USTAR tar body (a PAX tar is read as the Dockerfile itself), ``version=2`` for
BuildKit and ``version=1`` for the classic builder. No ``docker``/``buildx`` binary is
involved, so the grader works the same with Docker Desktop, Colima and Linux engines.
The context is filtered by ``.dockerignore`` here, exactly as the docker CLI does it:
sent as a tar body, BuildKit would not apply ``.dockerignore`` itself (measured).

Measured on Engine 20.10 (see ``shared/REFERENCE.md``): BuildKit ignores the
``memory``/``memswap`` build parameters, so a build memory limit binds the classic
builder only; closing the connection cancels a build with either builder.
"""

from __future__ import annotations

import contextlib
import enum
import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import docker.errors

from grader.dockerignore import context_files
from grader.engine.context_tar import write_context_tar
from grader.errors import EngineError

if TYPE_CHECKING:
    from grader.engine.session import EngineSession

__all__ = [
    "BuildHandle",
    "BuilderChoice",
    "BuilderKind",
    "EngineFeatures",
    "builder_note",
    "resolve_builder",
]

BuilderChoice = Literal["auto", "buildkit", "classic"]


class BuilderKind(enum.StrEnum):
    BUILDKIT = "buildkit"
    CLASSIC = "classic"

    @property
    def title(self) -> str:
        return "BuildKit" if self is BuilderKind.BUILDKIT else "the classic builder"


@dataclass(frozen=True)
class EngineFeatures:
    """What the engine is and which builders it offers, read from ``GET /version``."""

    product: str
    """``Docker Engine``, ``Podman Engine`` …"""
    version: str
    api_version: str
    os: str
    arch: str
    containerd_store: bool = False
    """Images live in the containerd image store (``containerd-snapshotter``)."""

    @classmethod
    def from_version(
        cls, version: dict[str, Any], info: dict[str, Any] | None = None
    ) -> EngineFeatures:
        """From ``GET /version`` and, for the image store, ``GET /info``."""
        components = [str(c.get("Name", "")) for c in version.get("Components") or []]
        product = next(
            (name for name in components if "podman" in name.lower()),
            "Docker Engine",
        )
        driver_status = (info or {}).get("DriverStatus") or []
        return cls(
            product=product,
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            os=str(version.get("Os", "?")),
            arch=str(version.get("Arch", "?")),
            containerd_store=any(
                "io.containerd.snapshotter" in str(value) for _key, value in driver_status
            ),
        )

    @property
    def major(self) -> int:
        return self.release[0]

    @property
    def release(self) -> tuple[int, int]:
        match = re.match(r"(\d+)(?:\.(\d+))?", self.version)
        return (int(match.group(1)), int(match.group(2) or 0)) if match else (0, 0)

    @property
    def is_docker(self) -> bool:
        return self.product == "Docker Engine"

    @property
    def has_buildkit(self) -> bool:
        """Docker Engine on Linux has had BuildKit built in since 18.09."""
        return self.is_docker and self.os == "linux" and self.major >= 18

    @property
    def buildkit_reads_uploaded_context(self) -> bool:
        """False where BuildKit cannot read a context sent as the request body.

        With the containerd image store, Engine 26.0 to 27.4 looks the uploaded context
        up by a made-up host name and fails ("failed to read downloaded context: … no
        such host"; moby/moby#47717, fixed in 27.5 by moby/moby#49178). Measured on
        Debian's 26.1.5.
        """
        return not (self.containerd_store and (26, 0) <= self.release < (27, 5))

    @property
    def buildkit_usable(self) -> bool:
        return self.has_buildkit and self.buildkit_reads_uploaded_context

    @property
    def frontend_has_heredocs(self) -> bool:
        """The built-in Dockerfile frontend reads heredocs from Engine 23 (BuildKit 0.11)."""
        return self.has_buildkit and self.major >= 23

    def describe(self) -> str:
        return f"{self.product} {self.version} ({self.os}/{self.arch}, API {self.api_version})"


_UPLOAD_BUG = (
    "with the containerd image store, Docker Engine 26.0 to 27.4 cannot read a build "
    "context sent through the Engine API with BuildKit (moby/moby#47717, fixed in 27.5)"
)


def resolve_builder(features: EngineFeatures, requested: BuilderChoice) -> BuilderKind:
    """The builder to grade with: BuildKit wherever the engine offers it, unless told."""
    if requested == "classic":
        return BuilderKind.CLASSIC
    if requested == "buildkit":
        if not features.has_buildkit:
            raise EngineError(
                f"BuildKit was asked for, but {features.describe()} does not offer it through "
                "the Engine API.",
                hint="Grade with `--builder auto` (or `classic`), or on Docker Engine 23+ / "
                "Docker Desktop.",
            )
        if not features.buildkit_reads_uploaded_context:
            raise EngineError(
                f"BuildKit was asked for, but {_UPLOAD_BUG}.",
                hint="Update Docker (27.5 or newer), or grade with `--builder auto`.",
            )
        return BuilderKind.BUILDKIT
    return BuilderKind.BUILDKIT if features.buildkit_usable else BuilderKind.CLASSIC


def builder_note(features: EngineFeatures, requested: BuilderChoice, kind: BuilderKind) -> str:
    """Why ``auto`` did not choose BuildKit on an engine that has it ('' when it did)."""
    if requested != "auto" or kind is BuilderKind.BUILDKIT or not features.has_buildkit:
        return ""
    return f" BuildKit was not used: {_UPLOAD_BUG}; the classic builder graded this instead."


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


class BuildHandle:
    """One build's raw JSON stream, cancellable from any thread.

    Iterate it for the engine's chunks (``{"stream": …}`` lines from the classic
    builder, ``{"id": "moby.buildkit.trace", "aux": …}`` from BuildKit). :meth:`cancel`
    shuts the connection down, which makes the engine cancel the build; it is safe to
    call from a watchdog thread while another thread is blocked reading.
    """

    def __init__(
        self,
        session: EngineSession,
        kind: BuilderKind,
        response: Any = None,
        refused: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        self._session = session
        self._response = response
        self._refused = refused
        self._lock = threading.Lock()
        self.cancelled = False
        self.step_container: str | None = None
        """The classic builder's container of the step running now (BuildKit's are not
        visible through the Engine API)."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from grader.engine.session import ENGINE_FAULTS

        if self._refused is not None:
            yield self._refused
            return
        api = self._session.client.api
        try:
            for chunk in api._stream_helper(self._response, decode=True):
                if self.kind is BuilderKind.CLASSIC:
                    text = chunk.get("stream", "")
                    if isinstance(text, str) and text.startswith(" ---> Running in "):
                        # A cancelled classic build may leave its step's container.
                        self.step_container = text.removeprefix(" ---> Running in ").strip()
                        self._session.track_build_container(self.step_container)
                yield chunk
        except Exception as exc:
            if self.cancelled:
                # Shutting the socket down under a blocked read surfaces as whatever the
                # HTTP stack trips over (even AttributeError): the cancel is the story.
                return
            if isinstance(exc, ENGINE_FAULTS):
                raise EngineError(f"The engine failed during the build: {_short(exc)}") from exc
            raise

    def cancel(self) -> None:
        """Stop the build now, from any thread."""
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
        if self._response is None:
            return
        with contextlib.suppress(Exception):
            raw = self._session.client.api._get_raw_response_socket(self._response)
            getattr(raw, "_sock", raw).shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._response.close()


def _tar_body(context_dir: Path) -> bytes:
    body = io.BytesIO()
    write_context_tar(context_dir, context_files(context_dir), body)
    return body.getvalue()


def start_build(
    session: EngineSession,
    context_dir: Path,
    *,
    kind: BuilderKind,
    tag: str | None,
    memory_bytes: int,
    labels: dict[str, str] | None,
) -> BuildHandle:
    """Send the build; a Dockerfile the engine refuses outright comes back as an error chunk."""
    from grader.engine.session import ENGINE_FAULTS

    params: dict[str, Any] = {
        "version": "2" if kind is BuilderKind.BUILDKIT else "1",
        "dockerfile": "Dockerfile",
        "rm": "1",
        "forcerm": "1",  # a failed step's container is removed too
        "pull": "0",
    }
    if tag:
        params["t"] = tag
    if labels:
        params["labels"] = json.dumps(labels)
    if kind is BuilderKind.CLASSIC:
        params["memory"] = str(memory_bytes)
        params["memswap"] = str(memory_bytes)
    api = session.client.api
    try:
        response = api._post(
            api._url("/build"),
            params=params,
            data=_tar_body(context_dir),
            headers={"Content-Type": "application/x-tar"},
            stream=True,
            # A step may be silent for minutes: the grader's watchdogs bound the build,
            # not an inactivity timeout on the socket.
            timeout=None,
        )
        api._raise_for_status(response)
    except docker.errors.APIError as exc:
        if exc.status_code == 400:
            # The classic builder rejects a Dockerfile it cannot parse with HTTP 400.
            refused = {"error": exc.explanation or str(exc), "parse_error": True}
            return BuildHandle(session, kind, refused=refused)
        raise EngineError(f"The engine refused the build: {_short(exc)}") from exc
    except ENGINE_FAULTS as exc:
        raise EngineError(f"The engine failed to start the build: {_short(exc)}") from exc
    return BuildHandle(session, kind, response)
