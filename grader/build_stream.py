"""Reading a build's JSON stream into steps, cache hits and timings, for either builder.

Pure parsing: no engine here, so it is unit-tested with recorded streams.

The classic builder's stream looks like ``{"stream": "Step 3/7 : COPY requirements.txt
.\\n"}``, then ``{"stream": " ---> Using cache\\n"}`` for a cache hit or ``" ---> Running
in <id>"`` when the step executes (an executed COPY shows neither), ``" ---> <image id>"``
when the step's layer is ready, ``{"aux": {"ID": …}}`` at the end, or ``{"error": …}``.

BuildKit's carries ``{"id": "moby.buildkit.trace", "aux": "<base64 protobuf>"}``
messages (decoded by :mod:`grader.engine.buildkit_trace`): vertexes named
``[2/6] RUN pip install …`` (``[builder 3/4] …`` in a named stage) with a per-step
``cached`` flag and start/completion times, and the steps' output as logs; the image
id comes as ``{"id": "moby.image.id", "aux": {"ID": …}}``.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from grader.engine.buildkit_trace import TraceUpdate, decode_trace

__all__ = ["BuildLog", "BuildStep", "StepEvent", "TrimmedOutput"]

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$", re.DOTALL)
# Podman (buildah) behind the Docker-compatible API: "STEP 3/7: COPY …", prefixed with
# "[2/2] " (the stage) in a multi-stage build; "--> Using cache <id>" for a hit.
_PODMAN_STEP = re.compile(r"^(?:\[(\d+)/\d+\] )?STEP (\d+)/(\d+): (.*)$", re.DOTALL)
_PODMAN_CACHED = re.compile(r"^--> Using cache [0-9a-f]{12,64}$")
_PODMAN_LAYER = re.compile(r"^--> ([0-9a-f]{12,64})$")
_BARE_ID = re.compile(r"^[0-9a-f]{64}$")
# BuildKit pads the number to the width of the total: "[ 2/12] RUN …".
_VERTEX_STEP = re.compile(
    r"^\[(?:(?P<stage>[^\s\]]+) )?\s*(?P<n>\d+)/(?P<total>\d+)\] (?P<text>.*)$", re.DOTALL
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LAYER_ID = re.compile(r"^ ---> ([0-9a-f]{12,64})$")
MAX_LINE_CHARS = 2000


class TrimmedOutput:
    """Keeps the first ``head`` and last ``tail`` lines of a stream of any length."""

    def __init__(self, head: int = 20, tail: int = 40) -> None:
        self.head_limit = head
        self.head: list[str] = []
        self.tail: deque[str] = deque(maxlen=tail)
        self.total = 0

    def add(self, line: str) -> None:
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + f" … [{len(line) - MAX_LINE_CHARS} characters cut]"
        self.total += 1
        if len(self.head) < self.head_limit:
            self.head.append(line)
        else:
            self.tail.append(line)

    @property
    def cut(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        lines = list(self.head)
        if self.cut:
            lines.append(f"… [{self.cut} lines cut] …")
        lines += list(self.tail)
        return "\n".join(lines)

    def last_lines(self, count: int) -> str:
        lines = (list(self.head) + list(self.tail))[-count:]
        return "\n".join(lines)


@dataclass
class BuildStep:
    number: int
    """1-based step number, as the builder counts them (BuildKit: within the stage)."""
    total: int
    instruction: str
    """The instruction as the builder printed it, e.g. ``RUN pip install …``."""
    stage: str | None = None
    """BuildKit's stage label (``builder``, ``stage-1``); None in a single stage or classic."""
    cached: bool = False
    """True when the builder reused a cached layer (`` ---> Using cache`` / BuildKit's flag)."""
    executed: bool = False
    """True when the step ran (`` ---> Running in``; BuildKit: started, not cached)."""
    started_at: float = 0.0
    """When the grader saw the step start (its monotonic clock)."""
    seconds: float = 0.0
    engine_started: float | None = None
    """BuildKit: when the engine started the vertex (seconds since the epoch, the engine's
    clock; a cached vertex has one too). None with the classic builder."""
    layer_id: str | None = None
    error: str = ""
    """BuildKit's error for this step, when it failed."""
    dialect: str = "classic"
    """Whose numbering this is: ``classic`` (Docker's classic builder, every instruction of
    the file counted), ``buildkit`` (per stage, only FROM/RUN/COPY/ADD/WORKDIR) or
    ``podman`` (buildah: every instruction, per stage)."""

    @property
    def key_is_vertex(self) -> bool:
        """True for BuildKit steps (identified by a vertex digest, not a number)."""
        return self.dialect == "buildkit"

    output: TrimmedOutput = field(default_factory=TrimmedOutput)

    @property
    def keyword(self) -> str:
        return self.instruction.split(" ", 1)[0].upper()

    @property
    def label(self) -> str:
        """How the builder names the step: ``Step 3/7`` or ``[builder 2/4]``."""
        if self.dialect == "podman":
            return f"STEP {self.number}/{self.total}"
        if self.stage is None and not self.key_is_vertex:
            return f"Step {self.number}/{self.total}"
        return f"[{self.stage + ' ' if self.stage else ''}{self.number}/{self.total}]"


