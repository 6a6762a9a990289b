"""The build stage: build the image under a wall-clock and a memory limit, and explain failures."""

from __future__ import annotations

import enum
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from grader.build_stream import BuildLog, BuildStep, StepEvent
from grader.checks.base import Verdict
from grader.dockerfile import Dockerfile, Instruction
from grader.engine import EngineSession
from grader.engine.builders import BuilderKind, BuildHandle
from grader.errors import SubmissionError
from grader.results import BuildStepResult
from grader.spec import Limits, MiB

__all__ = [
    "BuildOutcome",
    "BuildStop",
    "instruction_of",
    "run_build",
    "step_results",
    "stream_build",
]


@dataclass
class BuildOutcome:
    log: BuildLog
    tag: str | None
    """The image's tag when the build succeeded."""
    seconds: float
    stopped: BuildStop | None
    """Why the grader stopped the build, when it did."""
    verdict: Verdict
    """The ``builds`` check."""


class BuildStop(enum.StrEnum):
    """Why the grader stopped a build before it ended."""

    WALL_CLOCK = "wall_clock"
    """It ran past ``build_timeout_s``."""
    INACTIVE = "inactive"
    """It was quiet for ``build_inactivity_s``: see :class:`_Watchdog`."""


BUSY_CPU_FRACTION = 0.05
"""A step container using more than this share of one CPU is busy, however quiet."""
CPU_SAMPLE_S = 5.0


class _Watchdog:
    """Stops a build that runs past its wall-clock limit, or that stays quiet too long.

    Quiet means: no message at all on the build's stream (no step starting or ending,
    no line of output, no progress) for ``build_inactivity_s`` and, where the running
    step's container can be seen, no CPU use either. The classic builder names that
    container (``---> Running in <id>``) and the engine's stats give its CPU time,
    sampled every few seconds: more than 5 % of one CPU counts as activity, so a long
    silent compile is not stopped. BuildKit's step containers are its own and not
    visible through the Engine API: with it, only the stream is measured (measured on
    Engine 20.10: a silent ``RUN`` sends no message at all until it ends), so a step
    that computes silently for longer than the window is stopped there (measured: a
    14 s silent busy loop with a 4 s window builds with the classic builder and is
    stopped by BuildKit). The default window, 120 s, is far above the silences of
    ``pip install`` without ``-q``. The socket has no limit of its own: this thread is
    the only clock.
    """

    def __init__(
        self,
        stream: BuildHandle,
        limit_s: float,
        inactivity_s: float,
        cpu_seconds: Callable[[str], float | None] = lambda _container: None,
    ) -> None:
        self._stream = stream
        self._limit_s = limit_s
        self._inactivity_s = inactivity_s
        self._cpu_seconds = cpu_seconds
        self._done = threading.Event()
        self._last_activity = time.monotonic()
        self.fired: BuildStop | None = None
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def touch(self) -> None:
        """The build said something: it is active."""
        self._last_activity = time.monotonic()

    def _cpu_busy(self, sample: dict[str, float], now: float) -> bool:
        """Whether the current step's container used CPU since the last sample."""
        container = getattr(self._stream, "step_container", None)
        if not container:
            return False
        used = self._cpu_seconds(container)
        if used is None:
            return False
        before, then = sample.get(container), sample.get("at", now)
        sample.clear()
        sample.update({container: used, "at": now})
        return before is not None and used - before > BUSY_CPU_FRACTION * (now - then)

    def _watch(self) -> None:
        started = time.monotonic()
        sample: dict[str, float] = {}
        # Sampled several times per window, so that a busy step is seen in time.
        every = min(CPU_SAMPLE_S, self._inactivity_s / 4)
        next_sample = started + every
        while not self._done.wait(min(1.0, self._inactivity_s / 4)):
            now = time.monotonic()
            if now >= next_sample:
                next_sample = now + every
                if self._cpu_busy(sample, now):
                    self.touch()
            if now - started >= self._limit_s:
                self.fired = BuildStop.WALL_CLOCK
            elif now - self._last_activity >= self._inactivity_s:
                self.fired = BuildStop.INACTIVE
            else:
                continue
            # Closing the connection from here unblocks the reading thread and makes the
            # engine cancel the build, with either builder.
            self._stream.cancel()
            return


