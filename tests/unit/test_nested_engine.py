"""Nested engines (Docker 26, Podman 5 in containers), in the parts that need no engine."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from grader.engine import LABEL_RUN
from grader.errors import SetupError
from grader.provision import nested_engine
from grader.provision.nested_engine import (
    API_PORT,
    CGROUP_MOUNTS_AWK,
    ENTRYPOINT_SCRIPT,
    FLAVOURS,
    ExistingEngine,
    config_digest,
    container_files,
    daemon_json,
    decide,
    docker_host_line,
    engine_command,
    flavour,
    packages_for,
    rootfs_key,
    rootfs_tarball,
    run_settings,
)

# /proc/self/mountinfo of the engine's container on a cgroup v1 host, as measured.
MOUNTINFO = """\
700 699 0:45 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
701 700 0:46 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
702 701 0:29 / /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
703 701 0:32 / /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
704 701 0:37 / /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime - cgroup systemd rw,name=systemd
705 699 0:50 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw
706 699 0:51 / /var/lib/docker rw,relatime - ext4 /dev/vda rw
"""


def test_overlay2_flavour_configures_the_classic_store() -> None:
    """Does `modern` ask for overlay2 and not for the containerd image store?"""
    config = daemon_json(FLAVOURS["modern"])
    assert config == {"storage-driver": "overlay2"}
    assert "features" not in config


def test_containerd_flavour_turns_on_the_snapshotter() -> None:
    """Does `modern-containerd` keep images in the containerd image store?"""
    config = daemon_json(FLAVOURS["modern-containerd"])
    assert config["features"] == {"containerd-snapshotter": True}
    # A storage-driver next to the snapshotter would pick a graph driver instead.
    assert "storage-driver" not in config


def test_podman_has_no_daemon_json() -> None:
    """Is asking for Podman's daemon.json a programming error, not an empty file?"""
    with pytest.raises(ValueError, match="Podman"):
        daemon_json(FLAVOURS["podman"])


@pytest.mark.parametrize("name", ["modern", "modern-containerd"])
def test_daemon_json_reaches_the_container(name: str) -> None:
    """Is the file written into a Docker flavour's container exactly its daemon.json?"""
    files = container_files(FLAVOURS[name])
    content, mode = files["/etc/docker/daemon.json"]
    assert json.loads(content) == daemon_json(FLAVOURS[name])
    assert mode == 0o644
    assert not any(path.startswith("/etc/containers/") for path in files)


def test_podman_gets_its_configuration() -> None:
    """Without systemd and journald in the container, is Podman told to do without?"""
    files = container_files(FLAVOURS["podman"])
    containers_conf = files["/etc/containers/containers.conf"][0].decode()
    assert 'cgroup_manager = "cgroupfs"' in containers_conf
    assert 'events_logger = "file"' in containers_conf
    assert 'log_driver = "k8s-file"' in containers_conf
    registries = files["/etc/containers/registries.conf"][0].decode()
    assert 'unqualified-search-registries = ["docker.io"]' in registries
    assert "/etc/docker/daemon.json" not in files


@pytest.mark.parametrize("name", list(FLAVOURS))
def test_entrypoint_is_executable_and_first(name: str) -> None:
    """Does every flavour's command start with the entrypoint, written executable?"""
    spec = FLAVOURS[name]
    command = engine_command(spec)
    script, mode = container_files(spec)[command[0]]
    assert mode == 0o755
    assert script.startswith(b"#!/bin/sh\n")


def test_docker_listens_on_tcp_without_the_tls_wait() -> None:
    """Does dockerd listen on all of the container's addresses, with --tls=false said out loud?"""
    command = engine_command(FLAVOURS["modern"])
    assert command[1] == "dockerd"
    assert f"--host=tcp://0.0.0.0:{API_PORT}" in command
    assert "--tls=false" in command


