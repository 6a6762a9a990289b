"""Choosing a builder, and decoding BuildKit's trace messages: no engine needed."""

from __future__ import annotations

import base64

import pytest

from grader.engine.builders import BuilderKind, EngineFeatures, builder_note, resolve_builder
from grader.engine.buildkit_trace import _status_response_class, decode_trace
from grader.errors import EngineError

DOCKER_20 = {"Version": "20.10.24+dfsg1", "ApiVersion": "1.41", "Os": "linux", "Arch": "amd64"}
DOCKER_26 = {
    "Version": "26.1.5+dfsg1",
    "ApiVersion": "1.45",
    "Os": "linux",
    "Arch": "amd64",
    "Components": [{"Name": "Engine"}, {"Name": "containerd"}],
}
PODMAN = {
    "Version": "5.4.2",
    "ApiVersion": "1.41",
    "Os": "linux",
    "Arch": "amd64",
    "Components": [{"Name": "Podman Engine"}, {"Name": "Conmon"}],
}


def test_auto_prefers_buildkit_on_docker_engine() -> None:
    """Does `auto` choose BuildKit on Docker Engine, old and new, and classic on Podman?"""
    assert resolve_builder(EngineFeatures.from_version(DOCKER_20), "auto") is BuilderKind.BUILDKIT
    assert resolve_builder(EngineFeatures.from_version(DOCKER_26), "auto") is BuilderKind.BUILDKIT
    assert resolve_builder(EngineFeatures.from_version(PODMAN), "auto") is BuilderKind.CLASSIC


def test_an_explicit_choice_is_kept_or_refused_with_a_hint() -> None:
    """Is `classic` honoured everywhere, and `buildkit` on Podman a fault with a hint?"""
    docker = EngineFeatures.from_version(DOCKER_26)
    assert resolve_builder(docker, "classic") is BuilderKind.CLASSIC
    with pytest.raises(EngineError) as raised:
        resolve_builder(EngineFeatures.from_version(PODMAN), "buildkit")
    assert "Podman Engine 5.4.2" in raised.value.message
    assert "--builder auto" in raised.value.hint


def test_heredocs_need_engine_23() -> None:
    """Is the built-in frontend's heredoc support told from the engine's version?"""
    assert not EngineFeatures.from_version(DOCKER_20).frontend_has_heredocs
    assert EngineFeatures.from_version(DOCKER_26).frontend_has_heredocs
    assert EngineFeatures.from_version(DOCKER_26).describe() == (
        "Docker Engine 26.1.5+dfsg1 (linux/amd64, API 1.45)"
    )


def test_a_trace_message_decodes_to_vertexes_and_logs() -> None:
    """Does a StatusResponse with a vertex and a log decode with its fields intact?"""
    message = _status_response_class()()
    vertex = message.vertexes.add(digest="sha256:abc", name="[4/7] RUN pip install", cached=True)
    vertex.started.seconds, vertex.started.nanos = 100, 500_000_000
    vertex.completed.seconds = 102
    message.logs.add(vertex="sha256:abc", stream=2, msg=b"Collecting numpy\n")
    message.warnings.add(vertex="sha256:abc", short=b"a warning")
    update = decode_trace(base64.b64encode(message.SerializeToString()).decode())
    assert update is not None
    (decoded,) = update.vertexes
    assert (decoded.name, decoded.cached, decoded.started, decoded.completed) == (
        "[4/7] RUN pip install",
        True,
        100.5,
        102.0,
    )
    assert decoded.error == ""
    assert [(log.stream, log.text) for log in update.logs] == [(2, "Collecting numpy\n")]
    assert [w.text for w in update.warnings] == ["a warning"]


@pytest.mark.parametrize("aux", [{"ID": "sha256:x"}, "not base64!", None, "AAEC"])
def test_what_is_not_a_trace_decodes_to_none(aux: object) -> None:
    """Are an image id, a broken string and garbage bytes told apart from a trace?"""
    assert decode_trace(aux) is None


CONTAINERD_STORE = {"DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}


@pytest.mark.parametrize(
    ("version", "usable"), [("26.1.5+dfsg1", False), ("27.4.1", False), ("27.5.0", True)]
)
def test_buildkit_is_passed_over_where_the_containerd_store_loses_uploaded_contexts(
    version: str, usable: bool
) -> None:
    """Does `auto` fall back to classic, saying why, on engines hit by moby#47717?"""
    features = EngineFeatures.from_version({**DOCKER_26, "Version": version}, CONTAINERD_STORE)
    assert features.containerd_store
    kind = resolve_builder(features, "auto")
    assert kind is (BuilderKind.BUILDKIT if usable else BuilderKind.CLASSIC)
    note = builder_note(features, "auto", kind)
    assert ("moby/moby#47717" in note) is not usable
    if not usable:
        with pytest.raises(EngineError, match="containerd image store"):
            resolve_builder(features, "buildkit")


def test_the_overlay2_store_keeps_buildkit() -> None:
    """Is an overlay2 Engine 26 (no containerd store) graded with BuildKit, without a note?"""
    features = EngineFeatures.from_version(
        DOCKER_26, {"DriverStatus": [["Backing Filesystem", "extfs"]]}
    )
    assert not features.containerd_store
    assert resolve_builder(features, "auto") is BuilderKind.BUILDKIT
    assert builder_note(features, "auto", BuilderKind.BUILDKIT) == ""


def test_podman_steps_map_to_lines_only_when_their_text_agrees(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Does buildah's per-stage count find the right line, and refuse a mismatch?"""
    from grader.build import instruction_of
    from grader.build_stream import BuildStep
    from grader.dockerfile import read_dockerfile

    (tmp_path / "Dockerfile").write_text(
        "ARG BASE=python:3.11-slim\n"
        "FROM $BASE AS builder\n"
        "RUN python -m venv /opt/venv\n"
        "FROM python:3.11-slim\n"
        "ENV PATH=/opt/venv/bin:$PATH\n"
        "COPY --from=builder /opt/venv /opt/venv\n"
    )
    dockerfile = read_dockerfile(
        tmp_path / "Dockerfile", base_image="python:3.11-slim", dependency_file="requirements.txt"
    )

    def step(stage: str, number: int, text: str) -> BuildStep:
        return BuildStep(number, 3, text, stage=stage, dialect="podman")

    found = instruction_of(dockerfile, step("stage-0", 2, "RUN python -m venv /opt/venv"))
    assert found is not None
    assert found.line == 3
    found = instruction_of(
        dockerfile, step("stage-1", 3, "COPY --from=builder /opt/venv /opt/venv")
    )
    assert found is not None
    assert found.line == 6
    assert instruction_of(dockerfile, step("stage-1", 2, "RUN something else")) is None
    assert instruction_of(dockerfile, step("stage-1", 9, "RUN x")) is None
