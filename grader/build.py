"""The build stage: build the image under a wall-clock and a memory limit, and explain failures."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.build_stream import BuildLog, StepEvent
from grader.checks import Verdict
from grader.dockerfile import Dockerfile
from grader.engine import BuildStream, EngineSession
from grader.spec import Limits, MiB

__all__ = ["BuildOutcome", "run_build", "stream_build"]


@dataclass
class BuildOutcome:
    log: BuildLog
    tag: str | None
    """The image's tag when the build succeeded."""
    seconds: float
    timed_out: bool
    verdict: Verdict
    """The ``builds`` check."""


class _Watchdog:
    """Stops a build that runs past its wall-clock limit (the SDK only bounds inactivity)."""

    def __init__(self, stream: BuildStream, limit_s: float) -> None:
        self._stream = stream
        self._limit_s = limit_s
        self._done = threading.Event()
        self.fired = False
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        if self._done.wait(self._limit_s):
            return
        self.fired = True
        # Keep killing: the builder may have moved on to the next step meanwhile.
        while not self._done.is_set():
            self._stream.kill_running_step()
            self._done.wait(2)


def stream_build(
    session: EngineSession,
    context_dir: Path,
    *,
    tag: str | None,
    limits: Limits,
    on_event: Callable[[StepEvent], None] = lambda _event: None,
    stop_when: Callable[[BuildLog], bool] = lambda _log: False,
) -> tuple[BuildLog, bool]:
    """Run one build; stop early once ``stop_when(log)`` is true. Returns (log, timed_out)."""
    log = BuildLog(limits.output_head_lines, limits.output_tail_lines)
    stream = session.build(context_dir, tag=tag, memory_bytes=limits.build_memory_mb * MiB)
    try:
        with _Watchdog(stream, limits.build_timeout_s) as watchdog:
            for chunk in stream:
                for event in log.feed(chunk):
                    on_event(event)
                if stop_when(log):
                    break
    finally:
        # Closing the stream cancels a build that is still going (early stop, Ctrl-C).
        stream.cancel()
        log.finish()
    return log, watchdog.fired


def run_build(
    session: EngineSession,
    context_dir: Path,
    dockerfile: Dockerfile,
    *,
    tag: str,
    limits: Limits,
    on_event: Callable[[StepEvent], None] = lambda _event: None,
) -> BuildOutcome:
    started = time.monotonic()
    log, timed_out = stream_build(session, context_dir, tag=tag, limits=limits, on_event=on_event)
    seconds = time.monotonic() - started
    if log.succeeded and not timed_out:
        cached = sum(1 for s in log.steps if s.cached)
        verdict = Verdict.passed(
            f"Built in {seconds:.1f} s ({len(log.steps)} steps, {cached} from cache)."
        )
        return BuildOutcome(log, tag, seconds, False, verdict)
    return BuildOutcome(
        log, None, seconds, timed_out, explain_failure(log, dockerfile, limits, timed_out)
    )


def step_line(dockerfile: Dockerfile, step_number: int) -> int | None:
    """The learner's line of a build step (the classic builder counts every instruction)."""
    index = step_number - 1
    if 0 <= index < len(dockerfile.instructions):
        return dockerfile.instructions[index].line
    return None


_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"forbidden path outside the build context", re.I),
        "COPY and ADD can only read files inside the exercise folder; move the file in, or fix "
        "the path (no `../`).",
    ),
    (
        re.compile(
            r"(COPY failed|ADD failed).*(no such file|not found)|file not found in build "
            r"context|no source files were specified",
            re.I,
        ),
        "The file named in COPY is not in the exercise folder, or .dockerignore excludes it. "
        "Check the spelling and the path relative to the Dockerfile.",
    ),
    (
        re.compile(
            r"pull access denied|repository does not exist|manifest unknown|not found: "
            r"manifest|no such host|failed to resolve",
            re.I,
        ),
        "The base image cannot be found or pulled. Use `FROM python:3.11-slim` (the course "
        "prepares it with `make engine`).",
    ),
    (
        re.compile(r"No matching distribution found|Could not find a version that satisfies", re.I),
        "pip cannot find a package: check the names and versions in requirements.txt.",
    ),
    (
        re.compile(r"CERTIFICATE_VERIFY_FAILED", re.I),
        "pip cannot verify the package index's certificate: the base image lacks this network's "
        "CA certificates. Use the course's python:3.11-slim.",
    ),
    (
        re.compile(r"executable file not found|: not found", re.I),
        "A command in RUN does not exist in the image: install it first, or check its spelling.",
    ),
)


def explain_failure(
    log: BuildLog, dockerfile: Dockerfile, limits: Limits, timed_out: bool
) -> Verdict:
    step = log.current
    line = step_line(dockerfile, step.number) if step else None
    where = f"Step {step.number}/{step.total} `{step.instruction[:120]}`" if step else "The build"
    if line:
        where += f" (line {line})"
    tail = step.output.last_lines(15) if step else log.output.last_lines(15)
    if step and step.output.cut:
        tail = f"… [{step.output.cut} earlier lines cut]\n" + tail
    error = log.error or "the build stopped without an image"
    if timed_out:
        return Verdict.failed(
            f"{where} was still running after the build's limit of {limits.build_timeout_s:.0f} s, "
            "so it was stopped.",
            "A RUN step must finish on its own: remove commands that wait for input or run "
            "forever (servers belong in CMD, not RUN).",
            line=line,
            details=tail,
        )
    if log.parse_error:
        match = re.search(r"line (\d+)", error)
        parse_line = int(match.group(1)) if match else line
        return Verdict.failed(
            f"Docker cannot parse the Dockerfile: {error}",
            "Fix the instruction on that line; each line must start with an instruction "
            "such as FROM, RUN or COPY.",
            line=parse_line,
        )
    if log.error_code == 137 or "code: 137" in error:
        return Verdict.failed(
            f"{where} was killed (exit 137): it used more than the build's memory limit of "
            f"{limits.build_memory_mb} MB.",
            "Make the step use less memory (install fewer or lighter packages, avoid loading "
            "data during the build).",
            line=line,
            details=tail,
        )
    hint = next(
        (hint for pattern, hint in _HINTS if pattern.search(error) or pattern.search(tail)),
        "Read the output below: the last lines usually say what went wrong. Run the same "
        "command in `docker run -it python:3.11-slim bash` to try it out.",
    )
    return Verdict.failed(f"{where} failed: {error}", hint, line=line, details=tail)
