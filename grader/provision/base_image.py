"""Make sure ``python:3.11-slim`` exists on the engine, building a stand-in offline.

Order: an image already present is used as it is; otherwise we try to pull the real
one; only when the pull fails (air-gapped classroom, no registry) do we build a
stand-in from Debian packages with ``debootstrap`` and import it under the same tag.
A real image is never shadowed: the stand-in is only made when none can be had.
The stand-in's root filesystem is cached as a tarball, so a second bring-up on the
same machine takes seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.engine import BASE_IMAGE
from grader.engine import host as engine_host
from grader.engine.host import EngineClient
from grader.errors import EngineError, NotFoundOnEngine, SetupError

__all__ = [
    "BaseImageStatus",
    "debian_mirror",
    "ensure_base_image",
    "is_stand_in",
    "rootfs_cache_path",
]

SUITE = "bookworm"
PACKAGES = ("python3", "python3-pip", "python3-venv", "ca-certificates")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    # pip upgraded inside an image would use its own CA list: point it at the system one,
    # which trusts the host's (possibly TLS-intercepting) proxy.
    "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
    "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
    'CMD ["python3"]',
)


@dataclass(frozen=True)
class BaseImageStatus:
    """What :func:`ensure_base_image` found or did."""

    reference: str
    """The image reference, ``python:3.11-slim``."""
    action: str
    """``"present"``, ``"pulled"``, ``"imported stand-in from cache"`` or ``"built stand-in"``."""
    stand_in: bool
    """True when the image is our Debian-built stand-in rather than the official one."""


def is_stand_in(image_attrs: dict[str, object]) -> bool:
    """The official image always sets PYTHON_VERSION; the stand-in does not.

    (A label would do, but labels are inherited by every image built FROM it.)
    """
    config = image_attrs.get("Config") or {}
    env = config.get("Env") or [] if isinstance(config, dict) else []
    return not any(str(item).startswith("PYTHON_VERSION=") for item in env)


def rootfs_cache_path() -> Path:
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache_home / "docker-ml-course" / f"python-3.11-slim-stand-in-{SUITE}.tar"


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The host's Debian mirror, read from its apt sources (deb822 first, then one-line)."""
    if env_mirror := os.environ.get("GRADER_DEBIAN_MIRROR"):
        return env_mirror
    candidates: list[str] = []
    for sources in sorted(apt_dir.glob("sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", sources.read_text(errors="replace")):
            fields = dict(
                (key.strip().lower(), value.strip())
                for key, _, value in (
                    line.partition(":") for line in stanza.splitlines() if ":" in line
                )
            )
            suites = fields.get("suites", "").split()
            if SUITE in suites and "deb" in fields.get("types", "").split():
                candidates += fields.get("uris", "").split()
    one_line = [apt_dir / "sources.list", *sorted(apt_dir.glob("sources.list.d/*.list"))]
    for path in one_line:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            parts = re.sub(r"\[[^\]]*\]", "", line).split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                candidates.append(parts[1])
    if not candidates:
        raise SetupError(
            f"No Debian {SUITE} mirror found in {apt_dir}/sources.list(.d).",
            hint="Set GRADER_DEBIAN_MIRROR to a Debian mirror URL, e.g. http://deb.debian.org/debian",
        )
    return candidates[0]


def ensure_base_image(client: EngineClient, say: Callable[[str], None] = print) -> BaseImageStatus:
    """Return how ``python:3.11-slim`` came to be on the engine."""
    try:
        image = engine_host.image_state(client, BASE_IMAGE)
    except NotFoundOnEngine:
        pass
    else:
        return BaseImageStatus(BASE_IMAGE, "present", is_stand_in(image.attrs))

    try:
        engine_host.pull_image(client, BASE_IMAGE)
    except EngineError as exc:
        reason = exc.detail.strip().splitlines()[0][:160]
    else:
        return BaseImageStatus(BASE_IMAGE, "pulled", False)

    say(
        f"{BASE_IMAGE} is not on this engine and cannot be pulled ({reason}).\n"
        f"Building a local stand-in from Debian {SUITE} packages instead; it is used only "
        "until the real image can be pulled (`docker pull python:3.11-slim` replaces it)."
    )
    tarball = rootfs_cache_path()
    action = "imported stand-in from cache"
    if not tarball.exists():
        _debootstrap_rootfs(tarball, say)
        action = "built stand-in"
    _import(client, tarball)
    say(f"{BASE_IMAGE} stand-in is ready ({action}; root filesystem cached at {tarball}).")
    return BaseImageStatus(BASE_IMAGE, action, True)


def _debootstrap_rootfs(tarball: Path, say: Callable[[str], None]) -> None:
    if shutil.which("debootstrap") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            from grader.provision.daemon import apt_install

            say("Installing debootstrap with apt-get …")
            apt_install("debootstrap")
        else:
            raise SetupError(
                "debootstrap is needed to build the offline base image but is not installed.",
                hint="Install it (`sudo apt-get install debootstrap`) and run this again as root, "
                "or `docker load` a python:3.11-slim image from a machine that has one.",
            )
    if os.geteuid() != 0:
        raise SetupError(
            "Building the offline base image needs root (debootstrap creates device files).",
            hint="Run `sudo make engine` once; later runs reuse the cached image.",
        )
    mirror = debian_mirror()
    say(f"debootstrap {SUITE} from {mirror} (about a minute) …")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="python-slim-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        result = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(rootfs),
                mirror,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-6:])
            raise SetupError(f"debootstrap failed:\n{tail}", hint=f"Check that {mirror} answers.")
        _make_it_feel_like_the_official_image(rootfs)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        partial.replace(tarball)


def _make_it_feel_like_the_official_image(rootfs: Path) -> None:
    # pip installs system-wide in the official image; Debian's marker forbids that.
    for marker in (rootfs / "usr/lib").glob("python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    for name, target in (("python", "python3"), ("pip", "pip3")):
        link = rootfs / "usr/bin" / name
        if not link.exists():
            link.symlink_to(target)
    if HOST_CA_BUNDLE.exists():
        shutil.copyfile(HOST_CA_BUNDLE, rootfs / "etc/ssl/certs/ca-certificates.crt")
    lists = rootfs / "var/lib/apt/lists"
    for entry in lists.glob("*"):
        if entry.is_file():
            entry.unlink()
    shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


def _import(client: EngineClient, tarball: Path) -> None:
    try:
        engine_host.import_rootfs(client, tarball, BASE_IMAGE, list(IMAGE_CHANGES))
    except EngineError as exc:
        raise SetupError(f"Importing the stand-in base image failed: {exc.detail}") from exc
