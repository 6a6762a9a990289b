"""Helpers for the lesson notebooks: builds as learners see them, and images' layers.

The lessons run on whatever engine a learner has: Docker Desktop or Docker Engine 25–29
(BuildKit; ``docker save`` in the OCI layout, gzip-compressed layers with the containerd
image store), an older Engine (the classic builder, the legacy ``docker save`` layout), or
Podman (Buildah behind a Docker-compatible API). What differs between them lives here, in
tested code, so that a lesson's cells stay about Docker rather than about engines:

* :class:`BuildOutput` reads the progress a ``docker build`` prints, in all three dialects:
  BuildKit's plain progress (``#8 [4/5] RUN …`` then ``#8 CACHED`` or ``#8 DONE 1.6s``),
  the classic builder's (``Step 4/7 : RUN …`` then `` ---> Using cache``) and Podman's
  (``STEP 4/7: RUN …`` then ``--> Using cache <id>``).
* :func:`choose_builder` picks how a lesson runs ``docker build``: with BuildKit where the
  engine and a ``docker`` CLI on PATH offer it, as on a learner's machine; otherwise with
  the builder the engine has, and says why.
* :func:`saved_image` opens what ``docker save`` writes, in any of its layouts, layer by layer.
* :func:`layer_history` names each layer of ``docker history`` the same way on every engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.engine import host as engine_host
from grader.engine.builders import EngineFeatures
from grader.engine.image_layers import EntryKind, Layer, LayerEntry, SavedImage
from grader.engine.session import BASE_IMAGE, engine_errors, publish_host_for, run_to_completion
from grader.errors import EngineRefused, NotFoundOnEngine

__all__ = [
    "BUILTIN_BUILDKIT_SILENCE",
    "LOST_SNAPSHOT",
    "BuildOutput",
    "BuildResult",
    "BuildStep",
    "Builder",
    "EngineAtStart",
    "EntryKind",
    "Layer",
    "LayerEntry",
    "LessonEnd",
    "LessonObjects",
    "SavedImage",
    "begin_lesson",
    "choose_builder",
    "docker_clis",
    "end_lesson",
    "engine_name",
    "engine_sees_folder",
    "find_lesson_objects",
    "history_instruction",
    "host_address",
    "layer_history",
    "learners_container",
    "learners_volume",
    "lesson_prefix",
    "parse_build_output",
    "remove_earlier_runs",
    "remove_lesson_objects",
    "saved_image",
]

# --- reading build output -------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# BuildKit pads the step number to the width of the total ("[ 2/12]") and names the stage
# in multi-stage builds ("[builder 2/4]", "[stage-1 3/3]").
_BUILDKIT_STEP = re.compile(
    r"^#(?P<id>\d+) \[(?:(?P<stage>[^\s\]]+) )?\s*(?P<n>\d+)/(?P<total>\d+)\] (?P<text>.*)$"
)
_BUILDKIT_LINE = re.compile(r"^#(?P<id>\d+) (?P<rest>.*)$")
_BUILDKIT_DONE = re.compile(r"^DONE (?P<seconds>\d+(?:\.\d+)?)s$")
_BUILDKIT_OUTPUT = re.compile(r"^\d+\.\d+ (?P<text>.*)$")
_CLASSIC_STEP = re.compile(r"^Step (?P<n>\d+)/(?P<total>\d+) : (?P<text>.*)$")
_CLASSIC_LAYER = re.compile(r"^ ---> [0-9a-f]{12,64}$")
# Podman names the stage only in multi-stage builds: "[2/2] STEP 1/4: FROM …".
_PODMAN_STEP = re.compile(
    r"^(?:\[(?P<stage>\d+/\d+)\] )?STEP (?P<n>\d+)/(?P<total>\d+): (?P<text>.*)$"
)
_PODMAN_LAYER = re.compile(r"^--> [0-9a-f]{12,64}$")
_IMAGE_ID = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class BuildStep:
    """One step of a build, as the builder printed it."""

    number: int
    """1-based; BuildKit counts within the stage and only the steps that make a layer."""
    total: int
    instruction: str
    """The instruction as printed, e.g. ``RUN pip install -r requirements.txt``."""
    stage: str | None = None
    """BuildKit's stage name (``builder``, ``stage-1``) or Podman's ``1/2``; None in a
    single-stage build and with the classic builder."""
    cached: bool = False
    """The builder reused the step's layer from its cache."""
    seconds: float = 0.0
    """How long the step took: BuildKit's own ``DONE`` time, else the time between the
    step's first line and the next step's (0 when the output was not timed)."""
    error: str = ""
    output: list[str] = field(default_factory=list)
    """What the step printed (a RUN's output)."""
    dialect: str = "classic"
    """``buildkit``, ``classic`` or ``podman``: whose output the step came from."""
    started_at: float | None = None
    ended_at: float | None = None

    @property
    def keyword(self) -> str:
        return self.instruction.split(" ", 1)[0].upper()

    @property
    def label(self) -> str:
        """The step's number as the builder prints it: ``[builder 2/4]``, ``Step 2/7``,
        ``STEP 2/7`` (``[2/2] STEP 1/4`` in a multi-stage build)."""
        if self.dialect == "buildkit":
            where = f"{self.stage} " if self.stage else ""
            return f"[{where}{self.number}/{self.total}]"
        if self.dialect == "podman":
            where = f"[{self.stage}] " if self.stage else ""
            return f"{where}STEP {self.number}/{self.total}"
        return f"Step {self.number}/{self.total}"


