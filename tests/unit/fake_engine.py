"""A fake engine session: builds replay streams recorded from a real engine, containers
do what the test says. It offers only what the pipeline asks of an ``EngineSession``,
so that orchestration, the cache proof's verdicts and the fault policy can be tested
without Docker. Anything it does not offer fails loudly (AttributeError).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from grader.engine.builders import BuilderKind

RECORDINGS = Path(__file__).parent / "recordings"

# The Dockerfile whose BuildKit build (on Engine 20.10, after an app edit) is recorded
# in buildkit-20.10--app-edit-install-cached.jsonl: the same seven steps.
RECORDED_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
RUN useradd --create-home --uid 10001 appuser && mkdir -p /data && chown appuser /data
COPY app/ ./app/
COPY model/ ./model/
USER appuser
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""


def recorded(name: str) -> list[dict[str, Any]]:
    """A build's raw Engine API stream, one JSON chunk per line."""
    lines = (RECORDINGS / name).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class _Answers200(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: object) -> None:
        pass


@dataclass
class FakeContainer:
    """A container that has exited with ``exit_code`` and ``logs``; or (with ``server``)
    is running and answers 200 to every GET; or (with ``table``) is running, its socket
    table is ``table``, and its published port refuses every connection."""

    exit_code: int | None = 3
    output: str = "Traceback: boom\n"
    server: ThreadingHTTPServer | None = None
    table: str | None = None
    closed_port: int = 0
    """A port on the host where nothing listens (the published port of ``table``'s app)."""
    execs: list[list[str]] = field(default_factory=list)
    health_status: tuple[str, list[dict[str, Any]]] = ("", [])
    health_command: tuple[int, str] | None = (0, "")
    """What running the HEALTHCHECK's command gives (None: it never finishes)."""

    @property
    def port(self) -> int:
        return self.server.server_address[1] if self.server else self.closed_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status(self) -> tuple[str, int | None]:
        running = self.server is not None or self.table is not None
        return ("running", None) if running else ("exited", self.exit_code)

    def oom_killed(self) -> bool:
        return False

    def logs(self) -> str:
        return self.output

    def health(self) -> tuple[str, list[dict[str, Any]]]:
        return self.health_status

    def run_health_command(self, test: list[str], timeout_s: float) -> tuple[int, str] | None:
        self.execs.append(test)
        return self.health_command

    def exec(self, command: list[str]) -> tuple[int, str]:
        """As a slim image's non-root user answers: ``id -u`` is 1000."""
        self.execs.append(command)
        return (0, "1000\n") if command == ["id", "-u"] else (127, "not found")


def _closed_port() -> int:
    """A free port on loopback: bound for a moment and closed, so connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


HANG = {"fake": "hang"}
"""Put in a recorded stream: the build goes silent there until it is cancelled, as a
real build's stream does while a step runs without output (then ends, as a cancelled
build's stream does)."""


class FakeBuild:
    """A build handle that replays a recorded stream."""

    def __init__(self, chunks: list[dict[str, Any]], step_container: str | None = None) -> None:
        self.chunks = chunks
        self.cancelled = False
        self.step_container = step_container
        self._cancel = threading.Event()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for chunk in self.chunks:
            if chunk == HANG:
                self._cancel.wait(timeout=60)
                return
            if self.cancelled:
                return
            text = chunk.get("stream", "")
            if isinstance(text, str) and text.startswith(" ---> Running in "):
                # As the real handle does: the classic builder names the step's container.
                self.step_container = text.removeprefix(" ---> Running in ").strip()
            yield chunk

    def cancel(self) -> None:
        self.cancelled = True
        self._cancel.set()


