"""The run stage: start the image, wait until it is ready, and say why when it is not.

testcontainers' ``HttpWaitStrategy`` keeps polling after the container has exited, so
readiness is polled here: the readiness URL every 50 ms, the container's state four
times a second and, about once a second in a thread of its own (an ``exec`` takes
~0.1 s, which must not delay seeing the first 200), the container's socket table
(:mod:`grader.listening_sockets`), until one of them gives a verdict or the time runs
out. The socket table decides early: once the
same sockets are seen twice, a server listening only on loopback or on another port
fails at once, and one on ``::`` fails once the published port has refused a request
made after it started listening (an IPv6-only socket; a dual-stack one answers).
Listening on the right port keeps the wait going; a process that exits, or listens on
nothing, is diagnosed from its logs as before.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import httpx

from grader.build_stream import TrimmedOutput
from grader.checks.base import Verdict
from grader.dockerfile import Dockerfile
from grader.effective_command import ListenAddress, Reach, listen_address
from grader.engine import ContainerLimits, EngineSession, RunningContainer, missing_program
from grader.errors import ContainerWontStart
from grader.listening_sockets import Listener, Listening, judge_listeners, parse_socket_table
from grader.probes import app_client
from grader.spec import ExerciseSpec, Limits, MiB
from grader.workspace import Workspace

__all__ = ["RunOutcome", "SocketWatch", "diagnose_logs", "start_and_wait", "trimmed"]

POLL_INTERVAL_S = 0.05
"""How often the readiness URL is asked: a refused request through the published port
costs about a millisecond, and a coarser poll added its half-interval to every start."""
STATUS_INTERVAL_S = 0.25
"""How often the container's state is read (an inspect) to see that it exited."""
SOCKET_READ_INTERVAL_S = 1.0
READ_JOIN_S = 30.0
"""How long the end of the wait waits for a socket-table read in progress."""
FIRST_SOCKET_READ_S = 1.0
"""When the socket table is first read: no app has started listening sooner (uvicorn with
the model loaded takes about 1.2 s here), and each read is an exec in the container."""
OTHER_PORT_HOLD_S = 5.0
"""How long sockets on other ports only must hold before the app is failed for them."""


@dataclass
class RunOutcome:
    container: RunningContainer | None
    """The ready container, or None when it never became ready."""
    failure: Verdict | None
    """Why it is not ready (a failed verdict for the first dynamic check)."""
    seconds: float


def container_limits(spec: ExerciseSpec) -> ContainerLimits:
    limits = spec.limits
    return ContainerLimits(
        memory_bytes=limits.run_memory_mb * MiB,
        nano_cpus=int(limits.run_cpus * 1e9),
        pids=limits.run_pids,
        drop_all_capabilities=limits.drop_all_capabilities,
    )


def trimmed(text: str, limits: Limits) -> str:
    """A log's first and last lines, as many as the limits keep."""
    output = TrimmedOutput(limits.output_head_lines, limits.output_tail_lines)
    for line in text.splitlines():
        output.add(line)
    return output.text()


def trimmed_logs(container: RunningContainer, spec: ExerciseSpec) -> str:
    try:
        text = container.logs()
    except Exception:  # the engine may be gone; the verdict is what matters
        return "(the container's logs could not be read)"
    return trimmed(text, spec.limits)