@dataclass(frozen=True)
class StepEvent:
    """Something the progress display should show."""

    kind: str
    """``start`` (a step began), ``cached``, ``running``, ``output``, ``done`` or ``error``."""
    step: BuildStep | None
    text: str = ""


class BuildLog:
    """Accumulates one build's stream; :meth:`feed` returns what happened for display."""

    def __init__(
        self, head_lines: int = 20, tail_lines: int = 40, builder: str = "classic"
    ) -> None:
        self.builder = builder
        """``classic`` or ``buildkit``: which stream format :meth:`feed` reads."""
        self.steps: list[BuildStep] = []
        self.warnings: list[str] = []
        self._vertexes: dict[str, BuildStep] = {}
        self._vertexes_done: set[str] = set()
        self._last_started: BuildStep | None = None
        self._vertex_pending: dict[str, str] = {}
        self.image_id: str | None = None
        self.error: str | None = None
        self.error_code: int | None = None
        self.parse_error = False
        self.output = TrimmedOutput(head_lines, tail_lines)
        self._head, self._tail = head_lines, tail_lines
        self._pending = ""

    @property
    def current(self) -> BuildStep | None:
        """The step that started last (BuildKit announces steps before it starts them)."""
        if self._last_started is not None:
            return self._last_started
        return self.steps[-1] if self.steps else None

    @property
    def failed_step(self) -> BuildStep | None:
        """The step to blame for a failure: the one that reported an error, else the last."""
        return next((s for s in reversed(self.steps) if s.error), None) or self.current

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.image_id is not None

    def feed(self, chunk: dict[str, Any], now: float | None = None) -> list[StepEvent]:
        now = time.monotonic() if now is None else now
        if self.builder == "buildkit" and "error" not in chunk:
            return self._feed_buildkit(chunk, now)
        events: list[StepEvent] = []
        if "error" in chunk:
            self._finish_step(now)
            self.error = _ANSI.sub("", str(chunk.get("error", ""))).strip()
            detail = chunk.get("errorDetail") or {}
            self.error_code = detail.get("code") if isinstance(detail, dict) else None
            self.parse_error = bool(chunk.get("parse_error"))
            events.append(StepEvent("error", self.failed_step, self.error))
            return events
        aux = chunk.get("aux")
        if isinstance(aux, dict) and "ID" in aux:
            self.image_id = str(aux["ID"])
        text = chunk.get("stream")
        if not isinstance(text, str):
            return events
        self._pending += _ANSI.sub("", text)
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            events += self._line(line.rstrip("\r"), now)
        return events

    def finish(self, now: float | None = None) -> None:
        """Close the last step's timing (call once the stream has ended)."""
        now = time.monotonic() if now is None else now
        if self._pending:
            self._line(self._pending, now)
            self._pending = ""
        for digest, text in list(self._vertex_pending.items()):
            if text:
                self._vertex_output(digest, text)
        self._vertex_pending.clear()
        if self.builder == "buildkit":
            for step in self.steps:
                if step.executed and step.seconds == 0.0:
                    step.seconds = max(0.0, now - step.started_at)
            return
        self._finish_step(now)

    # --- BuildKit -------------------------------------------------------------------------

    def _feed_buildkit(self, chunk: dict[str, Any], now: float) -> list[StepEvent]:
        aux = chunk.get("aux")
        if chunk.get("id") == "moby.image.id" and isinstance(aux, dict) and "ID" in aux:
            self.image_id = str(aux["ID"])
            return []
        if chunk.get("id") != "moby.buildkit.trace":
            # "Successfully tagged …" and similar plain lines.
            text = chunk.get("stream")
            if isinstance(text, str) and text.strip() and not text.startswith("Successfully"):
                self.output.add(_ANSI.sub("", text).rstrip("\n"))
            return []
        update = decode_trace(aux)
        return self._apply_trace(update, now) if update is not None else []

    def _apply_trace(self, update: TraceUpdate, now: float) -> list[StepEvent]:
        events: list[StepEvent] = []
        for vertex in update.vertexes:
            step = self._vertexes.get(vertex.digest)
            if step is None:
                match = _VERTEX_STEP.match(vertex.name)
                if match is None:
                    # "[internal] load metadata …", "exporting to image": not Dockerfile steps,
                    # but their errors (a base image that cannot be found) still count.
                    if vertex.error:
                        self.output.add(f"{vertex.name}: {vertex.error}")
                    continue
                step = BuildStep(
                    number=int(match.group("n")),
                    total=int(match.group("total")),
                    instruction=" ".join(match.group("text").split()),
                    stage=match.group("stage"),
                    started_at=now,
                    output=TrimmedOutput(self._head, self._tail),
                    dialect="buildkit",
                )
                self._vertexes[vertex.digest] = step
                self.steps.append(step)
            events += self._vertex_changed(step, vertex, now)
            if (
                vertex.completed is not None
                and (step.cached or step.executed)
                and vertex.digest not in self._vertexes_done
            ):
                self._vertexes_done.add(vertex.digest)
                events.append(StepEvent("done", step))
        for log in update.logs:
            pending = self._vertex_pending.get(log.vertex, "") + _ANSI.sub("", log.text)
            *lines, rest = pending.split("\n")
            self._vertex_pending[log.vertex] = rest
            for line in lines:
                events += self._vertex_output(log.vertex, line)
        self.warnings += [w.text for w in update.warnings if w.text]
        return events

    def _vertex_changed(self, step: BuildStep, vertex: Any, now: float) -> list[StepEvent]:
        events: list[StepEvent] = []
        if vertex.cached and not step.cached:
            # BuildKit reports a cache hit as started and cached at once.
            step.cached, step.executed = True, False
            step.seconds = 0.0
            events += [StepEvent("start", step), StepEvent("cached", step)]
        elif vertex.started is not None and not vertex.cached and not step.executed:
            step.executed = True
            step.started_at = now
            self._last_started = step
            events += [StepEvent("start", step), StepEvent("running", step)]
        if vertex.started is not None and step.engine_started is None:
            step.engine_started = vertex.started
        if vertex.error and not step.error:
            step.error = vertex.error
        if vertex.completed is not None and vertex.started is not None and not step.cached:
            step.seconds = max(0.0, vertex.completed - vertex.started)
        return events

    def _vertex_output(self, digest: str, line: str) -> list[StepEvent]:
        line = line.rstrip("\r")
        step = self._vertexes.get(digest)
        self.output.add(line)
        if step is not None:
            step.output.add(line)
        return [StepEvent("output", step, line)] if line.strip() else []

    def _finish_step(self, now: float) -> None:
        step = self.current
        if step is not None and step.seconds == 0.0:
            step.seconds = max(0.0, now - step.started_at)

    def _line(self, line: str, now: float) -> list[StepEvent]:
        match = _STEP.match(line)
        podman = None if match else _PODMAN_STEP.match(line)
        if match or podman:
            self._finish_step(now)
            if podman:
                stage = int(podman.group(1)) - 1 if podman.group(1) else None
                step = BuildStep(
                    number=int(podman.group(2)),
                    total=int(podman.group(3)),
                    instruction=podman.group(4).strip(),
                    stage=f"stage-{stage}" if stage is not None else None,
                    started_at=now,
                    output=TrimmedOutput(self._head, self._tail),
                    dialect="podman",
                )
            else:
                assert match is not None
                step = BuildStep(
                    number=int(match.group(1)),
                    total=int(match.group(2)),
                    instruction=match.group(3).strip(),
                    started_at=now,
                    output=TrimmedOutput(self._head, self._tail),
                )
            self.steps.append(step)
            return [StepEvent("start", step)]
        step = self.current
        if step is not None and (line == " ---> Using cache" or _PODMAN_CACHED.match(line)):
            step.cached = True
            return [StepEvent("cached", step)]
        if line.startswith(" ---> Running in ") and step is not None:
            step.executed = True
            return [StepEvent("running", step)]
        layer = _LAYER_ID.match(line) or _PODMAN_LAYER.match(line)
        if layer and step is not None:
            step.layer_id = layer.group(1)
            if step.dialect == "podman" and not step.cached and step.keyword == "RUN":
                step.executed = True  # a RUN that printed nothing
            self._finish_step(now)
            return [StepEvent("done", step)]
        if line.startswith(("Removing intermediate container", "Successfully built")) or (
            line.startswith("Successfully tagged") or line == "COMMIT" or _BARE_ID.match(line)
        ):
            return []
        self.output.add(line)
        events: list[StepEvent] = []
        if step is not None:
            step.output.add(line)
            if step.dialect == "podman" and not (step.cached or step.executed):
                # buildah announces no "Running in": output means the step runs.
                step.executed = True
                events.append(StepEvent("running", step))
        return [*events, StepEvent("output", step, line)] if line.strip() else events

    def started_offset(self, step: BuildStep) -> float | None:
        """Seconds from the first step's start to ``step``'s, for a timeline.

        BuildKit's are the engine's own vertex start times (steps of different stages can
        overlap); the classic builder's (and buildah's) are when each ``Step N/M`` line
        arrived, so the steps follow one another. None when BuildKit gave no start time
        for the step (it never started).
        """
        if self.builder == "buildkit":
            starts = [s.engine_started for s in self.steps if s.engine_started is not None]
            if step.engine_started is None:
                return None
            return max(0.0, step.engine_started - min(starts))
        return max(0.0, step.started_at - min(s.started_at for s in self.steps))

    def new_layer_ids(self) -> list[str]:
        """Layers this build made rather than reused (for cleaning up probe builds)."""
        return [
            s.layer_id for s in self.steps if s.layer_id and not s.cached and s.keyword != "FROM"
        ]
