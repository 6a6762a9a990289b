"""Make sure a Docker engine answers, starting one only where that is safe.

An engine that already answers (Docker Desktop, Colima, Rancher Desktop, Podman's
socket, rootful or rootless Linux, ``DOCKER_HOST``, a docker context) is used as it
is and never restarted or reconfigured. Only on Linux, as root, with apt, and with
no engine answering, do we install Debian's ``docker.io`` and start ``dockerd``.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader import engine
from grader.errors import EngineUnavailable, SetupError, how_to_get_an_engine

__all__ = ["DaemonStatus", "apt_install", "ensure_engine", "how_to_get_an_engine"]

DOCKERD_LOG = Path(os.environ.get("GRADER_DOCKERD_LOG", "/var/log/docker-ml-course-dockerd.log"))
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DaemonStatus:
    """What :func:`ensure_engine` found or did."""

    server_version: str
    """The engine's version, as ``docker version`` reports it."""
    action: str
    """``"found"`` (already running), ``"started"`` or ``"installed and started"``."""
    log_path: Path | None = None
    """Where the started ``dockerd`` writes its log, when we started it."""


def ensure_engine(say: Callable[[str], None] = print) -> DaemonStatus:
    """Return the running engine's status, installing and starting one where allowed.

    Raises :class:`EngineUnavailable` with a platform-specific hint when no engine
    answers and this machine does not let us start one.
    """
    version = engine.server_version_or_none()
    if version:
        return DaemonStatus(server_version=version, action="found")

    if not _may_install_engine():
        raise EngineUnavailable(
            "No Docker engine answers (checked DOCKER_HOST, the current docker context and the "
            "default socket).",
            hint=how_to_get_an_engine(),
        )

    action = "started"
    if shutil.which("dockerd") is None:
        say("No Docker engine found: installing Debian's docker.io with apt-get …")
        apt_install("docker.io")
        action = "installed and started"
    say(f"Starting dockerd in the background (log: {DOCKERD_LOG}) …")
    version = _start_dockerd()
    say(f"Docker engine {version} is up ({action}).")
    return DaemonStatus(server_version=version, action=action, log_path=DOCKERD_LOG)


def _may_install_engine() -> bool:
    return (
        platform.system() == "Linux"
        and os.geteuid() == 0
        and shutil.which("apt-get") is not None
        and os.environ.get("GRADER_NO_ENGINE_INSTALL") != "1"
    )


def apt_install(*packages: str) -> None:
    """Install Debian packages, refreshing the package lists once if the first try fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", *packages]
    first = subprocess.run(command, env=env, capture_output=True, text=True)
    if first.returncode == 0:
        return
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True)
    second = subprocess.run(command, env=env, capture_output=True, text=True)
    if second.returncode != 0:
        tail = "\n".join(second.stderr.strip().splitlines()[-5:])
        raise SetupError(
            f"`{' '.join(command)}` failed:\n{tail}",
            hint="Check that this machine reaches a Debian mirror, or install the package by hand.",
        )


def _start_dockerd() -> str:
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with DOCKERD_LOG.open("ab") as log:
        # A new session detaches dockerd from our terminal: it outlives this command
        # and does not get our Ctrl-C.
        process = subprocess.Popen(
            ["dockerd"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        version = engine.server_version_or_none(timeout=3)
        if version:
            return version
        if process.poll() is not None:
            break
        time.sleep(0.5)
    if process.poll() is None:
        process.terminate()
    tail = "\n".join(DOCKERD_LOG.read_text(errors="replace").splitlines()[-8:])
    raise SetupError(
        f"dockerd did not answer within {START_TIMEOUT_S:.0f} s. The end of its log "
        f"({DOCKERD_LOG}):\n{tail}",
        hint="Another dockerd may hold /var/run/docker.pid, or this kernel may lack overlayfs.",
    )
