"""Newer engines, offline: Docker Engine 26 and Podman 5 nested in containers on the host engine.

Learners run Docker Engine 25–29 (BuildKit, ``docker save`` in the OCI layout, often
the containerd image store) or Podman; the host here runs Debian 12's Engine 20.10.
Debian 13 (trixie) packages those newer engines, and the host's Debian mirror serves
trixie, so no registry is needed:

1. ``debootstrap`` a trixie root filesystem holding the engine's packages (cached as
   a tarball next to the ``python:3.11-slim`` stand-in's, one per package set);
2. import it as ``docker-ml-course/nested-<docker|podman>:trixie`` on the host engine;
3. run it as a (nearly) privileged container, its data root on a named volume, its
   API on ``tcp://<the container's bridge IP>:2375`` (never published on the host);
4. copy ``python:3.11-slim`` from the host engine into it (``save`` → ``load``).

Labels, not names, find everything made here: ``org.docker-ml-course.kind`` is
``nested-engine`` (the container), ``nested-engine-data`` (its volume) or
``nested-engine-image`` (the imported image), and ``org.docker-ml-course.flavour``
says which flavour. None of them carries ``org.docker-ml-course.run``, the label of
grading runs: ``grader engine sweep`` (even ``--all``) and the tests' "nothing left
behind" checks leave a nested engine alone, like the deliberately kept
``python:3.11-slim``. :func:`stop` removes it.

Traps measured on this host (Debian 12, Engine 20.10, cgroup v1, kernel 6.x):

* ``--privileged`` cannot start anything here: the machine's capability bounding set
  lacks ``CAP_SYS_RESOURCE``, and a privileged container asks for every capability
  (runc: ``unable to apply caps: operation not permitted``). We fall back to "all
  capabilities but that one", unconfined seccomp/AppArmor/system paths and every
  device; ``/sys`` and the cgroup mounts are then read-only, so the entrypoint
  remounts them writable.
* Without ``CAP_SYS_RESOURCE`` nothing may raise an rlimit above its hard limit;
  rootful Podman sets ``nofile``/``nproc`` to 1048576 for every container and build
  step (crun: ``setrlimit RLIMIT_NOFILE: Operation not permitted``). The entrypoint
  pins Podman's default ulimits to the hard limits it was given.
* ``docker save`` from Engine 20.10 names the image ``python:3.11-slim``; Podman loads
  that as ``localhost/python:3.11-slim``. We retag it ``docker.io/library/…``, as a
  ``podman pull`` would have named it.
* ``Image.save()`` without ``named=True`` writes no tag: the copy would load untagged.
* The API refuses ``security_opt=["systempaths=unconfined"]`` (that is the CLI's
  spelling); the HostConfig fields behind it are ``MaskedPaths``/``ReadonlyPaths``.
* The ``name=systemd`` cgroup v1 hierarchy has the source ``systemd``, not ``cgroup``:
  left read-only, every ``docker exec`` in the nested engine fails ("error adding pid
  … to cgroups").
* The engine's API has no authentication: the entrypoint lets only the host (the
  bridge's gateway) reach it, so neither other containers on the host's bridge nor the
  nested engine's own containers can take over a (nearly) privileged engine.
* The container's bridge IP can change when it is re-created: re-export DOCKER_HOST
  after ``up`` (``grader engine nested status`` prints it).
* Not ours to fix, measured with the grader: on ``modern-containerd``, BuildKit builds
  sent as a tar body without a session (``POST /build?version=2``) fail with "failed to
  read downloaded context … build-context-…: no such host" (moby/moby#47717: the
  containerd worker ignores the upload); the docker CLI's session builds and the
  classic builder work there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.engine import BASE_IMAGE, LABEL_PREFIX
from grader.engine import host as engine_host
from grader.engine.host import ContainerState, EngineClient
from grader.errors import EngineError, EngineRefused, NotFoundOnEngine, SetupError
from grader.provision.base_image import debian_mirror, ensure_base_image, rootfs_cache_path

__all__ = [
    "API_PORT",
    "CGROUP_MOUNTS_AWK",
    "ENTRYPOINT_SCRIPT",
    "FLAVOURS",
    "EngineStatus",
    "ExistingEngine",
    "Flavour",
    "NestedEngine",
    "StopReport",
    "container_files",
    "daemon_json",
    "decide",
    "docker_host_line",
    "engine_command",
    "flavour",
    "packages_for",
    "rootfs_key",
    "rootfs_tarball",
    "run_settings",
    "start",
    "status",
    "stop",
]

SUITE = "trixie"
API_PORT = 2375
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20

LABEL_KIND = f"{LABEL_PREFIX}.kind"
LABEL_FLAVOUR = f"{LABEL_PREFIX}.flavour"
LABEL_ROOTFS = f"{LABEL_PREFIX}.rootfs"
LABEL_CONFIG = f"{LABEL_PREFIX}.config"
LABEL_PRIVILEGE = f"{LABEL_PREFIX}.privilege"
KIND_ENGINE = "nested-engine"
KIND_DATA = "nested-engine-data"
KIND_IMAGE = "nested-engine-image"

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
ENTRYPOINT = "/usr/local/sbin/docker-ml-course-engine"
# Bump when the rootfs recipe below changes without its package list changing.
ROOTFS_RECIPE = 1

Family = Literal["docker", "podman"]
Decision = Literal["create", "reuse", "replace"]

# What `apt-get install docker.io` gives a Debian user, minus what is useless in a
# container: docker.io's Depends pull in containerd, runc, tini (docker-init) and
# iptables; its Recommends xz-utils and pigz make `docker load` of compressed archives
# work and fast. procps: `docker top` runs `ps` in the daemon's namespace. iproute2:
# the entrypoint finds the host's gateway with `ip route`. No kmod: the host's kernel
# modules are not in the container, and everything dockerd needs is built in or loaded.
DOCKER_PACKAGES = (
    "docker.io",
    "containerd",
    "runc",
    "tini",
    "docker-buildx",
    "iptables",
    "ca-certificates",
    "xz-utils",
    "pigz",
    "procps",
    "iproute2",
)
# Rootful Podman: crun + conmon run containers, netavark + aardvark-dns give them a
# NATed bridge (through iptables or nftables), catatonit is `--init`. Nothing rootless
# (uidmap, passt, slirp4netns) and no fuse-overlayfs: native overlay works on the
# volume-backed /var/lib/containers.
PODMAN_PACKAGES = (
    "podman",
    "crun",
    "conmon",
    "netavark",
    "aardvark-dns",
    "catatonit",
    "iptables",
    "nftables",
    "ca-certificates",
    "procps",
    "iproute2",
)


def engine_image(family: Family) -> str:
    """The image a family's root filesystem is imported as, on the host engine."""
    return f"docker-ml-course/nested-{family}:{SUITE}"


