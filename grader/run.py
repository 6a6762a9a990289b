"""The run stage: start the image, wait until it is ready, and say why when it is not.

testcontainers' ``HttpWaitStrategy`` keeps polling after the container has exited, so
readiness is polled here: the container's state and the readiness URL, in turn,
until one of them gives a verdict or the time runs out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from grader.build_stream import TrimmedOutput
from grader.checks.base import Verdict
from grader.engine import ContainerLimits, EngineSession, RunningContainer
from grader.errors import ContainerWontStart
from grader.spec import ExerciseSpec, MiB
from grader.workspace import Workspace

__all__ = ["RunOutcome", "diagnose_logs", "start_and_wait"]

POLL_INTERVAL_S = 0.25


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


def trimmed_logs(container: RunningContainer, spec: ExerciseSpec) -> str:
    output = TrimmedOutput(spec.limits.output_head_lines, spec.limits.output_tail_lines)
    try:
        text = container.logs()
    except Exception:  # the engine may be gone; the verdict is what matters
        return "(the container's logs could not be read)"
    for line in text.splitlines():
        output.add(line)
    return output.text()


def start_and_wait(
    session: EngineSession,
    image: str,
    spec: ExerciseSpec,
    workspace: Workspace,
    *,
    purpose: str,
    environment: Mapping[str, str] | None = None,
    volumes: Mapping[str, str] | None = None,
) -> RunOutcome:
    started = time.monotonic()
    try:
        container = session.start_container(
            image,
            container_port=spec.container_port,
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
    url = f"{container.base_url}{spec.readiness_path}"
    with httpx.Client(timeout=2.0) as client:
        while True:
            state, exit_code = container.status()
            if state in {"exited", "dead"}:
                failure = _exited(container, spec, workspace, exit_code)
                return RunOutcome(None, failure, time.monotonic() - started)
            if container.port:
                try:
                    response = client.get(url)
                except httpx.HTTPError as exc:
                    last_answer = f"no answer ({type(exc).__name__})"
                else:
                    if response.status_code == 200:
                        return RunOutcome(container, None, time.monotonic() - started)
                    last_answer = f"HTTP {response.status_code}"
            if time.monotonic() >= deadline:
                failure = _never_ready(container, spec, workspace, last_answer)
                return RunOutcome(None, failure, time.monotonic() - started)
            time.sleep(POLL_INTERVAL_S)


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
    logs = trimmed_logs(container, spec)
    cause, hint = diagnose_logs(logs, spec, workspace)
    return Verdict.failed(
        f"The app did not answer GET {spec.readiness_path} with 200 on port "
        f"{spec.container_port} within {spec.limits.readiness_timeout_s:.0f} s "
        f"(last: {last_answer})" + (f": {cause}" if cause else "."),
        hint
        or f"Check that the server listens on 0.0.0.0, port {spec.container_port}, and that "
        f"{spec.readiness_path} answers when you run the container yourself.",
        details=logs,
    )


# The init process (tini, catatonit) or the runtime (runc, crun) cannot find the program.
_MISSING_PROGRAM = re.compile(
    r"exec (?P<tini>\S+) failed: No such file or directory"
    r"|exec: \"(?P<runc>[^\"]+)\": executable file not found in \$PATH"
)
_LISTENING = re.compile(r"running on https?://([\w.\[\]:]+?):(\d+)", re.IGNORECASE)


def diagnose_logs(logs: str, spec: ExerciseSpec, workspace: Workspace) -> tuple[str, str]:
    """Spot the classic causes in a container's output: (cause, hint), empty when unknown."""
    port = spec.container_port
    listening = _LISTENING.search(logs)
    if listening:
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
    if re.search(r"No module named '?app'?|Could not import module \"app", logs):
        return (
            "Python cannot find the `app` package",
            "Copy the app into the image (`COPY app/ ./app/`) and set `WORKDIR` to the folder "
            "that holds it before CMD.",
        )
    module = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", logs)
    if module:
        return (
            f"the package `{module.group(1)}` is not installed in the image",
            "Install the dependencies with `pip install -r requirements.txt` in the Dockerfile.",
        )
    missing = _MISSING_PROGRAM.search(logs)
    if missing:
        program = missing.group("tini") or missing.group("runc")
        return (
            f"the program `{program}` that CMD/ENTRYPOINT start does not exist in the image "
            f"(the engine said: {missing.group(0).strip()})",
            "Check the spelling of CMD, and that uvicorn is in requirements.txt.",
        )
    if re.search(r"(executable file not found|command not found|not found in \$PATH)", logs):
        return (
            "the start command does not exist in the image",
            "Check the spelling of CMD, and that uvicorn is in requirements.txt.",
        )
    if re.search(r"Resource temporarily unavailable|can't start new thread|fork", logs, re.I):
        return (
            f"the app hit the limit of {spec.limits.run_pids} processes",
            "Do not start processes in a loop; one uvicorn worker is enough.",
        )
    if "Permission denied" in logs:
        return (
            "a file or folder the app needs is not accessible to its user",
            "Give the non-root user the folders it writes to, e.g. "
            "`RUN mkdir -p /data && chown appuser /data` before `USER appuser`.",
        )
    return "", ""