def stream_build(
    session: EngineSession,
    context_dir: Path,
    *,
    tag: str | None,
    limits: Limits,
    builder: BuilderKind,
    on_event: Callable[[StepEvent], None] = lambda _event: None,
    stop_when: Callable[[BuildLog], bool] = lambda _log: False,
) -> tuple[BuildLog, BuildStop | None]:
    """Run one build; stop early once ``stop_when(log)`` is true. Returns the log and why
    the watchdog stopped the build (None when it did not)."""
    log = BuildLog(limits.output_head_lines, limits.output_tail_lines, builder=builder.value)
    stream = session.build(
        context_dir, tag=tag, memory_bytes=limits.build_memory_mb * MiB, builder=builder
    )
    watchdog = _Watchdog(
        stream, limits.build_timeout_s, limits.build_inactivity_s, session.container_cpu_seconds
    )
    try:
        with watchdog:
            for chunk in stream:
                watchdog.touch()
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
    builder: BuilderKind,
    base_image: str,
    dependency_file: str,
    on_event: Callable[[StepEvent], None] = lambda _event: None,
) -> BuildOutcome:
    """Build the image; ``base_image`` and ``dependency_file`` (the exercise's) are what
    the hints of a failed build name."""
    refused = _unbuildable_here(session, dockerfile, builder, dependency_file)
    if refused is not None:
        return BuildOutcome(BuildLog(builder=builder.value), None, 0.0, None, refused)
    started = time.monotonic()
    try:
        log, stopped = stream_build(
            session, context_dir, tag=tag, limits=limits, builder=builder, on_event=on_event
        )
    except SubmissionError as exc:
        # The context cannot be sent as `docker build` would send it (a pattern the CLI
        # refuses, a name a tar cannot hold): the learner's to fix.
        verdict = Verdict.failed(exc.message, exc.hint, file=_blamed_file(exc.message))
        return BuildOutcome(BuildLog(builder=builder.value), None, 0.0, None, verdict)
    note = ""
    if not log.succeeded and not stopped and _frontend_not_pulled(log, dockerfile, builder):
        # Offline, the frontend image a `# syntax=` line names cannot be pulled; the
        # engine's built-in frontend builds most files: grade with it rather than fail.
        note = _drop_syntax_directive(context_dir, dockerfile)
        log, stopped = stream_build(
            session, context_dir, tag=tag, limits=limits, builder=builder, on_event=on_event
        )
    seconds = time.monotonic() - started
    if log.succeeded and not stopped:
        cached = sum(1 for s in log.steps if s.cached)
        verdict = Verdict.passed(
            f"Built with {builder.title} in {seconds:.1f} s ({len(log.steps)} steps, "
            f"{cached} from cache).{note}"
        )
        return BuildOutcome(log, tag, seconds, None, verdict)
    verdict = explain_failure(
        log, dockerfile, limits, stopped, base_image=base_image, dependency_file=dependency_file
    )
    if note:
        verdict = replace(verdict, message=verdict.message + note)
    return BuildOutcome(log, None, seconds, stopped, verdict)


def _blamed_file(message: str) -> str:
    return ".dockerignore" if ".dockerignore" in message else "Dockerfile"