@dataclass(frozen=True)
class Flavour:
    """One kind of nested engine."""

    name: str
    """``modern``, ``modern-containerd`` or ``podman``."""
    family: Family
    """Which engine runs: Docker's or Podman's (the image and the package set follow)."""
    data_root: str
    """Where the engine keeps its images and containers: the named volume goes there."""
    containerd_store: bool = False
    """Docker only: keep images in the containerd image store (the snapshotter)."""

    @property
    def container_name(self) -> str:
        return f"docker-ml-course-engine-{self.name}"

    @property
    def volume_name(self) -> str:
        return f"docker-ml-course-engine-{self.name}-data"

    @property
    def image(self) -> str:
        return engine_image(self.family)


FLAVOURS: dict[str, Flavour] = {
    "modern": Flavour("modern", "docker", "/var/lib/docker"),
    "modern-containerd": Flavour(
        "modern-containerd", "docker", "/var/lib/docker", containerd_store=True
    ),
    "podman": Flavour("podman", "podman", "/var/lib/containers"),
}


def flavour(name: str) -> Flavour:
    """The flavour called ``name``; a SetupError naming the choices otherwise."""
    try:
        return FLAVOURS[name]
    except KeyError:
        raise SetupError(
            f"No nested engine flavour {name!r}.",
            hint=f"Choose one of: {', '.join(FLAVOURS)}.",
        ) from None


def packages_for(family: Family) -> tuple[str, ...]:
    """The Debian packages debootstrap installs for an engine family."""
    return DOCKER_PACKAGES if family == "docker" else PODMAN_PACKAGES


def rootfs_key(family: Family) -> str:
    """A short hash of what goes into the root filesystem: a new package set, a new tarball."""
    recipe = json.dumps([SUITE, ROOTFS_RECIPE, sorted(packages_for(family))])
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def rootfs_tarball(family: Family) -> Path:
    """Where the family's root filesystem is cached: next to the python stand-in's."""
    return rootfs_cache_path().parent / f"nested-{family}-{SUITE}-{rootfs_key(family)}.tar"


def docker_host_line(address: str, port: int = API_PORT) -> str:
    """The line to paste into a shell (and the last line `grader engine nested up` prints)."""
    return f"DOCKER_HOST=tcp://{address}:{port}"


# --- what goes into the container -------------------------------------------------------


def daemon_json(spec: Flavour) -> dict[str, Any]:
    """``/etc/docker/daemon.json`` for a Docker flavour."""
    if spec.family != "docker":
        raise ValueError(f"{spec.name} runs Podman, which has no daemon.json")
    if spec.containerd_store:
        # Images live in containerd's content store, unpacked by its overlayfs snapshotter;
        # `docker info` shows `driver-type: io.containerd.snapshotter.v1`.
        return {"features": {"containerd-snapshotter": True}}
    return {"storage-driver": "overlay2"}


