"""Showing build progress while grading: a rich live line on a terminal, plain lines in CI."""

from __future__ import annotations

import sys
import threading
import time
from typing import Protocol, TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

from grader.build_stream import StepEvent

__all__ = ["LiveProgress", "PlainProgress", "Progress", "QuietProgress", "progress_for"]


class Progress(Protocol):
    def stage(self, title: str) -> None: ...
    def build_event(self, event: StepEvent) -> None: ...
    def close(self) -> None: ...


class QuietProgress:
    def stage(self, title: str) -> None:
        pass

    def build_event(self, event: StepEvent) -> None:
        pass

    def close(self) -> None:
        pass


def _step_line(event: StepEvent) -> str:
    step = event.step
    if step is None:
        return event.text
    state = "cached" if step.cached else ("ran" if step.executed else "done")
    return f"  {step.label} {step.instruction[:70]} … {state} ({step.seconds:.1f}s)"


class PlainProgress:
    """One line per finished step: readable in CI logs."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        # The cache proof's rebuilds report from their own thread: one line at a time.
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def stage(self, title: str) -> None:
        self._line(f"[grader] {title}")

    def build_event(self, event: StepEvent) -> None:
        if event.kind == "done":
            self._line(_step_line(event))
        elif event.kind == "error":
            self._line(f"  build failed: {event.text[:300]}")

    def close(self) -> None:
        pass


class LiveProgress:
    """A live status line for the running step, finished steps printed above it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = Live(Text(""), console=console, transient=True, refresh_per_second=8)
        self.live.start()
        self._current = ""
        self._since = time.monotonic()

    def stage(self, title: str) -> None:
        self.console.print(f"[bold cyan]›[/] {title}")

    def build_event(self, event: StepEvent) -> None:
        step = event.step
        if event.kind == "start" and step is not None:
            self._current = f"{step.label} {step.instruction[:70]}"
            self._since = time.monotonic()
        elif event.kind == "done":
            colour = "green" if step is not None and step.cached else "white"
            self.console.print(Text(_step_line(event), style=colour))
        elif event.kind == "output" and event.text:
            self._current = self._current.split(" │ ")[0] + " │ " + event.text[:60]
        elif event.kind == "error":
            self.console.print(Text(f"  build failed: {event.text[:300]}", style="red"))
        elapsed = time.monotonic() - self._since
        self.live.update(Text(f"  ⏳ {self._current} ({elapsed:.0f}s)", style="dim"))

    def close(self) -> None:
        self.live.stop()


def progress_for(enabled: bool, stream: TextIO | None = None) -> Progress:
    # sys.stderr as it is now, not as it was when this module was imported.
    stream = stream if stream is not None else sys.stderr
    if not enabled:
        return QuietProgress()
    if stream.isatty():
        return LiveProgress(Console(file=stream))
    return PlainProgress(stream)