@dataclass
class FakeSession:
    """Pass the instance as ``open_engine``: opening it returns itself."""

    builds: list[list[dict[str, Any]] | BaseException]
    """One recorded stream per build, in the order the grade asks for them (the image,
    then the cache proof's rebuilds); an exception is raised as the engine package would."""
    kind: BuilderKind = BuilderKind.BUILDKIT
    running: bool = False
    """Containers run and answer HTTP; otherwise they exit at once."""
    start_error: BaseException | None = None
    listening: str | None = None
    """Containers run and answer no HTTP; their socket table is this text."""
    """Raised by ``start_container``, as the engine package would raise it."""
    image_size_bytes: int = 200 * 1024 * 1024
    closed: bool = False
    healthcheck: dict[str, Any] | None = None
    """The built image's ``Config.Healthcheck`` (``{"Test": ["CMD-SHELL", "…"], …}``)."""
    health_status: tuple[str, list[dict[str, Any]]] = ("starting", [])
    """The engine's ``State.Health`` (status, log) of running containers."""
    health_command: tuple[int, str] | None = (0, "")
    busy_steps: bool = False
    """Build steps use CPU (seen through the classic builder's step container)."""
    purposes: list[str] = field(default_factory=list)
    """Why each container was started (``app``, ``extra`` …), in order."""
    stopped: list[FakeContainer] = field(default_factory=list)
    started: list[FakeContainer] = field(default_factory=list)
    handles: list[FakeBuild] = field(default_factory=list)
    """Every build handle given out, in order."""
    start_waits_for_build: int | None = None
    """Starting a container waits until this many builds have started (a rebuild beside
    the container's stage is then surely under way)."""
    _build_started: threading.Condition = field(default_factory=threading.Condition)
    _servers: list[ThreadingHTTPServer] = field(default_factory=list)

    def __call__(self) -> FakeSession:
        return self

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self.closed = True

    def describe(self) -> str:
        return "Fake Engine 1.0 (test)"

    def features(self) -> Any:
        return type("Features", (), {"is_docker": True, "frontend_has_heredocs": True})()

    def builder(self, requested: str) -> tuple[BuilderKind, str]:
        return self.kind, ""

    def sweep_stale(self) -> None:
        pass

    def name(self, purpose: str) -> str:
        return f"fake-{purpose}"

    def build(self, context_dir: Path, *, tag: str | None, memory_bytes: int, builder: Any) -> Any:
        recording = self.builds.pop(0)
        if isinstance(recording, BaseException):
            raise recording
        handle = FakeBuild(recording)
        with self._build_started:
            self.handles.append(handle)
            self._build_started.notify_all()
        return handle

    def cancel_builds(self) -> None:
        self.builds = [RuntimeError("the fake's builds were cancelled")] * len(self.builds)
        for handle in list(self.handles):
            handle.cancel()

    def remove_build_containers(self) -> None:
        pass

    def container_cpu_seconds(self, container_id: str) -> float | None:
        """A busy step uses one CPU all the time; an idle one none."""
        return time.monotonic() if self.busy_steps else 0.0

    def remove_image(self, reference: str, *, keep_cache: bool = True) -> None:
        pass

    def remove_image_ids(self, image_ids: list[str]) -> None:
        pass

    def build_cache_records(self) -> list[dict[str, Any]]:
        return []

    def remove_build_cache_records(self, keep: set[str], *, only_contexts: bool) -> int:
        return 0

    def create_volume(self, purpose: str) -> str:
        return f"fake-{purpose}"

    def start_container(self, image: str, **options: Any) -> FakeContainer:
        self.purposes.append(str(options.get("purpose", "")))
        if self.start_waits_for_build is not None:
            with self._build_started:
                if not self._build_started.wait_for(
                    lambda: len(self.handles) >= (self.start_waits_for_build or 0), timeout=10
                ):
                    raise RuntimeError("no build started beside the container's start")
        if self.start_error is not None:
            raise self.start_error
        if self.listening is not None:
            return FakeContainer(table=self.listening, closed_port=_closed_port())
        if not self.running:
            return FakeContainer()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers200)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._servers.append(server)
        container = FakeContainer(
            server=server, health_status=self.health_status, health_command=self.health_command
        )
        self.started.append(container)
        return container

    def stop_container(self, running: FakeContainer) -> None:
        self.stopped.append(running)

    def socket_table(self, running: FakeContainer) -> str | None:
        return running.table

    def image_attrs(self, reference: str) -> dict[str, Any]:
        return {"Size": self.image_size_bytes, "Config": {"Healthcheck": self.healthcheck}}

    def image_history(self, reference: str) -> list[dict[str, Any]]:
        return []