# Podman reads these on start. cgroupfs: there is no systemd in the container to
# delegate cgroups; k8s-file logs and file events: there is no journald either.
PODMAN_CONTAINERS_CONF = """\
[containers]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
# Docker's meaning of `FROM python:3.11-slim`: docker.io, no prompt (no TTY to ask on).
PODMAN_REGISTRIES_CONF = """\
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
"""
PODMAN_STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = "/var/lib/containers/storage"
runroot = "/run/containers/storage"
"""

# The mount points of cgroup file systems in /proc/self/mountinfo. The type is the field
# after "-": optional fields come before it, and the source field of the name=systemd
# hierarchy is "systemd", so a fixed column misses it (and `docker exec` then fails with
# "error adding pid … to cgroups: … /sys/fs/cgroup/systemd/docker/…: no such file").
CGROUP_MOUNTS_AWK = (
    '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }'
)

# Runs under the host's docker-init (tini) as the container's main process, then
# becomes the engine. POSIX sh: trixie's /bin/sh is dash.
ENTRYPOINT_SCRIPT = r"""#!/bin/sh
set -eu
say() { echo "docker-ml-course-engine: $*" >&2; }

# Not privileged (see grader/provision/nested_engine.py): /sys and the cgroup mounts come
# read-only. The engine creates its containers' cgroups there: make them writable.
mount -o remount,rw /sys 2>/dev/null || say "could not remount /sys read-write"
awk '@CGROUP_MOUNTS_AWK@' /proc/self/mountinfo |
while read -r mountpoint; do
    mount -o remount,bind,rw "$mountpoint" 2>/dev/null || say "could not remount $mountpoint"
done
# cgroup v2 (learners' hosts): processes may not sit in a cgroup whose controllers are
# handed to children, so move ourselves into a leaf first (as moby's dind script does).
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir -p /sys/fs/cgroup/init
    xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
    sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers \
        > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || :
fi

# trixie's iptables is iptables-nft; fall back to the legacy back end on kernels
# without nf_tables (the engine and netavark call plain `iptables`).
if ! iptables-nft -w -L -n >/dev/null 2>&1 && iptables-legacy -w -L -n >/dev/null 2>&1; then
    say "nf_tables unavailable: switching to iptables-legacy"
    update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
    update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null
fi

# The API has no authentication: answer only the host (the bridge's gateway), not other
# containers on the host's bridge nor the engine's own containers.
gateway=$(ip -4 route show default | awk '{ print $3; exit }')
if [ -n "$gateway" ]; then
    iptables -w -I INPUT -p tcp --dport "$ENGINE_API_PORT" ! -s "$gateway" -j REJECT --reject-with tcp-reset
else
    say "no default route: the API port is not restricted to the host"
fi

# Without CAP_SYS_RESOURCE no rlimit can be raised; rootful Podman would ask for 1048576.
if [ -d /etc/containers ]; then
    nofile=$(awk '/^Max open files/ { print $5 }' /proc/self/limits)
    nproc=$(awk '/^Max processes/ { print $4 }' /proc/self/limits)
    mkdir -p /etc/containers/containers.conf.d
    printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' \
        "$nofile" "$nofile" "$nproc" "$nproc" > /etc/containers/containers.conf.d/50-limits.conf
fi

say "starting: $*"
exec "$@"
""".replace("@CGROUP_MOUNTS_AWK@", CGROUP_MOUNTS_AWK)


def engine_command(spec: Flavour, port: int = API_PORT) -> list[str]:
    """The container's command: the entrypoint script, then the engine listening on TCP."""
    if spec.family == "docker":
        # `--tls=false` says "yes, plain TCP" (dockerd 26 waits 15 s before listening
        # when it has to guess); the unix socket is for `docker exec … docker` debugging.
        engine = [
            "dockerd",
            "--host=unix:///var/run/docker.sock",
            f"--host=tcp://0.0.0.0:{port}",
            "--tls=false",
        ]
    else:
        engine = ["podman", "system", "service", "--time=0", f"tcp://0.0.0.0:{port}"]
    return [ENTRYPOINT, *engine]


def container_files(spec: Flavour) -> dict[str, tuple[bytes, int]]:
    """Files written into the container before it starts: path → (content, mode)."""
    files: dict[str, tuple[bytes, int]] = {ENTRYPOINT: (ENTRYPOINT_SCRIPT.encode(), 0o755)}
    if spec.family == "docker":
        text = json.dumps(daemon_json(spec), indent=2) + "\n"
        files["/etc/docker/daemon.json"] = (text.encode(), 0o644)
    else:
        files["/etc/containers/containers.conf"] = (PODMAN_CONTAINERS_CONF.encode(), 0o644)
        files["/etc/containers/registries.conf"] = (PODMAN_REGISTRIES_CONF.encode(), 0o644)
        files["/etc/containers/storage.conf"] = (PODMAN_STORAGE_CONF.encode(), 0o644)
    return files