def _unbuildable_here(
    session: EngineSession, dockerfile: Dockerfile, builder: BuilderKind, dependency_file: str
) -> Verdict | None:
    """Syntax this builder cannot read: one clear failed check instead of a parse error."""
    if builder is BuilderKind.CLASSIC:
        features = dockerfile.buildkit_only_features()
        if not features:
            return None
        line, what = features[0]
        return Verdict.failed(
            f"Line {line} uses {what}, which needs BuildKit; this grade uses the classic "
            f"builder ({session.describe()} offers no BuildKit, or it was asked for with "
            "`--builder classic`).",
            "Grade on an engine with BuildKit (Docker Engine 23+, Docker Desktop) with "
            "`--builder auto`, or write the step without BuildKit syntax (e.g. `COPY "
            f"{dependency_file} .` then `RUN pip install --no-cache-dir -r {dependency_file}`).",
            line=line,
        )
    if dockerfile.heredoc_lines and not session.features().frontend_has_heredocs:
        line = dockerfile.heredoc_lines[0]
        return Verdict.failed(
            f"Line {line} uses a heredoc (`<<EOF`), which the Dockerfile frontend built into "
            f"{session.describe()} cannot read (heredocs need Docker Engine 23 or newer).",
            "Grade on Docker Engine 23+ / Docker Desktop, or write the commands on one RUN "
            "line joined with `&&` (continue lines with `\\`).",
            line=line,
        )
    return None


# Engine 20.10: "failed to solve with frontend gateway.v0: … dockerfile:1 …";
# Engine 26: "failed to resolve source metadata for docker.io/docker/dockerfile:1: …".
_FRONTEND_PULL = re.compile(
    r"frontend gateway|resolve (?:image config|source metadata) for \S*dockerfile", re.I
)


def _frontend_not_pulled(log: BuildLog, dockerfile: Dockerfile, builder: BuilderKind) -> bool:
    if builder is not BuilderKind.BUILDKIT or dockerfile.syntax_directive is None:
        return False
    return bool(_FRONTEND_PULL.search(log.error or ""))


def _drop_syntax_directive(context_dir: Path, dockerfile: Dockerfile) -> str:
    """Turn the directive into a plain comment in the private copy (line numbers kept)."""
    assert dockerfile.syntax_directive is not None
    line, value = dockerfile.syntax_directive
    path = context_dir / "Dockerfile"
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    lines[line - 1] = "# (syntax directive set aside by the grader)\n"
    path.write_text("".join(lines), encoding="utf-8")
    return (
        f" Line {line} asks for the Dockerfile frontend `{value}`, which cannot be pulled "
        "here (no registry): the file was built with the engine's built-in frontend instead."
    )


def instruction_of(dockerfile: Dockerfile, step: BuildStep) -> Instruction | None:
    """The learner's instruction behind a builder's step, or None when unsure."""
    if step.dialect == "buildkit":
        return dockerfile.buildkit_step(step.stage, step.number, step.instruction)
    if step.dialect == "podman":
        return _podman_step(dockerfile, step)
    return dockerfile.classic_step(step.number)


def _podman_step(dockerfile: Dockerfile, step: BuildStep) -> Instruction | None:
    """buildah counts every instruction, per stage in a multi-stage file; the step's own
    text must agree, or no line is claimed."""
    stage = int(step.stage.removeprefix("stage-")) if step.stage else 0
    # ARGs before the first FROM belong to no stage's steps.
    first_from = next((i.line for i in dockerfile.instructions if i.keyword == "FROM"), 0)
    instructions = [i for i in dockerfile.stage(stage) if i.line >= first_from]
    if not 0 < step.number <= len(instructions):
        return None
    candidate = instructions[step.number - 1]
    said = " ".join(step.instruction.split())
    if candidate.keyword != step.keyword or not said.upper().startswith(candidate.keyword):
        return None
    return candidate


def step_line(dockerfile: Dockerfile, step: BuildStep) -> int | None:
    """The learner's line of a build step."""
    instruction = instruction_of(dockerfile, step)
    return instruction.line if instruction else None


def step_results(
    log: BuildLog, dockerfile: Dockerfile, install: Instruction | None
) -> tuple[BuildStepResult, ...]:
    """The build's steps for the report; ``install`` is the dependency install the cache
    proof watches (its step is marked, matched to the learner's line the same way)."""
    results = []
    for step in log.steps:
        instruction = instruction_of(dockerfile, step)
        started = log.started_offset(step)
        results.append(
            BuildStepResult(
                step=step.number,
                instruction=step.instruction,
                stage=step.stage,
                line=instruction.line if instruction else None,
                cached=step.cached,
                seconds=round(step.seconds, 2),
                started=round(started, 2) if started is not None else None,
                install=install is not None and instruction == install,
            )
        )
    return tuple(results)