class BuildOutput:
    """Reads a ``docker build``'s printed output, line by line, in any of the three dialects.

    Feed it each line (with the time it arrived, to time the classic and Podman steps),
    or hand a whole recorded output to :func:`parse_build_output`.
    """

    def __init__(self) -> None:
        self.dialect: str | None = None
        """``buildkit``, ``classic`` or ``podman``: the first step line decides."""
        self._steps: list[BuildStep] = []
        self._vertexes: dict[str, BuildStep] = {}
        self.errors: list[str] = []
        self.step_lines: list[str] = []
        """The lines about the steps themselves (start, cache hit, end, error), not the
        steps' own output nor the builder's housekeeping: the gist of a build."""

    @property
    def steps(self) -> list[BuildStep]:
        """The steps in Dockerfile order.

        BuildKit runs independent steps in parallel and prints them as they come; its
        numbers, stage by stage (in the order the stages first appear), give the order.
        """
        if self.dialect != "buildkit":
            return list(self._steps)
        stages: dict[str | None, int] = {}
        for step in self._steps:
            stages.setdefault(step.stage, len(stages))
        return sorted(self._steps, key=lambda s: (stages[s.stage], s.number))

    def feed(self, line: str, at: float | None = None) -> None:
        line = _ANSI.sub("", line).rstrip("\r\n").replace("\r", "")
        if self.dialect in (None, "buildkit") and line.startswith("#") and self._buildkit(line, at):
            return
        if self.dialect in (None, "classic") and self._classic(line, at):
            return
        if self.dialect in (None, "podman") and self._podman(line, at):
            return
        if line.strip() and self._steps and self.dialect != "buildkit":
            self._steps[-1].output.append(line)

    def finish(self, at: float | None = None) -> None:
        """The output has ended: close the timing of the last step."""
        if self._steps and self.dialect != "buildkit":
            self._close(self._steps[-1], at)

    # BuildKit: every line starts with its vertex's "#N"; a step's header line comes first
    # (and comes again when its output resumes after another vertex's lines).
    def _buildkit(self, line: str, at: float | None) -> bool:
        header = _BUILDKIT_STEP.match(line)
        if header:
            self.dialect = "buildkit"
            if header["id"] not in self._vertexes:
                step = BuildStep(
                    number=int(header["n"]),
                    total=int(header["total"]),
                    instruction=" ".join(header["text"].split()),
                    stage=header["stage"],
                    dialect="buildkit",
                    started_at=at,
                )
                self._vertexes[header["id"]] = step
                self._steps.append(step)
                self.step_lines.append(line)
            return True
        status = _BUILDKIT_LINE.match(line)
        if status is None:
            return False
        step = self._vertexes.get(status["id"])
        if step is None:
            # "[internal] load build context", "exporting to image" …: not Dockerfile steps.
            if status["rest"].startswith("ERROR"):
                self.errors.append(status["rest"].removeprefix("ERROR").lstrip(": "))
            return self.dialect == "buildkit" or status["rest"].startswith("[")
        rest = status["rest"]
        done = _BUILDKIT_DONE.match(rest)
        if rest == "CACHED":
            step.cached, step.seconds = True, 0.0
        elif done:
            step.seconds = float(done["seconds"])
            step.ended_at = at
        elif rest.startswith("ERROR"):
            step.error = rest.removeprefix("ERROR").lstrip(": ")
            self.errors.append(step.error)
        else:
            if output := _BUILDKIT_OUTPUT.match(rest):
                step.output.append(output["text"])
            return True
        self.step_lines.append(line)
        return True

    def _classic(self, line: str, at: float | None) -> bool:
        header = _CLASSIC_STEP.match(line)
        if header:
            self._start("classic", header, None, at)
            return True
        if not self._steps or self.dialect != "classic":
            return False
        step = self._steps[-1]
        if line.strip() == "---> Using cache":
            step.cached = True
            self.step_lines.append(line)
            return True
        if _CLASSIC_LAYER.match(line):
            self._close(step, at)
            return True
        if line.startswith((" ---> Running in ", "Removing intermediate container")):
            return True
        if line.startswith(("Successfully built", "Successfully tagged")):
            return True
        if line.startswith("The command ") and "returned a non-zero code" in line:
            step.error = line
            self.errors.append(line)
            self.step_lines.append(line)
            return True
        return False

    def _podman(self, line: str, at: float | None) -> bool:
        header = _PODMAN_STEP.match(line)
        if header:
            self._start("podman", header, header["stage"], at)
            return True
        if not self._steps or self.dialect != "podman":
            return False
        step = self._steps[-1]
        if line.startswith("--> Using cache"):
            step.cached = True
            self.step_lines.append(line)
            return True
        if _PODMAN_LAYER.match(line):
            self._close(step, at)
            return True
        if line.startswith(("COMMIT", "Successfully tagged", "Successfully built")):
            return True
        if _IMAGE_ID.match(line):
            return True  # the new image's id, printed after its tag
        if line.startswith(("building at STEP", "Error:", "error building")):
            step.error = line
            self.errors.append(line)
            self.step_lines.append(line)
            return True
        return False

    def _start(
        self, dialect: str, header: re.Match[str], stage: str | None, at: float | None
    ) -> None:
        self.dialect = dialect
        self.step_lines.append(header.string)
        if self._steps:
            self._close(self._steps[-1], at)
        self._steps.append(
            BuildStep(
                number=int(header["n"]),
                total=int(header["total"]),
                instruction=header["text"].strip(),
                stage=stage,
                dialect=dialect,
                started_at=at,
            )
        )

    @staticmethod
    def _close(step: BuildStep, at: float | None) -> None:
        if step.ended_at is None and at is not None and step.started_at is not None:
            step.ended_at = at
            step.seconds = max(0.0, at - step.started_at)