def test_podman_serves_the_api_forever_on_tcp() -> None:
    """Does the Podman service never time out and listen on the API port?"""
    command = engine_command(FLAVOURS["podman"])
    assert command[1:5] == ["podman", "system", "service", "--time=0"]
    assert command[-1] == f"tcp://0.0.0.0:{API_PORT}"


def test_docker_packages_hold_what_dockerd_needs() -> None:
    """Are the engine, its runtime pieces, BuildKit's CLI plugin, NAT and the CA list there?"""
    packages = set(packages_for("docker"))
    needed = {"docker.io", "containerd", "runc", "tini", "docker-buildx", "iptables"}
    assert needed | {"ca-certificates"} <= packages
    assert "podman" not in packages


def test_podman_packages_hold_a_rootful_network_stack() -> None:
    """Are crun, conmon, netavark with aardvark-dns, catatonit and iptables there?"""
    packages = set(packages_for("podman"))
    needed = {"podman", "crun", "conmon", "netavark", "aardvark-dns", "catatonit"}
    assert needed | {"iptables", "ca-certificates"} <= packages
    assert "docker.io" not in packages


def test_docker_flavours_share_one_root_filesystem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Do both Docker flavours use one tarball, next to the python stand-in's, and Podman another?"""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    modern = rootfs_tarball(FLAVOURS["modern"].family)
    containerd = rootfs_tarball(FLAVOURS["modern-containerd"].family)
    podman = rootfs_tarball(FLAVOURS["podman"].family)
    assert modern == containerd
    assert podman != modern
    assert modern.parent == tmp_path / "docker-ml-course"
    assert FLAVOURS["modern"].image == FLAVOURS["modern-containerd"].image


def test_a_new_package_set_makes_a_new_tarball(monkeypatch: pytest.MonkeyPatch) -> None:
    """Does adding a package change the cache key, so an old tarball is not reused?"""
    before = rootfs_key("docker")
    monkeypatch.setattr(nested_engine, "DOCKER_PACKAGES", (*packages_for("docker"), "git"))
    assert rootfs_key("docker") != before


def test_docker_host_line_format() -> None:
    """Is the last line something a shell can `export` as it is?"""
    assert docker_host_line("172.17.0.3") == "DOCKER_HOST=tcp://172.17.0.3:2375"
    assert docker_host_line("10.0.0.9", port=2376) == "DOCKER_HOST=tcp://10.0.0.9:2376"


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (None, "create"),
        (ExistingEngine("running", "abc", answers=True), "reuse"),
        (ExistingEngine("running", "abc", answers=False), "replace"),
        (ExistingEngine("exited", "abc", answers=False), "replace"),
        (ExistingEngine("created", "abc", answers=False), "replace"),
        (ExistingEngine("running", "older", answers=True), "replace"),
    ],
)
def test_idempotency_decision(existing: ExistingEngine | None, expected: str) -> None:
    """Is only a running, answering engine made as we would make it reused?"""
    assert decide(existing, "abc") == expected


def test_config_digest_tells_flavours_apart() -> None:
    """Would a `modern` container never be reused as the `modern-containerd` one?"""
    digests = {config_digest(spec) for spec in FLAVOURS.values()}
    assert len(digests) == len(FLAVOURS)


@pytest.mark.parametrize("privileged", [True, False])
def test_nothing_is_published_on_the_host(privileged: bool) -> None:
    """Is the API reachable only at the container's bridge IP, never on a host port?"""
    settings = run_settings(FLAVOURS["modern"], "abc", privileged=privileged)
    assert "port_bindings" not in settings["host_config"]
    assert "publish_all_ports" not in settings["host_config"]
    assert "ports" not in settings


@pytest.mark.parametrize("name", list(FLAVOURS))
def test_sweep_and_leftover_checks_leave_the_engine_alone(name: str) -> None:
    """Does the engine carry our kind label but not the run label that sweeps remove?"""
    labels = run_settings(FLAVOURS[name], "abc", privileged=False)["labels"]
    assert LABEL_RUN not in labels
    assert labels["org.docker-ml-course.kind"] == "nested-engine"
    assert labels["org.docker-ml-course.flavour"] == name