def config_digest(spec: Flavour) -> str:
    """A hash of the container's make-up: a running engine made differently is replaced."""
    files = container_files(spec)
    recipe = {
        "rootfs": rootfs_key(spec.family),
        "command": engine_command(spec),
        "files": {path: hashlib.sha256(data).hexdigest() for path, (data, _) in files.items()},
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def _files_tar(files: Mapping[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for path, (data, mode) in sorted(files.items()):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# --- deciding what to do with what is there ---------------------------------------------


@dataclass(frozen=True)
class ExistingEngine:
    """What :func:`start` found under the flavour's name on the host engine."""

    state: str
    """The container's state: ``running``, ``exited``, ``created`` …"""
    config: str
    """Its ``org.docker-ml-course.config`` label (see :func:`config_digest`)."""
    answers: bool
    """Whether its API answered a ping."""


def decide(existing: ExistingEngine | None, wanted_config: str) -> Decision:
    """Reuse a healthy engine made as we would make it; replace anything else."""
    if existing is None:
        return "create"
    if existing.state == "running" and existing.answers and existing.config == wanted_config:
        return "reuse"
    return "replace"


# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NestedEngine:
    """A nested engine that answers, and how :func:`start` got it there."""

    flavour: str
    container: str
    """The container's name on the host engine."""
    address: str
    """The container's IP on the host's default bridge."""
    server: str
    """What the engine says it is, e.g. ``Docker Engine 26.1.5+dfsg1 (API 1.45)``."""
    action: Literal["reused", "started"]
    privileged: bool
    """False when the host refused ``--privileged`` and we ran "all but SYS_RESOURCE"."""
    timings: tuple[tuple[str, float], ...] = ()
    """Seconds per phase (``debootstrap``, ``import``, ``start``, ``load python``, ``total``)."""

    @property
    def docker_host(self) -> str:
        return f"tcp://{self.address}:{API_PORT}"


@dataclass(frozen=True)
class StopReport:
    """What :func:`stop` removed."""

    flavour: str
    containers: int = 0
    volumes: int = 0
    images: int = 0
    kept_images: tuple[str, ...] = ()
    """Images ``--purge`` left because another nested engine still uses them."""


@dataclass(frozen=True)
class EngineStatus:
    """One flavour's nested engine as :func:`status` sees it."""

    flavour: str
    state: str
    """``absent``, or the container's state (``running``, ``exited`` …)."""
    docker_host: str | None = None
    server: str | None = None
    """What the engine says it is, or None when its API does not answer."""
    image_present: bool = False


# --- the host side ----------------------------------------------------------------------


@dataclass
class _Clock:
    phases: list[tuple[str, float]] = field(default_factory=list)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self.phases.append((name, round(time.monotonic() - began, 1)))


def start(
    host: EngineClient, flavour_name: str, say: Callable[[str], None] = print
) -> NestedEngine:
    """Bring up (or find) the flavour's nested engine; it answers and has python:3.11-slim.

    Everything this call creates is removed again if it fails or is interrupted.
    """
    spec = flavour(flavour_name)
    try:
        return _start(host, spec, say)
    except EngineError as exc:
        raise SetupError(
            f"The host engine or the nested {spec.name} engine failed: {exc.detail}",
            hint=f"`docker logs {spec.container_name}` may say why; "
            f"`grader engine nested down --flavour {spec.name}` clears it away.",
        ) from exc


def _start(host: EngineClient, spec: Flavour, say: Callable[[str], None]) -> NestedEngine:
    _refuse_to_nest_in_ourselves(host)
    began = time.monotonic()
    clock = _Clock()
    wanted = config_digest(spec)
    container = _find(host, KIND_ENGINE, spec)
    if container is not None:
        container = engine_host.inspect_container(host, container.id)
    existing = _existing(container)
    choice = decide(existing, wanted)
    if choice == "reuse" and container is not None:
        container = engine_host.inspect_container(host, container.id)
        address = _bridge_address(container)
        nested = _client(address)
        try:
            with clock.phase("load python"):
                _give_python_image(host, nested, spec, say)
            server = _describe(nested)
        finally:
            engine_host.close(nested)
        say(f"The {spec.name} engine is already running ({server}).")
        clock.phases.append(("total", round(time.monotonic() - began, 1)))
        return NestedEngine(
            spec.name,
            container.name,
            address,
            server,
            "reused",
            container.labels.get(LABEL_PRIVILEGE) == "full",
            tuple(clock.phases),
        )
    if choice == "replace" and container is not None:
        state = existing.state if existing else "unknown"
        say(f"Replacing the {spec.name} engine's container ({state}; its data volume is kept).")
        _remove_container(host, container.id, graceful=True)

    ensure_base_image(host, say)
    _ensure_engine_image(host, spec.family, clock, say)

    created_volume = False
    created: str | None = None
    finished = False
    try:
        with clock.phase("start"):
            created_volume = _ensure_volume(host, spec)
            created, privileged = _create_and_start(host, spec, wanted, say)
            started = engine_host.inspect_container(host, created)
            address = _bridge_address(started)
            say(f"Waiting for the {spec.name} engine's API on tcp://{address}:{API_PORT} …")
            nested = _wait_for_api(host, created, spec, address)
        try:
            with clock.phase("load python"):
                _give_python_image(host, nested, spec, say)
            server = _describe(nested)
        finally:
            engine_host.close(nested)
        finished = True
    finally:
        # Ctrl-C and failures alike: nothing half-made stays (the cached tarball and the
        # imported image are whole and are what makes the next try fast).
        if not finished:
            if created is not None:
                _remove_container(host, created)
            if created_volume:
                with contextlib.suppress(EngineError):
                    engine_host.remove_volume(host, spec.volume_name)
    clock.phases.append(("total", round(time.monotonic() - began, 1)))
    timing = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in clock.phases)
    say(f"The {spec.name} engine is up: {server} ({timing}).")
    return NestedEngine(
        spec.name, started.name, address, server, "started", privileged, tuple(clock.phases)
    )


def stop(
    host: EngineClient,
    flavour_name: str,
    *,
    purge: bool = False,
    say: Callable[[str], None] = print,
) -> StopReport:
    """Remove the flavour's container and data volume; with ``purge`` its image too.

    The cached root filesystem tarball stays, so a later start skips debootstrap.
    """
    spec = flavour(flavour_name)
    _refuse_to_nest_in_ourselves(host)
    containers = volumes = images = 0
    kept: list[str] = []
    for container in engine_host.find_containers(host, _filters(KIND_ENGINE, spec)):
        _remove_container(host, container.id, graceful=True)
        containers += 1
    for volume in engine_host.find_volumes(host, _filters(KIND_DATA, spec)):
        with contextlib.suppress(EngineError):
            engine_host.remove_volume(host, volume)
            volumes += 1
    if purge:
        image_labels = [f"{LABEL_KIND}={KIND_IMAGE}", f"{LABEL_PREFIX}.family={spec.family}"]
        for image in engine_host.find_images(host, labels=image_labels):
            try:
                engine_host.remove_image(host, image.id, force=False, noprune=False)
                images += 1
            except EngineRefused as exc:
                if exc.status_code != 409:
                    raise SetupError(f"Removing {spec.image} failed: {exc.detail}") from exc
                # modern and modern-containerd share one image: keep it for the other.
                kept.extend(image.tags or [image.short_id])
    report = StopReport(spec.name, containers, volumes, images, tuple(kept))
    what = f"{containers} container(s), {volumes} volume(s), {images} image(s)"
    say(f"Stopped the {spec.name} engine: removed {what}.")
    if kept:
        say(f"Kept {', '.join(kept)}: another nested engine still uses it.")
    return report


def status(host: EngineClient) -> list[EngineStatus]:
    """Each flavour's nested engine: absent, or its state, address and server version."""
    _refuse_to_nest_in_ourselves(host)
    found: list[EngineStatus] = []
    for spec in FLAVOURS.values():
        image_present = bool(engine_host.find_images(host, name=spec.image))
        container = _find(host, KIND_ENGINE, spec)
        if container is None:
            found.append(EngineStatus(spec.name, "absent", image_present=image_present))
            continue
        container = engine_host.inspect_container(host, container.id)
        address = _bridge_address(container, required=False)
        server = None
        if container.status == "running" and address:
            with contextlib.suppress(EngineError):
                nested = _client(address, timeout=5)
                try:
                    server = _describe(nested)
                finally:
                    engine_host.close(nested)
        docker_host = f"tcp://{address}:{API_PORT}" if address else None
        found.append(EngineStatus(spec.name, container.status, docker_host, server, image_present))
    return found


# --- helpers ----------------------------------------------------------------------------


def _filters(kind: str, spec: Flavour) -> list[str]:
    return [f"{LABEL_KIND}={kind}", f"{LABEL_FLAVOUR}={spec.name}"]


def _labels(kind: str, spec: Flavour, **extra: str) -> dict[str, str]:
    return {LABEL_KIND: kind, LABEL_FLAVOUR: spec.name, **extra}


def _find(host: EngineClient, kind: str, spec: Flavour) -> ContainerState | None:
    found = engine_host.find_containers(host, _filters(kind, spec))
    return found[0] if found else None


def _existing(container: ContainerState | None) -> ExistingEngine | None:
    """What ``container`` (as just inspected) is, and whether its API answers."""
    if container is None:
        return None
    answers = False
    address = _bridge_address(container, required=False)
    if container.status == "running" and address:
        with contextlib.suppress(EngineError):
            engine_host.close(_client(address, timeout=5))
            answers = True
    return ExistingEngine(container.status, container.labels.get(LABEL_CONFIG, ""), answers)


def _refuse_to_nest_in_ourselves(host: EngineClient) -> None:
    # After `export DOCKER_HOST=tcp://172.17.0.x:2375` the "host" client would be the
    # nested engine itself: it would find nothing to stop and nest engines three deep.
    try:
        name = str(engine_host.engine_info(host).get("Name", ""))
    except EngineError:
        return
    if name.startswith("docker-ml-course-engine-"):
        raise SetupError(
            f"DOCKER_HOST points at a nested engine ({name}), not at the host engine.",
            hint="Run this with DOCKER_HOST unset (e.g. `env -u DOCKER_HOST make …`): "
            "nested engines are managed from the host engine.",
        )


def _client(address: str, timeout: float = 300) -> EngineClient:
    return engine_host.client_at(f"tcp://{address}:{API_PORT}", timeout=timeout)


def _describe(nested: EngineClient) -> str:
    version = engine_host.engine_version(nested)
    names = [str(part.get("Name", "")) for part in version.get("Components") or []]
    product = "Podman" if any("Podman" in name for name in names) else "Docker Engine"
    return f"{product} {version.get('Version', '?')} (API {version.get('ApiVersion', '?')})"


def _bridge_address(container: ContainerState, *, required: bool = True) -> str:
    """The container's IP on the host's default bridge (``container`` as just inspected)."""
    address = container.bridge_address
    if not address and required:
        raise SetupError(
            f"{container.name} has no address on the host's default bridge.",
            hint="The nested engine is reached at its bridge IP; is the host's bridge "
            'network disabled (`"bridge": "none"` in the host\'s daemon.json)?',
        )
    return address


def _remove_container(host: EngineClient, container_id: str, *, graceful: bool = False) -> None:
    # A graceful stop lets dockerd stop its own containers and unmount their layers.
    engine_host.remove_container(
        host, container_id, stop_timeout=STOP_TIMEOUT_S if graceful else None
    )


def _ensure_volume(host: EngineClient, spec: Flavour) -> bool:
    """The engine's data root: a volume, since overlay on overlay fails. True if made now."""
    if engine_host.volume_exists(host, spec.volume_name):
        return False
    engine_host.create_volume(host, spec.volume_name, _labels(KIND_DATA, spec))
    return True


def run_settings(spec: Flavour, wanted_config: str, *, privileged: bool) -> dict[str, Any]:
    """How the engine's container is created: ``create_container`` and ``host_config`` kwargs.

    Pure, so that a test can read it: no ``ports`` anywhere (the API is reached at the
    container's bridge IP, never on the host's interfaces).
    """
    privilege = "full" if privileged else "all-but-sys-resource"
    host_config: dict[str, Any] = {
        "binds": {spec.volume_name: {"bind": spec.data_root, "mode": "rw"}},
        "init": True,
        # The engine's containers' cgroups go under this container's, not beside it.
        "cgroupns": "private",
    }
    if privileged:
        host_config["privileged"] = True
    else:
        # `--privileged` minus CAP_SYS_RESOURCE, spelled out; /sys and the cgroup mounts
        # stay read-only, and the entrypoint remounts them.
        host_config.update(
            cap_add=["ALL"],
            cap_drop=["SYS_RESOURCE"],
            security_opt=["seccomp=unconfined", "apparmor=unconfined"],
            device_cgroup_rules=["a *:* rwm"],
        )
    return {
        "name": spec.container_name,
        # `docker info` of the nested engine shows this name: how we notice DOCKER_HOST
        # pointing at it (see _refuse_to_nest_in_ourselves).
        "hostname": spec.container_name,
        "labels": _labels(
            KIND_ENGINE, spec, **{LABEL_CONFIG: wanted_config, LABEL_PRIVILEGE: privilege}
        ),
        "environment": {"ENGINE_API_PORT": str(API_PORT), "PODMAN_IGNORE_CGROUPSV1_WARNING": "1"},
        "host_config": host_config,
        # `--security-opt systempaths=unconfined` is the CLI's spelling of these two: the
        # API refuses it as a security option ("invalid --security-opt 2"). Empty lists
        # leave /proc/sys writable (the engine sets ip_forward and bridge sysctls there).
        "unmasked": not privileged,
    }


def _create(host: EngineClient, spec: Flavour, settings: dict[str, Any]) -> str:
    return engine_host.create_container(
        host,
        spec.image,
        engine_command(spec),
        name=settings["name"],
        hostname=settings["hostname"],
        labels=settings["labels"],
        environment=settings["environment"],
        host_config=settings["host_config"],
        unmasked=settings["unmasked"],
    )


def _create_and_start(
    host: EngineClient, spec: Flavour, wanted_config: str, say: Callable[[str], None]
) -> tuple[str, bool]:
    """Create and start the engine's container, privileged if the host allows; its id."""
    files = _files_tar(container_files(spec))
    for privileged in (True, False):
        container = None
        try:
            container = _create(
                host, spec, run_settings(spec, wanted_config, privileged=privileged)
            )
            engine_host.put_archive(host, container, "/", files)
            engine_host.start_container(host, container)
        except EngineRefused as exc:
            if container is not None:
                _remove_container(host, container)
            if privileged and "apply caps" in exc.detail:
                say(
                    "This host engine cannot start privileged containers (a capability is "
                    "missing from its bounding set): running the engine with every "
                    "capability but CAP_SYS_RESOURCE instead."
                )
                continue
            raise SetupError(
                f"Starting the {spec.name} engine's container failed: {exc.detail}",
                hint="The nested engine needs a Linux host engine that may run privileged "
                "(or all-capabilities) containers; `docker logs "
                f"{spec.container_name}` may say more.",
            ) from exc
        except BaseException:
            if container is not None:
                _remove_container(host, container)
            raise
        return container, privileged
    raise AssertionError("unreachable: the second try either returns or raises")


def _log_tail(host: EngineClient, container_id: str, lines: int = 15) -> str:
    try:
        text = engine_host.container_logs(host, container_id, tail=lines)
    except EngineError as exc:
        return f"(no log: {exc.detail})"
    return "\n".join(line[:300] for line in text.strip().splitlines())


def _wait_for_api(
    host: EngineClient, container_id: str, spec: Flavour, address: str
) -> EngineClient:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if engine_host.inspect_container(host, container_id).status != "running":
            break
        # The client asks the engine's API version as it is made: that is the probe.
        with contextlib.suppress(EngineError):
            engine_host.close(_client(address, timeout=3))
            return _client(address)
        time.sleep(0.5)
    container = engine_host.inspect_container(host, container_id)
    if container.status == "running":
        what = f"did not answer on tcp://{address}:{API_PORT} within {START_TIMEOUT_S:.0f} s"
    else:
        what = f"stopped (exit code {container.exit_code}) before its API answered"
    tail = _log_tail(host, container_id)
    raise SetupError(
        f"The nested {spec.name} engine {what}. The end of its log:\n{tail}",
        hint="The log says why. The container (and its volume, if made now) was removed; "
        f"`grader engine nested up --flavour {spec.name}` retries from the cached image.",
    )


def _give_python_image(
    host: EngineClient,
    nested: EngineClient,
    spec: Flavour,
    say: Callable[[str], None],
) -> None:
    """Copy python:3.11-slim from the host engine (no registry): save → load."""
    # Podman names what it loads from an unqualified archive tag `localhost/…`; a
    # `podman pull python:3.11-slim` would have named it docker.io/library/….
    wanted = f"docker.io/library/{BASE_IMAGE}" if spec.family == "podman" else BASE_IMAGE
    with contextlib.suppress(NotFoundOnEngine):
        image = engine_host.image_state(nested, wanted)
        if spec.family != "podman" or wanted in image.tags:
            return
    say(f"Copying {BASE_IMAGE} from the host engine into the {spec.name} engine …")
    try:
        engine_host.copy_image(host, nested, BASE_IMAGE)
        if spec.family == "podman":
            loaded = engine_host.image_state(nested, BASE_IMAGE)
            repository, tag = wanted.rsplit(":", 1)
            engine_host.tag_image(nested, loaded.id, repository, tag)
            loaded = engine_host.image_state(nested, loaded.id)
            for extra in (t for t in loaded.tags if t.startswith("localhost/")):
                engine_host.remove_image(nested, extra, noprune=True)
        engine_host.image_state(nested, wanted)
    except EngineError as exc:
        raise SetupError(
            f"Copying {BASE_IMAGE} into the {spec.name} engine failed: {exc.detail}",
            hint=f"Check `docker logs {spec.container_name}`.",
        ) from exc


# --- the root filesystem and its image -----------------------------------------------------


@contextlib.contextmanager
def _family_lock(family: Family, say: Callable[[str], None]) -> Iterator[None]:
    """One process at a time makes a family's root filesystem and image: the overlay2 and
    containerd lanes start side by side and need the same one (cold, both would
    debootstrap it into the same file)."""
    lock_path = rootfs_tarball(family).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"Waiting for another process making the {family} engine's image …")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_engine_image(
    host: EngineClient, family: Family, clock: _Clock, say: Callable[[str], None]
) -> None:
    with _family_lock(family, say):
        _ensure_engine_image_locked(host, family, clock, say)


def _engine_image_on_host(host: EngineClient, family: Family) -> tuple[bool, str | None]:
    """Whether the host has ``family``'s image of the current package set, and the id of
    the one it has (None: none at all)."""
    try:
        image = engine_host.image_state(host, engine_image(family))
    except NotFoundOnEngine:
        return False, None
    return image.labels.get(LABEL_ROOTFS) == rootfs_key(family), image.id


def prepare_rootfs(host: EngineClient, family: Family, say: Callable[[str], None]) -> bool:
    """Make ``family``'s cached root filesystem now, unless it or its image exists (so that
    a later start only imports it); whether it had to be made. ``make test`` runs this
    while the host's suite runs: debootstrap is mostly waiting for the mirror and the disk."""
    with _family_lock(family, say):
        current, _ = _engine_image_on_host(host, family)
        if current or rootfs_tarball(family).exists():
            return False
        _debootstrap(rootfs_tarball(family), family, say)
        return True


def _ensure_engine_image_locked(
    host: EngineClient, family: Family, clock: _Clock, say: Callable[[str], None]
) -> None:
    reference = engine_image(family)
    key = rootfs_key(family)
    current, old_id = _engine_image_on_host(host, family)
    if current:
        return
    tarball = rootfs_tarball(family)
    if not tarball.exists():
        with clock.phase("debootstrap"):
            _debootstrap(tarball, family, say)
    say(f"Importing {tarball.name} as {reference} …")
    with clock.phase("import"):
        changes = [
            f"LABEL {LABEL_KIND}={KIND_IMAGE}",
            f"LABEL {LABEL_PREFIX}.family={family}",
            f"LABEL {LABEL_ROOTFS}={key}",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV LANG=C.UTF-8",
        ]
        try:
            engine_host.import_rootfs(host, tarball, reference, changes)
        except EngineError as exc:
            raise SetupError(
                f"Importing {tarball} as {reference} failed: {exc.detail}",
                hint=f"Delete {tarball} to debootstrap it again.",
            ) from exc
    if old_id:
        # The image of an older package set, now untagged: unused, it goes.
        with contextlib.suppress(EngineError):
            engine_host.remove_image(host, old_id, noprune=False)


def _debootstrap(tarball: Path, family: Family, say: Callable[[str], None]) -> None:
    if os.geteuid() != 0:
        raise SetupError(
            "Building a nested engine's root filesystem needs root (debootstrap makes device files).",
            hint="Run this once with sudo; later runs reuse the cached image.",
        )
    if shutil.which("debootstrap") is None:
        from grader.provision.daemon import apt_install

        say("Installing debootstrap with apt-get …")
        apt_install("debootstrap")
    script_dir = Path("/usr/share/debootstrap/scripts")
    if script_dir.is_dir() and not (script_dir / SUITE).exists():
        raise SetupError(
            f"This debootstrap does not know Debian {SUITE}.",
            hint="Install a newer debootstrap (e.g. from bookworm-backports).",
        )
    mirror = debian_mirror()
    packages = ",".join(packages_for(family))
    say(f"debootstrap {SUITE} with {packages} from {mirror} (1–2 minutes) …")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"nested-{family}-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        try:
            command = [
                "debootstrap",
                "--variant=minbase",
                f"--include={packages}",
                SUITE,
                str(rootfs),
                mirror,
            ]
            code, output = _run_killing_group(command)
            if code != 0:
                tail = "\n".join(output.strip().splitlines()[-8:])
                raise SetupError(
                    f"debootstrap {SUITE} failed (exit {code}):\n{tail}",
                    hint=f"Check that {mirror} serves {SUITE} (GRADER_DEBIAN_MIRROR overrides it).",
                )
            _tidy_rootfs(rootfs)
            partial = tarball.with_suffix(f".{os.getpid()}.partial")
            try:
                subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
                partial.replace(tarball)
            finally:
                partial.unlink(missing_ok=True)
        finally:
            # debootstrap mounts /proc and /sys in the target; killed, it leaves them
            # mounted, and deleting the directory would walk into them.
            _unmount_below(rootfs)


def _run_killing_group(command: list[str]) -> tuple[int, str]:
    """Run ``command``; on Ctrl-C or any error kill it *and its children* (dpkg in chroot)."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return process.returncode, output


def _tidy_rootfs(rootfs: Path) -> None:
    # The engines check registries' certificates against this (and builds that use
    # the rootfs' tools): trust what the host trusts, e.g. a TLS-intercepting proxy.
    if HOST_CA_BUNDLE.exists():
        shutil.copyfile(HOST_CA_BUNDLE, rootfs / "etc/ssl/certs/ca-certificates.crt")
    # debootstrap keeps every .deb it installed (~100 MB) and the package lists.
    shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
    for entry in (rootfs / "var/lib/apt/lists").glob("*"):
        if entry.is_file():
            entry.unlink()


def _unmount_below(root: Path) -> None:
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    prefix = str(root.resolve()) + "/"
    mountpoints = []
    for line in lines:
        fields = line.split()
        if len(fields) > 4:
            # mountinfo escapes spaces and the like as octal (\040).
            point = fields[4].encode().decode("unicode_escape")
            if point.startswith(prefix) or point == prefix.rstrip("/"):
                mountpoints.append(point)
    for point in sorted(mountpoints, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