def parse_build_output(text: str | Iterable[str]) -> BuildOutput:
    """Parse a whole recorded build output (untimed)."""
    lines = text.splitlines() if isinstance(text, str) else text
    parsed = BuildOutput()
    for line in lines:
        parsed.feed(line)
    parsed.finish()
    return parsed


# --- running docker build the way a learner does --------------------------------------


def docker_clis(path: str | None = None) -> list[Path]:
    """Every ``docker`` program on PATH, in PATH order, each once."""
    found: list[Path] = []
    seen: set[Path] = set()
    for folder in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        candidate = Path(folder or ".") / "docker"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            real = candidate.resolve()
            if real not in seen:
                seen.add(real)
                found.append(candidate)
    return found


def _cli_version(cli: Path) -> tuple[int, int]:
    result = subprocess.run(
        [str(cli), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    match = re.search(r"version (\d+)\.(\d+)", result.stdout)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def _has_buildx(cli: Path) -> bool:
    result = subprocess.run(
        [str(cli), "buildx", "version"], capture_output=True, text=True, timeout=30, check=False
    )
    return result.returncode == 0


def cli_has_buildkit(cli: Path) -> bool:
    """Can this docker CLI build with BuildKit?

    Before 23.0 the CLI had BuildKit built in (``DOCKER_BUILDKIT=1``); since 23.0 it hands
    BuildKit builds to the buildx plugin and, without it, falls back to the classic builder.
    """
    return _cli_version(cli) < (23, 0) or _has_buildx(cli)


LOST_SNAPSHOT = re.compile(r"snapshot \S+ (?:does not exist|not found)")
"""How BuildKit on the containerd image store fails a build whose cache refers to a
snapshot the store has already collected (moby/buildkit#3008, #3599, #6977; seen here on Docker
Engine 26.1 with the containerd snapshotter, once in several runs, under load): an engine
fault, never the learner's. The lesson clears the unused build cache and builds once more
before it gives up."""


BUILTIN_BUILDKIT_SILENCE = 180.0
"""Seconds a build by Engine 20.10's built-in BuildKit may print nothing before it counts
as hung. That BuildKit at times stops answering a CLI's build session for good (every
build from then on hangs before its first step; moby/buildkit#748, moby/moby#40409; seen
here on cold CI machines). A lesson's slowest step, a pip install, prints a line at least
every minute or so; newer engines (23+) have no such limit."""

_HUNG_BUILDKIT: set[str] = set()
"""Engines whose BuildKit hung in this kernel: their later builds use the classic builder."""


@dataclass(frozen=True)
class BuildResult:
    command: str
    """The command as a learner would type it (labels left out)."""
    returncode: int
    lines: list[str]
    """Everything the build printed, stdout and stderr interleaved, as a terminal shows it."""
    parsed: BuildOutput
    hung: bool = False
    """Stopped by the lesson because it printed nothing for the builder's silence limit."""

    @property
    def steps(self) -> list[BuildStep]:
        return self.parsed.steps

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def tail(self, count: int = 15) -> str:
        return "\n".join(self.lines[-count:])


@dataclass(frozen=True)
class Builder:
    """How a lesson runs ``docker build``: which CLI, and with which builder."""

    kind: str
    """``buildkit`` or ``classic`` (the classic builder, or Podman's Buildah)."""
    cli: Path
    engine: str
    """e.g. ``Docker Engine 26.1.5`` or ``Podman Engine 5.4.2``."""
    why: str
    """One sentence for the learner: which builder, and why this one."""
    silence_limit: float | None = None
    """Seconds of silence after which a build counts as hung and is stopped (None: never)."""

    @property
    def environment(self) -> dict[str, str]:
        # DOCKER_BUILDKIT picks the builder for every CLI version: 1 = BuildKit (built in
        # before 23.0, buildx since), 0 = the classic builder.
        return {"DOCKER_BUILDKIT": "1" if self.kind == "buildkit" else "0"}

    def command(
        self, tag: str, labels: Mapping[str, str] | None = None, *, quiet: bool = False
    ) -> list[str]:
        """The ``docker build`` command for the context in the current folder."""
        command = [str(self.cli), "build"]
        if quiet and self.silence_limit is None:
            command.append("--quiet")
        elif self.kind == "buildkit":
            # The plain progress prints every step as a line, as a CI log shows it; a
            # terminal shows the same steps redrawn in place. A build watched for silence
            # keeps it even when quiet: --quiet prints nothing until the end.
            command.append("--progress=plain")
        if self.kind == "classic":
            command.append("--force-rm")  # a failed step leaves no container behind
        for key, value in (labels or {}).items():
            command += ["--label", f"{key}={value}"]
        return [*command, "-t", tag, "."]

    def display(self, tag: str, *, quiet: bool = False) -> str:
        """The command as a learner would type it, without the lesson's labels."""
        flags = " --quiet" if quiet else (" --progress=plain" if self.kind == "buildkit" else "")
        return (
            f"DOCKER_BUILDKIT={self.environment['DOCKER_BUILDKIT']} docker build{flags} -t {tag} ."
        )

    def build(
        self,
        folder: Path,
        tag: str,
        labels: Mapping[str, str] | None = None,
        *,
        quiet: bool = False,
        check: bool = True,
    ) -> BuildResult:
        """Build ``folder`` (its Dockerfile) as ``tag``; each line timed as it arrives.

        With ``check`` (the default), a failed build raises RuntimeError with its last lines.
        A build the engine failed because its build cache lost a snapshot (see
        :data:`LOST_SNAPSHOT`) is run once more, saying so, before it counts as failed.
        """
        if self.kind == "buildkit" and self.engine in _HUNG_BUILDKIT:
            return self._classic().build(folder, tag, labels, quiet=quiet, check=check)
        result = self._build_once(folder, tag, labels, quiet=quiet)
        if result.hung:
            _HUNG_BUILDKIT.add(self.engine)
            print(
                f"`{result.command}` printed nothing for {self.silence_limit:.0f} s: "
                f"{self.engine}'s built-in BuildKit stops answering at times (a known fault "
                "of that engine, moby/buildkit#748, not of your Dockerfile). This lesson "
                "builds with the classic builder from now on (`DOCKER_BUILDKIT=0`); restart "
                "the engine to get BuildKit back."
            )
            return self._classic().build(folder, tag, labels, quiet=quiet, check=check)
        if result.returncode != 0 and LOST_SNAPSHOT.search(result.text):
            # The cache records that name the lost snapshot would fail the same build
            # again: clear the unused build cache (images stay) before the second try.
            print(
                f"{self.engine} lost part of its build cache during this build (a known "
                "fault of the containerd image store, not of your Dockerfile): clearing "
                "its build cache (`docker builder prune --force`) and building once more."
            )
            subprocess.run(
                [str(self.cli), "builder", "prune", "--force"],
                capture_output=True,
                env={**os.environ, **self.environment},
            )
            result = self._build_once(folder, tag, labels, quiet=quiet)
            if result.returncode != 0 and LOST_SNAPSHOT.search(result.text) and check:
                raise RuntimeError(
                    f"`{result.command}` failed twice because {self.engine} lost part of "
                    "its build cache (not your Dockerfile's fault). Restart the engine "
                    f"(Docker Desktop: Restart) and run this cell again.\n{result.tail()}"
                )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"`{result.command}` failed ({result.returncode}) with {self.engine}:\n"
                f"{result.tail()}"
            )
        return result

    def _classic(self) -> Builder:
        return replace(
            self,
            kind="classic",
            silence_limit=None,
            why=f"{self.engine}'s BuildKit hung in this lesson: the classic builder builds instead.",
        )

    def _build_once(
        self, folder: Path, tag: str, labels: Mapping[str, str] | None, *, quiet: bool
    ) -> BuildResult:
        parsed = BuildOutput()
        lines: list[str] = []
        last_output = [time.monotonic()]
        finished = threading.Event()
        hung = threading.Event()

        def stop_when_silent(process: subprocess.Popen[str], limit: float) -> None:
            while not finished.wait(1.0):
                if time.monotonic() - last_output[0] > limit:
                    hung.set()
                    process.kill()  # its output closes, which ends the reading below
                    return

        with subprocess.Popen(
            self.command(tag, labels, quiet=quiet),
            cwd=folder,
            env={**os.environ, **self.environment},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process:
            assert process.stdout is not None
            if self.silence_limit is not None:
                threading.Thread(
                    target=stop_when_silent, args=(process, self.silence_limit), daemon=True
                ).start()
            try:
                for raw in process.stdout:
                    last_output[0] = time.monotonic()
                    line = _ANSI.sub("", raw.rstrip("\n")).replace("\r", "")
                    lines.append(line)
                    parsed.feed(line, time.monotonic())
                returncode = process.wait()
            finally:
                finished.set()
        parsed.finish(time.monotonic())
        return BuildResult(
            self.display(tag, quiet=quiet), returncode, lines, parsed, hung=hung.is_set()
        )


def choose_builder(client: Any, path: str | None = None) -> Builder:
    """The builder a learner's ``docker build`` uses on this engine, and a CLI that runs it.

    BuildKit wherever the engine offers it (Docker Engine 18.09+ on Linux, Docker Desktop)
    and a ``docker`` CLI on PATH can drive it; else the classic builder, which is also what
    Podman's Docker-compatible API offers (Buildah underneath).
    """
    features = EngineFeatures.from_version(
        engine_host.engine_version(client), engine_host.engine_info(client)
    )
    engine = f"{features.product} {features.version}"
    clis = docker_clis(path)
    if not clis:
        raise RuntimeError("No `docker` command on PATH: install the Docker CLI.")
    if not features.has_buildkit:
        how = (
            "`docker build` uses the classic builder"
            if features.is_docker
            else "it builds with Buildah, whose output shows `STEP N/M:` lines"
        )
        return Builder("classic", clis[0], engine, f"{engine} has no BuildKit: {how}.")
    for cli in clis:
        if cli_has_buildkit(cli):
            return Builder(
                "buildkit",
                cli,
                engine,
                f"{engine} builds with BuildKit, as `docker build` does on Docker Desktop and "
                "Docker Engine 23+.",
                # Engines before 23.0 have the BuildKit that can hang a session for good.
                silence_limit=BUILTIN_BUILDKIT_SILENCE if features.major < 23 else None,
            )
    return Builder(
        "classic",
        clis[0],
        engine,
        f"Your docker CLI has no buildx component, so `docker build` falls back to the "
        f"classic builder (deprecated) although {engine} has BuildKit: install the "
        "`docker-buildx` package (or Docker Desktop) to build with BuildKit.",
    )


# --- what docker history and docker save give away ------------------------------------

_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s+")
_SHELL = re.compile(r"^(?:RUN )?(?:\|\d+ (?:\S+=\S* )*)?/bin/sh -c ")


def history_instruction(created_by: str) -> str:
    """A history entry's ``CreatedBy`` as the Dockerfile instruction that made it.

    The classic builder (and Podman) write ``/bin/sh -c #(nop) COPY file:… in .`` and
    ``/bin/sh -c pip install …``; BuildKit writes ``COPY app.py . # buildkit`` and
    ``RUN /bin/sh -c pip install … # buildkit``.
    """
    text = created_by.strip().removesuffix("# buildkit").strip()
    if _NOP.match(text):
        return _NOP.sub("", text).strip()
    if _SHELL.match(text):
        return "RUN " + _SHELL.sub("", text).strip()
    return text or "(base image)"


def layer_history(client: Any, reference: str) -> list[tuple[str, int]]:
    """``docker history``, oldest first: each entry's instruction and the bytes it added."""
    entries = engine_host.image_history(client, reference)
    return [
        (history_instruction(str(h.get("CreatedBy") or "")), int(h.get("Size") or 0))
        for h in reversed(entries)
    ]


@contextmanager
def saved_image(client: Any, reference: str) -> Iterator[SavedImage]:
    """What ``docker save`` writes for ``reference``, opened for reading layer by layer.

    It works with every layout an engine writes: the legacy one (``<id>/layer.tar``, Engine
    ≤ 24 and Podman), the OCI layout (``index.json`` and ``blobs/sha256/…``, Engine 25+),
    and its gzip-compressed layers (the containerd image store). Use it as::

        with saved_image(client, "my-image") as image:
            for layer in image.layers:          # oldest first; layer.created_by says how
                for entry in image.entries(layer):
                    entry.path, entry.kind      # "/tmp/token.txt", EntryKind.FILE
                    entry.content.read()        # a file's bytes (read it before the next entry)

    A file deleted by a later step shows in that later layer as ``EntryKind.WHITEOUT``.
    """
    with tempfile.TemporaryDirectory(prefix="docker-save-") as folder:
        path = Path(folder) / "image.tar"
        engine_host.save_image_file(client, reference, path)
        with SavedImage.open(path) as image:
            yield image


# --- where the engine is ----------------------------------------------------------------


def engine_name(client: Any) -> str:
    """``Docker Engine 27.3.1``, ``Podman Engine 5.4.2`` …"""
    features = EngineFeatures.from_version(engine_host.engine_version(client))
    return f"{features.product} {features.version}"


def host_address(client: Any) -> str:
    """The address to publish ports on, and to reach them at, from this machine.

    ``127.0.0.1`` for an engine on this machine (a socket, Docker Desktop, a Podman or
    Colima VM, all of which forward loopback ports). An engine reached over TCP on another
    machine (``DOCKER_HOST=tcp://HOST:2375``) publishes on *its* interfaces: its loopback
    is not ours, so the ports must be published on, and reached at, ``HOST``.
    """
    return publish_host_for(engine_host.base_url(client))


def engine_sees_folder(
    client: Any, folder: Path, labels: Mapping[str, str] | None = None, image: str = BASE_IMAGE
) -> bool:
    """Does a bind mount of ``folder`` show this machine's files to the engine's containers?

    Not when the engine runs on another machine, or in a VM that does not share the folder
    (Colima and Podman machines share only your home folder by default): Docker then mounts
    the engine machine's folder of that name (made empty if need be), Docker Desktop refuses.
    """
    marker = folder / f".engine-probe-{uuid.uuid4().hex[:8]}"
    marker.write_text(marker.name)
    try:
        status, _ = run_to_completion(
            client,
            image,
            ["test", "-f", f"/probe/{marker.name}"],
            labels=labels or {},
            volumes={str(folder): {"bind": "/probe", "mode": "ro"}},
            network_mode="none",
        )
        return status == 0
    except EngineRefused:
        return False  # Docker Desktop refuses to mount a folder it does not share
    finally:
        marker.unlink(missing_ok=True)


# --- a lesson's run: its work folder, and what it made on the engine ------------------------
#
# A lesson's own demos label what they make (LESSON_LABEL, LESSON_RUN_LABEL). What the learner
# makes by typing real commands (`docker run --name l3-settings …` in a %%bash cell or a
# terminal) carries no label: the lesson asks for names that start with its prefix (``l3-``),
# and remembers which containers and images the engine had when the lesson began, so that a
# container made since from one of the lesson's images (a `docker run l8-broken` without
# --name) and the untagged image a rebuild leaves (`docker build -t l7-serve .`, twice) are
# found as well. Anything else made since the lesson began may be the learner's own work in
# another window: it is listed, never removed.

LESSON_LABEL = "org.docker-ml-course.lesson"
LESSON_RUN_LABEL = "org.docker-ml-course.lesson-run"
WORK_ROOT_VARIABLE = "DOCKER_ML_COURSE_WORK"
ENGINE_AT_START = ".engine-at-start.json"
"""In a run's work folder: the ids of the containers and images the engine had at its start."""


def lesson_work_root() -> Path:
    """Where lessons keep their work folders: ``$DOCKER_ML_COURSE_WORK``, else
    ``~/docker-ml-course-work``. Under the home folder because Docker Desktop, Colima and
    Podman machines share it with the engine by default, so bind mounts see its files; a
    temporary folder (``/var/folders/…`` on macOS) is not shared by Colima."""
    configured = os.environ.get(WORK_ROOT_VARIABLE, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / "docker-ml-course-work"


def lesson_prefix(lesson: str) -> str:
    """``l3-`` for ``03-running-and-configuration``: how the names of the containers, images
    and volumes a learner makes in that lesson begin."""
    number = lesson.split("-", 1)[0]
    if not number.isdigit():
        raise ValueError(f"a lesson's name starts with its number (01-containers), not {lesson!r}")
    return f"l{int(number)}-"


def _repository(tag: str) -> str:
    """``l7-serve`` for ``l7-serve:1.3.0``, ``localhost/l7-serve:latest`` (Podman) and
    ``docker.io/library/l7-serve:latest`` (the containerd image store)."""
    name = tag.rsplit("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: name.rindex(":")]
    for registry in ("localhost/", "docker.io/library/"):
        name = name.removeprefix(registry)
    return name


def _named_for(prefix: str, name: str) -> bool:
    return name.lstrip("/").startswith(prefix)


@dataclass(frozen=True)
class EngineAtStart:
    """The containers and images the engine had when a lesson's run began."""

    containers: frozenset[str]
    images: frozenset[str]

    @classmethod
    def of(cls, client: Any) -> EngineAtStart:
        return cls(
            frozenset(c.id for c in engine_host.find_containers(client, [])),
            frozenset(i.id for i in engine_host.find_images(client)),
        )

    def save(self, folder: Path) -> None:
        state = {"containers": sorted(self.containers), "images": sorted(self.images)}
        (folder / ENGINE_AT_START).write_text(json.dumps(state, indent=1))

    @classmethod
    def load(cls, folder: Path) -> EngineAtStart | None:
        """What :meth:`save` wrote in ``folder``; None when it is missing or unreadable."""
        try:
            state = json.loads((folder / ENGINE_AT_START).read_text())
            return cls(frozenset(state["containers"]), frozenset(state["images"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class LessonObjects:
    """What a lesson's runs have on the engine, found by label, by name and by time."""

    containers: tuple[engine_host.ContainerState, ...] = ()
    images: tuple[engine_host.ImageState, ...] = ()
    """Images to remove whole: the lesson's labelled ones, and those whose every tag has the
    lesson's prefix, or none (a rebuild's previous image, made since the run began)."""
    tags: tuple[str, ...] = ()
    """Tags with the lesson's prefix on an image that has other tags too: untagged only."""
    volumes: tuple[str, ...] = ()
    runs: frozenset[str] = frozenset()
    """The runs whose labels they carry (what the learner named carries none)."""
    others: tuple[engine_host.ContainerState, ...] = ()
    """Containers made since the run began that are not the lesson's: left alone."""


def find_lesson_objects(
    client: Any, lesson: str, *, spare_run: str = "", started: EngineAtStart | None = None
) -> LessonObjects:
    """The containers, images and volumes of ``lesson``'s runs other than ``spare_run``:
    labelled with the lesson, or named with its prefix (:func:`lesson_prefix`), or, with
    ``started``, made since then from one of the lesson's images (containers) or left
    untagged (images). Never anything of another lesson, nor what was there at ``started``."""
    prefix = lesson_prefix(lesson)
    runs: set[str] = set()

    def labelled(labels: Mapping[str, str]) -> bool:
        if labels.get(LESSON_LABEL) != lesson:
            return False
        run = labels.get(LESSON_RUN_LABEL, "?")
        if spare_run and run == spare_run:
            return False
        runs.add(run)
        return True

    images, tags, lesson_image_ids = [], [], set()
    for image in engine_host.find_images(client):
        mine = [tag for tag in image.tags if _named_for(prefix, _repository(tag))]
        new = started is not None and image.id not in started.images
        if labelled(image.labels) or (mine and len(mine) == len(image.tags)):
            images.append(image)
            lesson_image_ids.add(image.id)
        elif mine:
            tags.extend(mine)
            lesson_image_ids.add(image.id)
        elif new and not image.tags:
            images.append(image)
    containers, others = [], []
    for container in engine_host.find_containers(client, []):
        if labelled(container.labels) or _named_for(prefix, container.name):
            containers.append(container)
        elif started is not None and container.id not in started.containers:
            from_lesson = container.image_id in lesson_image_ids
            (containers if from_lesson else others).append(container)
    volumes = [name for name in engine_host.find_volumes(client, []) if _named_for(prefix, name)]
    mine = [f"{LESSON_LABEL}={lesson}"]
    spared = set(engine_host.find_volumes(client, [*mine, f"{LESSON_RUN_LABEL}={spare_run}"]))
    for name in engine_host.find_volumes(client, mine):
        if name not in volumes and not (spare_run and name in spared):
            volumes.append(name)
    return LessonObjects(
        tuple(containers),
        tuple(images),
        tuple(tags),
        tuple(volumes),
        frozenset(runs),
        tuple(others),
    )


def remove_lesson_objects(client: Any, found: LessonObjects) -> None:
    """Remove what :func:`find_lesson_objects` found: containers first (with their
    anonymous volumes), then tags and images, then volumes."""
    for container in found.containers:
        # No grace period: Podman's forced removal would first wait 10 s for a stop.
        engine_host.remove_container(client, container.id, stop_timeout=0)
    for reference in (*found.tags, *(image.id for image in found.images)):
        with contextlib.suppress(NotFoundOnEngine):  # a tag of an image already removed
            engine_host.remove_image(client, reference, force=True)
    for volume in found.volumes:
        with contextlib.suppress(NotFoundOnEngine):
            engine_host.remove_volume(client, volume)


def _counted(counts: Iterable[tuple[int, str]]) -> str:
    return ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts if n)


@dataclass(frozen=True)
class Leftovers:
    """What earlier runs of a lesson left on the engine (a restarted kernel, a run that
    stopped half-way), found by the lesson's label and its name prefix, and removed."""

    runs: tuple[str, ...]
    containers: int
    images: int
    volumes: int
    folders: int

    def __bool__(self) -> bool:
        return bool(self.containers or self.images or self.volumes or self.folders)

    def __str__(self) -> str:
        counts = _counted(
            (
                (self.containers, "container"),
                (self.images, "image"),
                (self.volumes, "volume"),
                (self.folders, "work folder"),
            )
        )
        named = [run for run in self.runs if run != "?"]
        runs = f" ({', '.join(named)})" if named else ""
        return f"Removed what an earlier run of this lesson left{runs}: {counts}."


def remove_earlier_runs(client: Any, lesson: str, run: str, work_root: Path) -> Leftovers:
    """Remove the containers, images, volumes and work folders of ``lesson`` that another
    run than ``run`` made, or that carry the lesson's name prefix; never anything of
    another lesson, nor what has neither its label nor its prefix."""
    found = find_lesson_objects(client, lesson, spare_run=run)
    remove_lesson_objects(client, found)
    runs = set(found.runs)
    folders = [
        f for f in work_root.glob(f"{lesson}-*") if f.is_dir() and f.name != f"{lesson}-{run}"
    ]
    for folder in folders:
        runs.add(folder.name.removeprefix(f"{lesson}-"))
        shutil.rmtree(folder, ignore_errors=True)
    return Leftovers(
        tuple(sorted(runs)),
        len(found.containers),
        len(found.images) + len(found.tags),
        len(found.volumes),
        len(folders),
    )


def begin_lesson(client: Any, lesson: str, run: str) -> Path:
    """A lesson's first step: remove what earlier runs of it left (saying so), make this
    run's work folder, ``<work root>/LESSON-RUN`` (see :func:`lesson_work_root`), and note
    in it what the engine has now (see :func:`end_lesson`)."""
    root = lesson_work_root()
    leftovers = remove_earlier_runs(client, lesson, run, root)
    if leftovers:
        print(leftovers)
    work = root / f"{lesson}-{run}"
    work.mkdir(parents=True, exist_ok=True)
    EngineAtStart.of(client).save(work)
    return work


@dataclass(frozen=True)
class LessonEnd:
    """What a lesson's last cell removed, and what it left because it may not be the
    lesson's."""

    containers: int
    images: int
    volumes: int
    others: tuple[engine_host.ContainerState, ...]

    def __str__(self) -> str:
        counts = _counted(
            ((self.containers, "container"), (self.images, "image"), (self.volumes, "volume"))
        )
        said = f"Removed everything this lesson run created ({counts or 'nothing on the engine'}"
        said += ", and its work folder)."
        if self.others:
            names = ", ".join(container.name for container in self.others)
            one = len(self.others) == 1
            counted, verb, subject, pronoun = (
                ("1 container", "is", "it is", "it")
                if one
                else (f"{len(self.others)} containers", "are", "they are", "them")
            )
            said += (
                f"\nLeft alone: {counted} made since the lesson began that {verb} not named "
                f"like the lesson's and not made from its images ({names}): if {subject} "
                f"the lesson's, remove {pronoun} with `docker rm -f {names}`."
            )
        return said


def end_lesson(client: Any, lesson: str, run: str, work: Path) -> LessonEnd:
    """A lesson's last step: remove everything the lesson made (its labelled objects, what
    carries its name prefix, the containers made since it began from its images, the
    untagged images its rebuilds left), then its work folder; say what it removed and which
    containers made meanwhile it left alone."""
    found = find_lesson_objects(client, lesson, started=EngineAtStart.load(work))
    remove_lesson_objects(client, found)
    shutil.rmtree(work, ignore_errors=True)
    end = LessonEnd(
        len(found.containers),
        len(found.images) + len(found.tags),
        len(found.volumes),
        found.others,
    )
    print(end)
    return end


def _learners(collection: Any, name: str, missing: str) -> Any:
    """``collection.get(name)`` (the SDK's containers or volumes); ``missing``, as a failed
    assertion for the learner's test cell, when the engine has none of that name."""
    try:
        with engine_errors():
            return collection.get(name)
    except NotFoundOnEngine:
        raise AssertionError(missing) from None


def learners_container(client: Any, name: str) -> Any:
    """The container the learner was asked to make and name ``name`` (the docker SDK's
    ``Container``); a failed assertion saying what to do when there is none."""
    return _learners(
        client.containers,
        name,
        f"there is no container named {name} on the engine: run your command in the answer "
        f"cell above, with --name {name}",
    )


def learners_volume(client: Any, name: str) -> Any:
    """The volume the learner was asked to make and name ``name`` (the docker SDK's
    ``Volume``); a failed assertion saying what to do when there is none."""
    return _learners(
        client.volumes,
        name,
        f"there is no volume named {name} on the engine: make it in the answer cell above "
        f"(docker volume create {name}, or -v {name}:… on docker run)",
    )


# --- health checks --------------------------------------------------------------------------
#
# Docker runs a container's health check itself. Podman runs it from a systemd timer: a
# Linux Podman without systemd never runs it (the container stays `starting`), and its
# `docker build` writes OCI images, whose config has no place for a HEALTHCHECK (buildah
# drops it). Where the engine does not judge, the lesson runs the health command itself,
# as the engine would, so that its verdict is the same everywhere (the grader does the
# same: grader/checks/health.py).

HEALTH_GRACE_S = 5.0
"""How long past a health check's first due run the engine may be late with it."""


@dataclass(frozen=True)
class Health:
    """A container's health: the engine's verdict, or the lesson's where the engine gives none."""

    status: str
    """``healthy``, ``unhealthy``, ``starting`` (undecided when the wait ended), or ``""``
    when the container has no health check at all."""
    exit_code: int | None
    """The last run's exit code (None before any run)."""
    output: str
    """The last run's output."""
    failing_streak: int
    judged_by: str
    """``the engine``, or why the lesson ran the health command itself."""


def _health_runs(config: Mapping[str, Any]) -> tuple[float, float, int]:
    """A health check's interval, timeout (seconds) and retries, with the engine's defaults."""
    from grader.checks.health import DEFAULT_INTERVAL_S, DEFAULT_TIMEOUT_S, NS

    interval = (config.get("Interval") or DEFAULT_INTERVAL_S * NS) / NS
    timeout = (config.get("Timeout") or DEFAULT_TIMEOUT_S * NS) / NS
    return interval, timeout, int(config.get("Retries") or 3)


def container_health(
    client: Any, name: str, *, dockerfile: Path | None = None, seconds: float = 60
) -> Health:
    """Wait (up to ``seconds``) until the engine calls the container ``healthy`` or
    ``unhealthy``. Where the engine does not run health checks (no run recorded past the
    first one's due time), or the image lost the ``HEALTHCHECK`` of its ``dockerfile``, run
    that command in the container as the engine would: up to its retries, an interval
    apart, each within its timeout."""
    from grader.checks.health import declared_config, runnable_test
    from grader.dockerfile import Dockerfile, read_dockerfile

    deadline = time.monotonic() + seconds
    container = engine_host.inspect_container(client, name)
    config = container.healthcheck
    why = ""
    if not runnable_test(config) and dockerfile is not None:
        parsed = read_dockerfile(dockerfile, base_image=BASE_IMAGE, dependency_file="")
        declared = parsed.last("HEALTHCHECK") if isinstance(parsed, Dockerfile) else None
        if declared is not None:
            config = declared_config(declared.value)
            why = (
                "the image keeps no HEALTHCHECK (Podman's `docker build` writes OCI images, "
                "which have no place for one; `podman build --format docker` keeps it), so "
                "this lesson ran the Dockerfile's own"
            )
    test = runnable_test(config)
    if not test:
        return Health("", None, "", 0, "the engine")
    interval, timeout, retries = _health_runs(config)
    if not why:
        start_period = (config.get("StartPeriod") or 0) / 1e9
        first_due = time.monotonic() + interval + start_period + HEALTH_GRACE_S
        while True:
            health = container.health
            status = str(health.get("Status") or "")
            runs = list(health.get("Log") or [])
            last = runs[-1] if runs else {}
            if status in ("healthy", "unhealthy") or time.monotonic() > deadline:
                return Health(
                    status,
                    None if not runs else int(last.get("ExitCode", -1)),
                    str(last.get("Output", "")),
                    int(health.get("FailingStreak") or 0),
                    "the engine",
                )
            if not runs and time.monotonic() > first_due:
                why = (
                    "this engine never ran the health check (Podman runs them from systemd "
                    "timers, and this one has none), so this lesson ran it"
                )
                break
            time.sleep(0.5)
            container = engine_host.inspect_container(client, name)
    command = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
    exit_code, output, streak = None, "", 0
    for attempt in range(retries):
        ran = engine_host.exec_in_container(client, name, command, timeout_s=timeout)
        exit_code, output = ran if ran is not None else (-1, f"timed out after {timeout:.0f} s")
        if exit_code == 0:
            return Health("healthy", 0, output, 0, why)
        streak += 1
        if attempt + 1 < retries:
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
    return Health("unhealthy", exit_code, output, streak, why)