def test_data_root_is_on_the_named_volume() -> None:
    """Does the engine's data root live on its volume (overlay on overlay fails)?"""
    for spec in FLAVOURS.values():
        binds = run_settings(spec, "abc", privileged=True)["host_config"]["binds"]
        assert binds == {spec.volume_name: {"bind": spec.data_root, "mode": "rw"}}
    assert FLAVOURS["podman"].data_root == "/var/lib/containers"


def test_fallback_is_privileged_minus_sys_resource() -> None:
    """Without --privileged, does the container get every capability but SYS_RESOURCE?"""
    settings = run_settings(FLAVOURS["modern"], "abc", privileged=False)
    host_config = settings["host_config"]
    assert "privileged" not in host_config
    assert host_config["cap_add"] == ["ALL"]
    assert host_config["cap_drop"] == ["SYS_RESOURCE"]
    assert host_config["device_cgroup_rules"] == ["a *:* rwm"]
    assert settings["unmasked"] is True
    assert run_settings(FLAVOURS["modern"], "abc", privileged=True)["unmasked"] is False


@pytest.mark.skipif(shutil.which("awk") is None, reason="needs awk")
def test_every_cgroup_mount_is_found_in_mountinfo() -> None:
    """Is the name=systemd hierarchy (source "systemd") remounted too, and nothing else?"""
    found = subprocess.run(
        ["awk", CGROUP_MOUNTS_AWK], input=MOUNTINFO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert found == [
        "/sys/fs/cgroup/cpu",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/systemd",
        "/sys/fs/cgroup/unified",
    ]


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs sh")
def test_entrypoint_is_valid_posix_shell(tmp_path: Path) -> None:
    """Does the entrypoint parse (trixie's /bin/sh is dash, which has no bashisms)?"""
    script = tmp_path / "entrypoint"
    script.write_text(ENTRYPOINT_SCRIPT)
    result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "@CGROUP_MOUNTS_AWK@" not in ENTRYPOINT_SCRIPT


def test_unknown_flavour_lists_the_choices() -> None:
    """Does a typo in the flavour name say which names exist?"""
    with pytest.raises(SetupError) as caught:
        flavour("modern-podman")
    assert "modern-containerd" in caught.value.hint


def test_cli_offers_exactly_the_module_flavours() -> None:
    """Can the command line never offer a flavour the module does not know, or miss one?"""
    from grader.cli import NESTED_FLAVOURS

    assert set(NESTED_FLAVOURS) == set(FLAVOURS)


class _FakeHost:
    """A host client whose engine is itself a nested engine (DOCKER_HOST exported)."""

    def __init__(self) -> None:
        self.listed = False

    def info(self) -> dict[str, Any]:
        return {"Name": "docker-ml-course-engine-modern"}

    @property
    def containers(self) -> Any:
        self.listed = True
        raise AssertionError("nothing may be looked up on the wrong engine")


def test_start_refuses_to_nest_inside_a_nested_engine() -> None:
    """With DOCKER_HOST pointing at a nested engine, does start stop at once and say why?"""
    host = _FakeHost()
    with pytest.raises(SetupError, match="DOCKER_HOST points at a nested engine") as caught:
        nested_engine.start(host, "modern", say=lambda _line: None)  # type: ignore[arg-type]
    assert "unset" in caught.value.hint
    assert not host.listed


class _Listing:
    def __init__(self, items: list[Any], on_remove: Any = None) -> None:
        self.items = items
        self.on_remove = on_remove
        self.filters: list[Any] = []

    def list(self, **kwargs: Any) -> list[Any]:
        self.filters.append(kwargs.get("filters"))
        return self.items

    def remove(self, *_args: Any, **_kwargs: Any) -> None:
        self.on_remove()


class _SharedImageHost:
    """A host whose nested-docker image the other Docker flavour still runs on."""

    def __init__(self) -> None:
        import docker.errors
        import requests

        response = requests.Response()
        response.status_code, response.reason = 409, "Conflict"

        def conflict() -> None:
            raise docker.errors.APIError("image is being used", response=response)

        image = type(
            "Image",
            (),
            {"id": "sha256:ab", "short_id": "ab", "tags": ["nested:trixie"], "attrs": {}},
        )
        self.containers = _Listing([])
        self.volumes = _Listing([])
        self.images = _Listing([image()], on_remove=conflict)

    def info(self) -> dict[str, Any]:
        return {"Name": "host"}


def test_purge_keeps_an_image_the_other_flavour_uses() -> None:
    """Does `down --purge` of one Docker flavour keep the image the other still runs on?"""
    host = _SharedImageHost()
    report = nested_engine.stop(host, "modern", purge=True, say=lambda _line: None)  # type: ignore[arg-type]
    assert report.images == 0
    assert report.kept_images == ("nested:trixie",)
    # Only our labelled resources of this flavour were looked for.
    assert host.containers.filters == [
        {
            "label": [
                "org.docker-ml-course.kind=nested-engine",
                "org.docker-ml-course.flavour=modern",
            ]
        }
    ]


def test_two_lanes_starting_at_once_make_the_engine_image_one_after_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the overlay2 and containerd lanes start side by side on a cold cache, does the
    second wait (and say so) until the first has made the shared root filesystem, rather
    than debootstrap into the same file at the same time?"""
    import threading

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    events: list[str] = []
    first_inside, release_first = threading.Event(), threading.Event()

    def make_image(host: Any, family: str, clock: Any, say: Any) -> None:
        name = threading.current_thread().name
        events.append(f"{name} starts")
        if name == "first":
            first_inside.set()
            release_first.wait(timeout=30)
        events.append(f"{name} ends")

    monkeypatch.setattr(nested_engine, "_ensure_engine_image_locked", make_image)
    said: list[str] = []

    def lane(name: str) -> threading.Thread:
        return threading.Thread(
            name=name,
            target=nested_engine._ensure_engine_image,
            args=(None, "docker", None, said.append),
        )

    first, second = lane("first"), lane("second")
    first.start()
    assert first_inside.wait(timeout=30)
    second.start()
    # The second lane is now blocked on the lock; let the first finish.
    for _ in range(300):
        if said:
            break
        threading.Event().wait(0.01)
    release_first.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert events == ["first starts", "first ends", "second starts", "second ends"]
    assert any("Waiting for another process" in line for line in said)


@pytest.mark.parametrize(
    ("image_key", "tarball_there", "debootstraps"),
    [
        (None, False, True),  # cold: nothing cached
        (None, True, False),  # the tarball is cached: a start only imports it
        ("current", False, False),  # the image of this package set is on the host engine
        ("older", False, True),  # only an older package set's image: a new tarball
    ],
)
def test_the_root_filesystem_is_made_ahead_only_when_a_start_would_need_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    image_key: str | None,
    tarball_there: bool,
    debootstraps: bool,
) -> None:
    """`make test` debootstraps the lanes' root filesystems while the host's suite runs
    (`grader engine nested rootfs`): is it made exactly when a lane's start would make it?"""
    from types import SimpleNamespace

    from grader.errors import NotFoundOnEngine

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    tarball = rootfs_tarball("docker")
    if tarball_there:
        tarball.parent.mkdir(parents=True)
        tarball.write_bytes(b"")

    def image_state(host: Any, reference: str) -> Any:
        if image_key is None:
            raise NotFoundOnEngine(reference)
        key = rootfs_key("docker") if image_key == "current" else "an older key"
        return SimpleNamespace(id="sha256:0123", labels={nested_engine.LABEL_ROOTFS: key})

    made: list[Path] = []
    monkeypatch.setattr(nested_engine.engine_host, "image_state", image_state)
    monkeypatch.setattr(nested_engine, "_debootstrap", lambda path, family, say: made.append(path))
    assert nested_engine.prepare_rootfs(None, "docker", print) is debootstraps
    assert made == ([tarball] if debootstraps else [])