def start_and_wait(
    session: EngineSession,
    image: str,
    spec: ExerciseSpec,
    workspace: Workspace,
    *,
    purpose: str,
    environment: Mapping[str, str] | None = None,
    volumes: Mapping[str, str] | None = None,
    dockerfile: Dockerfile | None = None,
) -> RunOutcome:
    """Start ``image`` and wait until it answers; ``dockerfile`` lets a verdict on where
    the app listens name the server's own options and the line that starts it."""
    app = spec.require_app()
    started = time.monotonic()
    try:
        container = session.start_container(
            image,
            container_port=app.container_port,
            purpose=purpose,
            limits=container_limits(spec),
            environment=environment,
            volumes=volumes,
        )
    except ContainerWontStart as refused:
        failure = _never_started(refused, spec, workspace)
        return RunOutcome(None, failure, time.monotonic() - started)
    deadline = started + spec.limits.readiness_timeout_s
    last_answer = "no answer"
    url = f"{container.base_url}{app.readiness_path}"
    address = listen_address(dockerfile) if dockerfile is not None else None
    sockets = SocketWatch(app.container_port, address, next_read=started + FIRST_SOCKET_READ_S)
    reader = _SocketReader(session, container, sockets)
    next_status = 0.0
    try:
        with app_client(timeout=2.0) as client:
            while True:
                if time.monotonic() >= next_status:
                    next_status = time.monotonic() + STATUS_INTERVAL_S
                    state, exit_code = container.status()
                    if state in {"exited", "dead"}:
                        reader.stop()
                        failure = _exited(container, spec, workspace, exit_code)
                        return RunOutcome(None, failure, time.monotonic() - started)
                if container.port:
                    asked = time.monotonic()
                    try:
                        response = client.get(url)
                    except httpx.TimeoutException as exc:
                        last_answer = f"no answer ({type(exc).__name__})"
                    except httpx.HTTPError as exc:
                        last_answer = f"no answer ({type(exc).__name__})"
                        sockets.refused(asked)
                    else:
                        if response.status_code == 200:
                            return RunOutcome(container, None, time.monotonic() - started)
                        last_answer = f"HTTP {response.status_code}"
                if reader.error is not None:
                    raise reader.error
                if (failure := sockets.verdict(spec)) is not None:
                    reader.stop()
                    failure = replace(failure, details=trimmed_logs(container, spec))
                    return RunOutcome(None, failure, time.monotonic() - started)
                if time.monotonic() >= deadline:
                    reader.stop()
                    failure = _never_ready(container, spec, workspace, last_answer)
                    return RunOutcome(None, failure, time.monotonic() - started)
                time.sleep(POLL_INTERVAL_S)
    finally:
        reader.stop()