# Templates: `{base_image}` and `{dependency_file}` are the exercise's.
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"forbidden path outside the build context", re.I),
        "COPY and ADD can only read files inside the exercise folder; move the file in, or fix "
        "the path (no `../`).",
    ),
    (
        re.compile(
            r"(COPY failed|ADD failed).*(no such file|not found)|file not found in build "
            r"context|no source files were specified|failed to compute cache key: .*not found|"
            r"failed to calculate checksum of ref .*not found|"
            r"checking on sources under .*no such file",
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
        "The base image cannot be found or pulled. Use `FROM {base_image}` (the course "
        "prepares it with `make engine`).",
    ),
    (
        re.compile(r"No matching distribution found|Could not find a version that satisfies", re.I),
        "pip cannot find a package: check the names and versions in {dependency_file}.",
    ),
    (
        re.compile(r"CERTIFICATE_VERIFY_FAILED", re.I),
        "pip cannot verify the package index's certificate: the base image lacks this network's "
        "CA certificates. Use the course's {base_image}.",
    ),
    (
        re.compile(r"executable file not found|: not found", re.I),
        "A command in RUN does not exist in the image: install it first, or check its spelling.",
    ),
)


def explain_failure(
    log: BuildLog,
    dockerfile: Dockerfile,
    limits: Limits,
    stopped: BuildStop | None = None,
    *,
    base_image: str,
    dependency_file: str,
) -> Verdict:
    """The ``builds`` verdict on a failed build; its hints name ``base_image`` and
    ``dependency_file``, the exercise's."""
    step = log.failed_step
    line = step_line(dockerfile, step) if step else None
    where = f"{step.label} `{step.instruction[:120]}`" if step else "The build"
    if line:
        where += f" (line {line})"
    tail = step.output.last_lines(15) if step else log.output.last_lines(15)
    if step and step.output.cut:
        tail = f"… [{step.output.cut} earlier lines cut]\n" + tail
    error = log.error or "the build stopped without an image"
    if stopped is BuildStop.INACTIVE:
        quiet = limits.build_inactivity_s
        measured = (
            "produced no output and used no CPU"
            if log.builder == BuilderKind.CLASSIC
            else "produced no output (no line printed, no step started or finished)"
        )
        return Verdict.failed(
            f"{where} {measured} for {quiet:.0f} s, so it was stopped (the build may take "
            f"{limits.build_timeout_s:.0f} s in all, but no step may stay silent that long).",
            "A RUN step must finish on its own: remove commands that wait for input or run "
            "forever (`sleep`, `tail -f`, a server: servers belong in CMD, not RUN). A step "
            "that works silently for minutes should print progress.",
            line=line,
            details=tail,
        )
    if stopped is not None:
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
        # BuildKit takes no memory limit through the Engine API: there the engine's own
        # memory ran out.
        limit = (
            "the memory the engine has"
            if log.builder == BuilderKind.BUILDKIT
            else f"the build's memory limit of {limits.build_memory_mb} MB"
        )
        return Verdict.failed(
            f"{where} was killed (exit 137): it used more than {limit}.",
            "Make the step use less memory (install fewer or lighter packages, avoid loading "
            "data during the build).",
            line=line,
            details=tail,
        )
    hint = next(
        (hint for pattern, hint in _HINTS if pattern.search(error) or pattern.search(tail)),
        "Read the output below: the last lines usually say what went wrong. Run the same "
        "command in `docker run -it {base_image} bash` to try it out.",
    ).format(base_image=base_image, dependency_file=dependency_file)
    instruction = instruction_of(dockerfile, step) if step else None
    if instruction is not None and any(
        source.startswith("..") for source in instruction.copy_sources()
    ):
        # BuildKit reads `../x` as `/x` inside the context and reports it missing; the
        # classic builder says "forbidden path": either way the cause is the `..`.
        hint = _HINTS[0][1]
    return Verdict.failed(f"{where} failed: {error}", hint, line=line, details=tail)
