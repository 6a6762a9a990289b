"""Batch jobs: run an image to its end with its input in a read-only volume, and read
what it wrote to its output volume.

The grader hands a job its files through volumes, never bind mounts: a bind mount needs
a host folder that the engine can see, which a remote engine, a nested one, or Docker
Desktop's VM may not share. From inside the container a read-only volume is a read-only
bind mount. The output volume starts empty, so the engine seeds it from the image's own
``output_dir``, owner included (``docker run -v out:/output`` does the same): an image
that gives its user that folder can write there, as it could in production. Podman gives
a new volume to the container's user instead, so there the job can always write.

Every container and volume carries the session's label and is removed before
:func:`run_job` returns (and by the session's clean-up on Ctrl-C).
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import requests.exceptions

from grader.engine.session import (
    BASE_IMAGE,
    ENGINE_FAULTS,
    ContainerLimits,
    EngineSession,
    engine_errors,
)
from grader.errors import EngineError

__all__ = ["JobOutput", "JobRestrictions", "JobRun", "fill_volume", "run_job"]


@dataclass(frozen=True)
class JobRestrictions:
    """How locked down a job runs (``docker run --network none --read-only --tmpfs …``)."""

    network: bool = False
    """False: ``--network none``."""
    read_only_root: bool = True
    tmpfs: tuple[str, ...] = ("/tmp",)
    """Writable in-memory folders, for a read-only root filesystem."""

    def flags(self) -> str:
        """The restrictions as ``docker run`` flags, for messages."""
        flags = [] if self.network else ["--network none"]
        if self.read_only_root:
            flags.append("--read-only")
            flags += [f"--tmpfs {path}" for path in self.tmpfs]
        return " ".join(flags) or "no restrictions"


@dataclass(frozen=True)
class JobOutput:
    """A file the job left in its output folder."""

    content: bytes
    uid: int
    """The owner's user id, as the file is in the volume."""


@dataclass(frozen=True)
class JobRun:
    """How one run of the job ended."""

    restrictions: JobRestrictions
    exit_code: int | None
    """None when the job was stopped at its time limit."""
    logs: str
    """What it printed, stdout and stderr together."""
    oom_killed: bool
    seconds: float
    outputs: Mapping[str, JobOutput]
    """Files directly in the output folder, by name (hidden ``.partial`` files included)."""

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


def _tar_of(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    # USTAR like the build context (REFERENCE.md); files readable by any user of the job.
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def fill_volume(session: EngineSession, purpose: str, files: Mapping[str, bytes]) -> str:
    """A new labelled volume holding ``files`` at its top; its name."""
    with engine_errors():
        volume = session.create_volume(purpose)
        helper = session.client.containers.create(
            BASE_IMAGE,
            ["true"],
            labels=session.labels,
            volumes={volume: {"bind": "/fill", "mode": "rw"}},
            network_mode="none",
        )
        try:
            if not helper.put_archive("/fill", _tar_of(files)):
                raise EngineError(f"The engine did not take the job's input files into {volume}.")
        finally:
            with contextlib.suppress(*ENGINE_FAULTS):
                helper.remove(force=True, v=True)
    return volume


def _outputs(container: Any, output_dir: str) -> dict[str, JobOutput]:
    """The files at the top of ``output_dir`` in a stopped container (its volume's content)."""
    try:
        chunks, _stat = container.get_archive(output_dir)
        data = b"".join(chunks)
    except ENGINE_FAULTS:
        return {}  # no such folder in the container: the job wrote nothing there
    found: dict[str, JobOutput] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts
            if member.isfile() and len(parts) == 2:  # "output/predictions.csv"
                extracted = tar.extractfile(member)
                content = extracted.read() if extracted is not None else b""
                found[parts[1]] = JobOutput(content, member.uid)
    return found


def run_job(
    session: EngineSession,
    image: str,
    *,
    input_volume: str,
    input_dir: str,
    output_dir: str,
    limits: ContainerLimits,
    restrictions: JobRestrictions,
    timeout_s: float,
    purpose: str,
) -> JobRun:
    """Run ``image`` to its end with ``input_volume`` read-only at ``input_dir`` and a new
    empty volume at ``output_dir``; stop it after ``timeout_s``."""
    with engine_errors():
        output_volume = session.create_volume(f"{purpose}-output")
        started = time.monotonic()
        container = None
        try:
            container = session.client.containers.create(
                image,
                labels=session.labels,
                name=session.name(purpose),
                volumes={
                    input_volume: {"bind": input_dir, "mode": "ro"},
                    output_volume: {"bind": output_dir, "mode": "rw"},
                },
                network_mode=None if restrictions.network else "none",
                read_only=restrictions.read_only_root,
                tmpfs={path: "size=64m" for path in restrictions.tmpfs}
                if restrictions.read_only_root
                else None,
                **limits.run_options(),
            )
            exit_code, refused = _start_and_wait(container, timeout_s)
            seconds = time.monotonic() - started
            logs = container.logs(stdout=True, stderr=True).decode("utf-8", errors="replace")
            logs = f"{logs}\n{refused}".strip() if refused else logs
            container.reload()
            oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
            outputs = _outputs(container, output_dir)
        finally:
            if container is not None:
                with contextlib.suppress(*ENGINE_FAULTS):
                    container.remove(force=True, v=True)
            session.remove_volume(output_volume)
    return JobRun(restrictions, exit_code, logs, oom, seconds, outputs)


def _start_and_wait(container: Any, timeout_s: float) -> tuple[int | None, str]:
    """Start the job: its exit code (None once it ran ``timeout_s``; it is then killed),
    and what the engine said if it refused to start it.

    A program the image lacks fails ``start`` itself on some engines (the runtime's words
    come back as the error, exit code 127) and exits 127 on others: the same outcome.
    """
    from docker.errors import APIError

    try:
        container.start()
    except APIError as exc:
        container.reload()
        code = container.attrs.get("State", {}).get("ExitCode")
        if code in (None, 0):
            raise
        return int(code), str(exc.explanation or exc)
    try:
        return int(container.wait(timeout=timeout_s).get("StatusCode", 1)), ""
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        with contextlib.suppress(*ENGINE_FAULTS):
            container.kill()
        return None, ""