class _SocketReader:
    """Reads the container's socket table into a :class:`SocketWatch` while the wait
    polls, so that the reads never hold up the poll that sees the app answer.

    :meth:`stop` waits for a read in progress (at most one exec, or one helper container
    on an image without ``cat``): nothing may call the engine for a container after the
    wait is over, when a stage may be stopping it or the session removing what it made.
    """

    def __init__(self, session: EngineSession, container: RunningContainer, watch: SocketWatch):
        self._session, self._container, self._watch = session, container, watch
        self._stopped = threading.Event()
        self.error: BaseException | None = None
        """What a read raised (an engine fault the session did not translate, a bug)."""
        self._thread = threading.Thread(target=self._run, name="socket-table", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            if self._watch.due(time.monotonic()):
                try:
                    table = self._session.socket_table(self._container)
                    self._watch.saw(table, time.monotonic())
                except BaseException as exc:  # raised again in the wait's own thread
                    self.error = exc
                    return
            self._stopped.wait(POLL_INTERVAL_S)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            # Bounded: an exec the engine never answers must not hold the grade forever
            # (the read's own call is then the one thing left; it makes no other).
            self._thread.join(READ_JOIN_S)


@dataclass
class SocketWatch:
    """The container's socket table as read during the wait: decides once it holds still."""

    port: int
    """The container port the exercise publishes."""
    address: ListenAddress | None = None
    """Where the Dockerfile says the app listens, when it was given."""
    listeners: tuple[Listener, ...] = ()
    same_reads: int = 0
    """How many reads in a row found exactly :attr:`listeners`."""
    since: float = 0.0
    """When :attr:`listeners` were first seen."""
    refused_at: float = field(default=float("-inf"))
    """When the last request that the published port refused (not timed out) was sent."""
    next_read: float = 0.0
    last_read: float = 0.0
    unreadable: bool = False
    """The table cannot be read in this container: the logs alone will tell."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """The reads land from :class:`_SocketReader`'s thread while the wait asks for verdicts."""

    def due(self, now: float) -> bool:
        # Once the app listens where it should, the sockets can decide nothing more (and
        # reading them may start a helper container): the HTTP answer decides.
        with self._lock:
            return not self.unreadable and not self.reachable and now >= self.next_read

    @property
    def reachable(self) -> bool:
        return judge_listeners(self.listeners, self.port) is Listening.REACHABLE

    def refused(self, asked: float) -> None:
        with self._lock:
            self.refused_at = asked

    def saw(self, table: str | None, now: float) -> None:
        listeners = tuple(parse_socket_table(table)) if table is not None else ()
        with self._lock:
            self.next_read, self.last_read = now + SOCKET_READ_INTERVAL_S, now
            if table is None:
                self.unreadable = True
            elif listeners == self.listeners and self.same_reads:
                self.same_reads += 1
            else:
                self.listeners, self.same_reads, self.since = listeners, 1, now

    def verdict(self, spec: ExerciseSpec) -> Verdict | None:
        """A failed verdict once the sockets make the app certain to stay unreachable."""
        with self._lock:
            if self.same_reads < 2:
                return None
            listeners, since, last_read = self.listeners, self.since, self.last_read
            refused_at = self.refused_at
        listening = judge_listeners(listeners, self.port)
        if listening is Listening.IPV6_ANY and refused_at <= since:
            return None  # maybe dual-stack: wait for a request made after it listened
        if listening is Listening.OTHER_PORT and last_read - since < OTHER_PORT_HOLD_S:
            return None  # an app may open another port first (metrics) and its own later
        return unreachable_verdict(listening, listeners, spec, self.address)


def unreachable_verdict(
    listening: Listening,
    listeners: tuple[Listener, ...],
    spec: ExerciseSpec,
    address: ListenAddress | None = None,
) -> Verdict | None:
    """What a learner reads when the socket table shows the app cannot be reached: the
    fix in the server's own options and the line that starts it, where the Dockerfile
    names a server the grader knows."""
    port = spec.require_app().container_port
    found = ", ".join(str(s) for s in listeners)
    on_port = ", ".join(str(s) for s in listeners if s.port == port)
    table = "(read from the container's /proc/net/tcp)"
    known = address is not None and address.reach is not Reach.UNKNOWN
    line = address.source_line if known and address is not None else None
    host_fix = address.host_fix(port) if known and address is not None else "`--host 0.0.0.0`"
    port_fix = address.port_fix(port) if known and address is not None else f"`--port {port}`"
    if listening is Listening.LOOPBACK_ONLY:
        return Verdict.failed(
            f"The app listens on {on_port} only {table}: a loopback address inside the "
            f"container, which the published port {port} cannot reach.",
            f"Start the server on all interfaces: {host_fix}"
            + ("" if known else f" with uvicorn (gunicorn: `-b 0.0.0.0:{port}`)")
            + ".",
            line=line,
        )
    if listening is Listening.IPV6_ANY:
        return Verdict.failed(
            f"The app listens on {on_port} {table}, IPv6 only: the published port {port} "
            "forwards over IPv4 and got no answer after the socket was open.",
            f"Start the server with {host_fix} (IPv4, all interfaces); uvicorn's "
            "`--host ::` opens an IPv6-only socket.",
            line=line,
        )
    if listening is Listening.OTHER_PORT:
        also_host = (
            f" and {host_fix}"
            if all(s.loopback for s in listeners) and host_fix != port_fix
            else ""
        )
        return Verdict.failed(
            f"The app listens on {found} {table}, not on port {port}, the container port the "
            f"exercise publishes.",
            f"Start the server with {port_fix}{also_host} and write `EXPOSE {port}`: "
            f"the container port must be the one the exercise (and `docker run -p "
            f"{port}:{port}`) publishes.",
            line=line,
        )
    return None


def _exited(
    container: RunningContainer, spec: ExerciseSpec, workspace: Workspace, exit_code: int | None
) -> Verdict:
    logs = trimmed_logs(container, spec)
    oom = False
    try:
        oom = container.oom_killed()
    except Exception:
        oom = False
    if oom or exit_code == 137:
        return Verdict.failed(
            f"The container was killed (exit {exit_code}) for using more than "
            f"{spec.limits.run_memory_mb} MB of memory.",
            "Load less into memory at start-up; the model API needs well under this limit.",
            details=logs,
        )
    cause, hint = diagnose_logs(logs, spec, workspace)
    return Verdict.failed(
        f"The container stopped right after starting (exit code {exit_code})"
        + (f": {cause}" if cause else "."),
        hint
        or "Run it yourself with `docker run --rm IMAGE` and read the error at the end of the "
        "output; the CMD must start a server that keeps running.",
        details=logs,
    )


def _never_started(
    refused: ContainerWontStart, spec: ExerciseSpec, workspace: Workspace
) -> Verdict:
    """The engine would not start the image's command: the learner's image, not a fault."""
    said = refused.message.split("container process: ")[-1]
    cause, hint = diagnose_logs(refused.message, spec, workspace)
    code = f" (exit code {refused.exit_code})" if refused.exit_code is not None else ""
    return Verdict.failed(
        f"The container could not start{code}: " + (cause or f"the engine said: {said}") + ".",
        hint
        or "Check the CMD and ENTRYPOINT: the program they name must exist in the image and "
        "be executable; try `docker run --rm IMAGE` yourself.",
        details=refused.message,
    )


def _never_ready(
    container: RunningContainer, spec: ExerciseSpec, workspace: Workspace, last_answer: str
) -> Verdict:
    app = spec.require_app()
    logs = trimmed_logs(container, spec)
    cause, hint = diagnose_logs(logs, spec, workspace)
    return Verdict.failed(
        f"The app did not answer GET {app.readiness_path} with 200 on port "
        f"{app.container_port} within {spec.limits.readiness_timeout_s:.0f} s "
        f"(last: {last_answer})" + (f": {cause}" if cause else "."),
        hint
        or f"Check that the server listens on 0.0.0.0, port {app.container_port}, and that "
        f"{app.readiness_path} answers when you run the container yourself.",
        details=logs,
    )


_LISTENING = re.compile(r"running on https?://([\w.\[\]:]+?):(\d+)", re.IGNORECASE)


def diagnose_logs(logs: str, spec: ExerciseSpec, workspace: Workspace) -> tuple[str, str]:
    """Spot the classic causes in a container's output: (cause, hint), empty when unknown."""
    app = spec.app
    listening = _LISTENING.search(logs)
    if listening and app is not None:
        port = app.container_port
        host, listen_port = listening.group(1), int(listening.group(2))
        if host in {"127.0.0.1", "localhost"}:
            return (
                f"the server listens on {host}:{listen_port}, which is unreachable from outside "
                "the container",
                "Start uvicorn with `--host 0.0.0.0`.",
            )
        if listen_port != port:
            return (
                f"the server listens on port {listen_port}, but the exercise publishes {port}",
                f"Start it with `--port {port}` (and `EXPOSE {port}`).",
            )
    if workspace.crlf_scripts and re.search(
        r"bad interpreter|\\r|not found|no such file", logs, re.I
    ):
        scripts = ", ".join(workspace.crlf_scripts)
        return (
            f"{scripts} has Windows line endings (CRLF), so `/bin/sh\\r` is not found",
            "Save the script with LF line endings (VS Code: click CRLF in the status bar), or "
            "add `RUN sed -i 's/\\r$//' SCRIPT` to the Dockerfile.",
        )
    if "exec format error" in logs:
        return (
            "the start command is not a runnable program (exec format error)",
            "Start a shell script with `#!/bin/sh` and make it executable, or use exec-form CMD.",
        )
    package = app.package if app is not None else ""
    wanted = re.escape(package)
    if package and re.search(
        rf"No module named '?{wanted}'?|Could not import module \"{wanted}", logs
    ):
        return (
            f"Python cannot find the `{package}` package",
            f"Copy the app into the image (`COPY {package}/ ./{package}/`) and set `WORKDIR` to "
            "the folder that holds it before CMD.",
        )
    module = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", logs)
    if module:
        return (
            f"the package `{module.group(1)}` is not installed in the image",
            f"Install the dependencies with `pip install -r {spec.dependency_file}` in the "
            "Dockerfile.",
        )
    if missing := missing_program(logs):
        program, said = missing
        return (
            f"the program `{program}` that CMD/ENTRYPOINT start does not exist in the image "
            f"(the engine said: {said})",
            f"Check the spelling of CMD: `{program}` must be a program in the image (a Python "
            f"tool such as uvicorn comes from {spec.dependency_file}).",
        )
    if re.search(r"(executable file not found|command not found|not found in \$PATH)", logs):
        return (
            "the start command does not exist in the image",
            "Check the spelling of CMD: the program it names must be in the image (a Python "
            f"tool such as uvicorn comes from {spec.dependency_file}).",
        )
    if re.search(r"Resource temporarily unavailable|can't start new thread|fork", logs, re.I):
        return (
            f"the app hit the limit of {spec.limits.run_pids} processes",
            "Do not start processes in a loop; one uvicorn worker is enough.",
        )
    if "Permission denied" in logs:
        folder = spec.volume.data_dir if spec.volume is not None else "FOLDER"
        return (
            "a file or folder the app needs is not accessible to its user",
            "Give the non-root user the folders it writes to, e.g. "
            f"`RUN mkdir -p {folder} && chown {spec.user} {folder}` before `USER {spec.user}`.",
        )
    return "", ""
