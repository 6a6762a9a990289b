"""Reading the classic builder's JSON stream into steps, cache hits and timings.

Pure parsing: no engine here, so it is unit-tested with recorded streams. The stream
looks like ``{"stream": "Step 3/7 : COPY requirements.txt .\\n"}``, then
``{"stream": " ---> Using cache\\n"}`` for a cache hit or ``" ---> Running in <id>"``
when the step executes (an executed COPY shows neither), ``" ---> <image id>"`` when
the step's layer is ready, ``{"aux": {"ID": …}}`` at the end, or ``{"error": …}``.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BuildLog", "BuildStep", "StepEvent", "TrimmedOutput"]

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$", re.DOTALL)
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
    """1-based step number, as the builder counts them."""
    total: int
    instruction: str
    """The instruction as the builder printed it, e.g. ``RUN pip install …``."""
    cached: bool = False
    """True when the builder reused a cached layer (`` ---> Using cache``)."""
    executed: bool = False
    """True when a container ran the step (`` ---> Running in``)."""
    started_at: float = 0.0
    seconds: float = 0.0
    layer_id: str | None = None
    output: TrimmedOutput = field(default_factory=TrimmedOutput)

    @property
    def keyword(self) -> str:
        return self.instruction.split(" ", 1)[0].upper()

    def to_dict(self, line: int | None = None) -> dict[str, Any]:
        return {
            "step": self.number,
            "instruction": self.instruction,
            "line": line,
            "cached": self.cached,
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class StepEvent:
    """Something the progress display should show."""

    kind: str
    """``start`` (a step began), ``cached``, ``running``, ``output``, ``done`` or ``error``."""
    step: BuildStep | None
    text: str = ""


class BuildLog:
    """Accumulates one build's stream; :meth:`feed` returns what happened for display."""

    def __init__(self, head_lines: int = 20, tail_lines: int = 40) -> None:
        self.steps: list[BuildStep] = []
        self.image_id: str | None = None
        self.error: str | None = None
        self.error_code: int | None = None
        self.parse_error = False
        self.output = TrimmedOutput(head_lines, tail_lines)
        self._head, self._tail = head_lines, tail_lines
        self._pending = ""

    @property
    def current(self) -> BuildStep | None:
        return self.steps[-1] if self.steps else None

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.image_id is not None

    def feed(self, chunk: dict[str, Any], now: float | None = None) -> list[StepEvent]:
        now = time.monotonic() if now is None else now
        events: list[StepEvent] = []
        if "error" in chunk:
            self._finish_step(now)
            self.error = _ANSI.sub("", str(chunk.get("error", ""))).strip()
            detail = chunk.get("errorDetail") or {}
            self.error_code = detail.get("code") if isinstance(detail, dict) else None
            self.parse_error = bool(chunk.get("parse_error"))
            events.append(StepEvent("error", self.current, self.error))
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
        if self._pending:
            self._line(self._pending, time.monotonic() if now is None else now)
            self._pending = ""
        self._finish_step(time.monotonic() if now is None else now)

    def _finish_step(self, now: float) -> None:
        step = self.current
        if step is not None and step.seconds == 0.0:
            step.seconds = max(0.0, now - step.started_at)

    def _line(self, line: str, now: float) -> list[StepEvent]:
        match = _STEP.match(line)
        if match:
            self._finish_step(now)
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
        if line == " ---> Using cache" and step is not None:
            step.cached = True
            return [StepEvent("cached", step)]
        if line.startswith(" ---> Running in ") and step is not None:
            step.executed = True
            return [StepEvent("running", step)]
        layer = _LAYER_ID.match(line)
        if layer and step is not None:
            step.layer_id = layer.group(1)
            self._finish_step(now)
            return [StepEvent("done", step)]
        if line.startswith("Removing intermediate container") or line.startswith(
            ("Successfully built", "Successfully tagged")
        ):
            return []
        self.output.add(line)
        if step is not None:
            step.output.add(line)
        return [StepEvent("output", step, line)] if line.strip() else []

    def new_layer_ids(self) -> list[str]:
        """Layers this build made rather than reused (for cleaning up probe builds)."""
        return [
            s.layer_id for s in self.steps if s.layer_id and not s.cached and s.keyword != "FROM"
        ]
