"""Reading `docker save` tars layer by layer, and tracing a layer to its Dockerfile line.

No engine: the saved images are built here (tests/saved_images.py), in the layouts engines
write (legacy, Podman's, OCI, OCI with gzip layers), from the same five layers:

0. the base image (it holds the canary too, so that reading it would show);
1. ``WORKDIR /app``;
2. ``COPY .env /app/.env``: the secret;
3. ``RUN rm /app/.env``: a whiteout, ``app/.wh..env``;
4. ``COPY app/ ./app/``: the code, with an opaque folder.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import docker.errors
import pytest
import requests

from grader.dockerfile import Dockerfile, Instruction, read_dockerfile
from grader.engine import EngineSession, image_layers
from grader.engine.image_layers import (
    EntryKind,
    SavedImage,
    base_prefix_length,
    save_image,
)
from grader.errors import EngineError
from grader.results import CheckStatus
from grader.secret_scan import align_history, history_keyword, scan_for_canary, scan_layers
from tests import saved_images
from tests.saved_images import add, blob, diff_id, image_config, layer_tar

CANARY = "canary-0123456789abcdef"

DOCKERFILE = """\
FROM python:3.11-slim
ARG VERSION=1
ENV PYTHONUNBUFFERED=1
WORKDIR /app
COPY .env /app/.env
RUN rm /app/.env
COPY app/ ./app/
CMD ["python", "-m", "app"]
"""
LINE = {"WORKDIR": 4, "COPY .env": 5, "RUN": 6, "COPY app": 7, "CMD": 8}

BUILDKIT_HISTORY = [
    {"created_by": "", "comment": "Imported from -"},
    {"created_by": "ARG VERSION=1", "empty_layer": True},
    {"created_by": "ENV PYTHONUNBUFFERED=1", "empty_layer": True},
    {"created_by": "WORKDIR /app"},
    {"created_by": "COPY .env /app/.env # buildkit"},
    {"created_by": "RUN |1 VERSION=1 /bin/sh -c rm /app/.env # buildkit"},
    {"created_by": "COPY app/ ./app/ # buildkit"},
    {"created_by": 'CMD ["python" "-m" "app"]', "empty_layer": True},
]
CLASSIC_CREATED_BY = [
    "/bin/sh -c #(nop)  ARG VERSION=1",
    "/bin/sh -c #(nop)  ENV PYTHONUNBUFFERED=1",
    "/bin/sh -c #(nop) WORKDIR /app",
    "/bin/sh -c #(nop) COPY file:6e76b6377ddc1ff5 in /app/.env ",
    "|1 VERSION=1 /bin/sh -c rm /app/.env",
    "/bin/sh -c #(nop) COPY dir:c39e5022d6cf5c8c in ./app/ ",
    '/bin/sh -c #(nop)  CMD ["python" "-m" "app"]',
    "/bin/sh -c #(nop)  LABEL org.docker-ml-course.run=test",
]


ENV_TEXT = f"# planted\nAPI_KEY={CANARY}\n".encode()
LAYERS = [
    layer_tar({"usr/lib/base.txt": b"base " + CANARY.encode()}, dirs=("usr/", "usr/lib/")),
    layer_tar(dirs=("app/",)),
    layer_tar({"app/.env": ENV_TEXT}, dirs=("app/",)),
    layer_tar(dirs=("app/",), markers=("app/.wh..env",)),
    layer_tar(
        {"app/main.py": b"print('hi')\n"},
        dirs=("app/", "app/cache/"),
        markers=("app/cache/.wh..wh..opq",),
    ),
]


DIFF_IDS = [diff_id(layer) for layer in LAYERS]


def config_json(history: list[dict[str, Any]] = BUILDKIT_HISTORY) -> bytes:
    return image_config(DIFF_IDS, history)


def legacy_save(path: Path, layers: list[bytes] = LAYERS) -> Path:
    return saved_images.legacy_save(path, layers, config_json())


def oci_save(
    path: Path,
    *,
    layers: list[bytes] = LAYERS,
    gzipped: bool = False,
    nested: bool = False,
    docker_manifest: bool = False,
    history: list[dict[str, Any]] = BUILDKIT_HISTORY,
) -> Path:
    return saved_images.oci_save(
        path,
        layers,
        config_json(history),
        gzipped=gzipped,
        nested=nested,
        docker_manifest=docker_manifest,
    )


LAYOUTS = {
    "legacy": legacy_save,
    "oci": oci_save,
    "oci-gzip": lambda p: oci_save(p, gzipped=True),
    "oci-nested-index-gzip": lambda p: oci_save(p, gzipped=True, nested=True),
    "engine-25-manifest-json-gzip": lambda p: oci_save(p, gzipped=True, docker_manifest=True),
    "podman": lambda p: saved_images.podman_save(p, LAYERS, config_json()),
}


@pytest.fixture(params=sorted(LAYOUTS))
def saved_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return cast(Path, LAYOUTS[request.param](tmp_path / "image.tar"))


def entries_of(saved: SavedImage, index: int) -> list[tuple[str, EntryKind]]:
    return [(e.path, e.kind) for e in saved.entries(saved.layers[index])]


# --- the reader -----------------------------------------------------------------------------


def test_layers_come_in_order_with_their_diff_id_and_step(saved_path: Path) -> None:
    """Does each layer carry its diff_id and the history entry that made it, skipping
    history entries that have no layer?"""
    with SavedImage.open(saved_path) as saved:
        assert [layer.diff_id for layer in saved.layers] == DIFF_IDS
        assert [layer.created_by for layer in saved.layers] == [
            "",
            "WORKDIR /app",
            "COPY .env /app/.env # buildkit",
            "RUN |1 VERSION=1 /bin/sh -c rm /app/.env # buildkit",
            "COPY app/ ./app/ # buildkit",
        ]
        assert [layer.history_index for layer in saved.layers] == [0, 3, 4, 5, 6]


def test_a_secret_deleted_in_a_later_layer_is_still_found(saved_path: Path) -> None:
    """Is a secret deleted in a later layer still found, in the layer that added it?"""
    with SavedImage.open(saved_path) as saved:
        scan = scan_layers(saved, CANARY.encode(), DIFF_IDS[:1])
    assert [(s.layer.index, s.paths) for s in scan.sightings] == [(2, ("/app/.env",))]
    assert scan.sightings[0].layer.created_by == "COPY .env /app/.env # buildkit"
    deleted = scan.first_deletion()
    assert deleted is not None
    assert (deleted[0].layer.index, deleted[0].path, deleted[1]) == (3, "/app/.env", "/app/.env")


def test_whiteouts_and_opaque_folders_are_told_apart(saved_path: Path) -> None:
    """Are `.wh.<name>` (a deletion) and `.wh..wh..opq` (an emptied folder) reported as
    such, with the path they act on?"""
    with SavedImage.open(saved_path) as saved:
        assert entries_of(saved, 3) == [
            ("/app", EntryKind.DIRECTORY),
            ("/app/.env", EntryKind.WHITEOUT),
        ]
        assert ("/app/cache", EntryKind.OPAQUE) in entries_of(saved, 4)
        assert ("/app/main.py", EntryKind.FILE) in entries_of(saved, 4)


def test_file_contents_are_streamed(saved_path: Path) -> None:
    """Can a file's bytes be read from the layer as it streams by?"""
    with SavedImage.open(saved_path) as saved:
        found = {
            e.path: e.content.read()
            for e in saved.entries(saved.layers[2])
            if e.kind is EntryKind.FILE and e.content is not None
        }
    assert found == {"/app/.env": ENV_TEXT}


def test_the_base_prefix_is_skipped(saved_path: Path) -> None:
    """Are the base image's layers skipped (the canary planted in the base layer of the
    fixture is not reported), and read when no base is given?"""
    with SavedImage.open(saved_path) as saved:
        skipping = scan_layers(saved, CANARY.encode(), DIFF_IDS[:1])
        reading_all = scan_layers(saved, CANARY.encode())
    assert (skipping.layers, skipping.skipped) == (5, 1)
    assert [s.layer.index for s in skipping.sightings] == [2]
    assert reading_all.skipped == 0
    assert [s.layer.index for s in reading_all.sightings] == [0, 2]


def test_only_a_leading_run_of_base_layers_is_skipped() -> None:
    """Is a layer skipped only when it sits where the base's layers are, not merely
    because its digest equals a base layer's (an empty layer, say)?"""
    assert base_prefix_length(["b1", "b2", "own"], ["b1", "b2"]) == 2
    assert base_prefix_length(["own", "b1", "b2"], ["b1", "b2"]) == 0
    assert base_prefix_length(["b1", "own", "b2"], ["b1", "b2"]) == 1
    assert base_prefix_length(["b1"], ["b1", "b2"]) == 1
    assert base_prefix_length(["b2", "b1", "own"], ["b1", "b2"]) == 0


def test_a_base_digest_later_in_the_image_is_still_read(tmp_path: Path) -> None:
    """Is the layer that holds the secret read even if its digest is also the base's
    (listed out of place)?"""
    with SavedImage.open(legacy_save(tmp_path / "image.tar")) as saved:
        scan = scan_layers(saved, CANARY.encode(), [DIFF_IDS[2]])
    assert scan.skipped == 0
    assert 2 in [s.layer.index for s in scan.sightings]


def test_a_needle_split_across_two_blocks_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is the canary found when it straddles two read blocks?"""
    import grader.secret_scan

    monkeypatch.setattr(grader.secret_scan, "_BLOCK_BYTES", 8)
    with SavedImage.open(oci_save(tmp_path / "image.tar")) as saved:
        scan = scan_layers(saved, CANARY.encode(), DIFF_IDS[:1])
    assert [s.paths for s in scan.sightings] == [("/app/.env",)]


def test_zstd_layers_raise_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is a zstd-compressed layer (told by its magic bytes) refused with a clear EngineError
    when no zstd module is available?"""
    monkeypatch.setattr(image_layers, "_zstd_reader", lambda handle: None)
    zstd_like = b"\x28\xb5\x2f\xfd" + b"\x00" * 64
    path = oci_save(tmp_path / "image.tar", layers=[*LAYERS[:2], zstd_like, *LAYERS[3:]])
    with SavedImage.open(path) as saved, pytest.raises(EngineError, match="zstd"):
        list(saved.entries(saved.layers[2]))


def test_a_tar_without_manifest_or_index_is_an_engine_error(tmp_path: Path) -> None:
    """Is a save with neither manifest.json nor index.json reported as the engine's fault?"""
    with tarfile.open(tmp_path / "image.tar", "w") as tar:
        add(tar, "repositories", b"{}")
    with pytest.raises(EngineError, match=r"manifest\.json nor index\.json"):
        SavedImage.open(tmp_path / "image.tar")


# --- which Dockerfile line made which layer -------------------------------------------------


def final_steps() -> list[Instruction]:
    parsed = parse(DOCKERFILE)
    return [i for i in parsed.final_stage if i.keyword != "FROM"]


def parse(text: str) -> Dockerfile:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Dockerfile"
        path.write_text(text)
        parsed = read_dockerfile(
            path, base_image="python:3.11-slim", dependency_file="requirements.txt"
        )
    assert isinstance(parsed, Dockerfile)
    return parsed


def lines_of(created_by: list[str]) -> dict[str, int | None]:
    aligned = align_history(final_steps(), created_by)
    return {entry: (i.line if i else None) for entry, i in zip(created_by, aligned, strict=True)}


def test_history_keywords_in_both_spellings() -> None:
    """Is the instruction read right from BuildKit's and the classic builder's history?"""
    assert [history_keyword(e["created_by"]) for e in BUILDKIT_HISTORY] == [
        None, "ARG", "ENV", "WORKDIR", "COPY", "RUN", "COPY", "CMD"
    ]  # fmt: skip
    assert [history_keyword(c) for c in CLASSIC_CREATED_BY] == [
        "ARG", "ENV", "WORKDIR", "COPY", "RUN", "COPY", "CMD", "LABEL"
    ]  # fmt: skip
    assert history_keyword("/bin/sh -c pip install -r requirements.txt") == "RUN"


@pytest.mark.parametrize(
    "created_by",
    [
        [e["created_by"] for e in BUILDKIT_HISTORY[1:]],
        CLASSIC_CREATED_BY,
        # A BuildKit that writes no entry for ARG, and the classic builder without its ARG.
        [e["created_by"] for e in BUILDKIT_HISTORY[2:]],
        CLASSIC_CREATED_BY[1:],
    ],
    ids=["buildkit", "classic", "buildkit-without-arg", "classic-without-arg"],
)
def test_history_maps_to_the_dockerfile_lines(created_by: list[str]) -> None:
    """Does each history entry map to the line that made it, in either builder's spelling,
    even when one builder omits the ARG entry?"""
    by_keyword = {history_keyword(c): line for c, line in lines_of(created_by).items()}
    copies = [line for c, line in lines_of(created_by).items() if history_keyword(c) == "COPY"]
    assert copies == [LINE["COPY .env"], LINE["COPY app"]]
    assert by_keyword["WORKDIR"] == LINE["WORKDIR"]
    assert by_keyword["RUN"] == LINE["RUN"]
    assert by_keyword["CMD"] == LINE["CMD"]
    assert by_keyword.get("LABEL") is None  # the grader's own label is not in the Dockerfile


def test_the_base_images_entries_take_no_line() -> None:
    """When the base image's history is not told apart, does its `CMD ["python3"]` leave
    the Dockerfile's CMD (and everything before it) alone?"""
    base = ['/bin/sh -c #(nop)  CMD ["python3"]', "/bin/sh -c apt-get update"]
    mapped = lines_of(base + CLASSIC_CREATED_BY)
    assert mapped[base[0]] is None
    assert mapped[base[1]] is None
    assert mapped[CLASSIC_CREATED_BY[3]] == LINE["COPY .env"]
    assert mapped[CLASSIC_CREATED_BY[6]] == LINE["CMD"]


def test_an_unsure_mapping_gives_no_line() -> None:
    """Does an entry that no instruction agrees with get no line, rather than a wrong one?"""
    strangers = [
        "COPY secrets.txt /etc/secrets.txt # buildkit",
        "/bin/sh -c #(nop) COPY file:0123abcd in /etc/secrets.txt ",
        "RUN /bin/sh -c make # buildkit",
    ]
    assert list(lines_of(strangers).values()) == [None, None, None]


def test_flags_and_quoting_do_not_hide_a_match() -> None:
    """Do flags the builders leave out (--mount, --chown) and their re-quoting (exec form)
    still let a step find its line?"""
    steps = [
        i
        for i in parse(
            "FROM python:3.11-slim\n"
            "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
            "COPY --chown=10001:10001 app/ ./app/\n"
            'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
        ).final_stage
        if i.keyword != "FROM"
    ]
    history = [
        "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
        "COPY app/ ./app/ # buildkit",
        'CMD ["uvicorn" "app.main:app" "--host" "0.0.0.0"]',
    ]
    assert [i.line if i else None for i in align_history(steps, history)] == [2, 3, 4]


# --- the whole stage, with a stand-in engine ------------------------------------------------


class FakeImage:
    def __init__(
        self,
        archive: Path | None,
        layers: list[str],
        fail: bool = False,
        created_by: tuple[str, ...] = ("",),
    ) -> None:
        self.archive = archive
        self.attrs = {"RootFS": {"Layers": layers}, "Config": {"Env": []}}
        self.fail = fail
        self.created_by = created_by

    def history(self) -> list[dict[str, Any]]:
        return [{"CreatedBy": c} for c in reversed(self.created_by)]  # newest first

    def save(self, chunk_size: int) -> Iterator[bytes]:
        if self.fail:
            raise docker.errors.APIError("500 Server Error: open /var/lib/docker: no space")
        assert self.archive is not None
        with self.archive.open("rb") as handle:
            while chunk := handle.read(chunk_size):
                yield chunk


class FakeImages:
    def __init__(self, images: dict[str, FakeImage]) -> None:
        self._images = images

    def get(self, reference: str) -> FakeImage:
        if "$" in reference:  # what the engine answers for a reference it cannot parse
            response = requests.Response()
            response.status_code = 400
            raise docker.errors.APIError("400 Client Error: Bad Request", response=response)
        if reference not in self._images:
            raise docker.errors.ImageNotFound(reference)
        return self._images[reference]


class FakeSession:
    """Just what the secrets stage asks of an EngineSession: the client's images, the
    image's attributes and history."""

    def __init__(self, images: dict[str, FakeImage]) -> None:
        self.client = SimpleNamespace(images=FakeImages(images))

    def image_attrs(self, reference: str) -> dict[str, Any]:
        return self.client.images.get(reference).attrs

    def image_history(self, reference: str) -> list[dict[str, Any]]:
        return [{"CreatedBy": e.get("created_by", "")} for e in BUILDKIT_HISTORY]


def session_for(
    archive: Path | None, *, fail: bool = False, base_created_by: tuple[str, ...] = ("",)
) -> EngineSession:
    return cast(
        EngineSession,
        FakeSession(
            {
                "graded": FakeImage(archive, DIFF_IDS, fail),
                "python:3.11-slim": FakeImage(None, DIFF_IDS[:1], created_by=base_created_by),
            }
        ),
    )


def test_the_verdict_names_the_file_the_line_and_the_deletion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does the failed check name /app/.env, the COPY line that added it, say that
    deleting it in a later layer does not remove it, and leave no saved image behind?"""
    session = session_for(oci_save(tmp_path / "image.tar", gzipped=True))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    verdict = scan_for_canary(
        session, "graded", CANARY, dockerfile=parse(DOCKERFILE), base_image="python:3.11-slim"
    )
    assert verdict.status is CheckStatus.FAILED
    assert "/app/.env" in verdict.message
    assert f"line {LINE['COPY .env']} (`COPY .env /app/.env`) added it" in verdict.message
    assert f"Line {LINE['RUN']} (`RUN rm /app/.env`) deletes it" in verdict.message
    assert "deleting it in a later layer does not remove it" in verdict.message
    assert (verdict.file, verdict.line) == ("Dockerfile", LINE["COPY .env"])
    assert "docker run --env-file .env" in verdict.hint
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    "created_by",
    ["COPY . . # buildkit", "/bin/sh -c #(nop) COPY --chown=1:1dir:0123456789abcdef in . "],
    ids=["buildkit", "classic"],
)
@pytest.mark.parametrize("with_dockerfile", [True, False], ids=["dockerfile", "no-dockerfile"])
def test_a_whole_context_copy_points_at_dockerignore(
    tmp_path: Path, created_by: str, with_dockerfile: bool
) -> None:
    """When `COPY . .` brought the secret, does the hint point at .dockerignore (also when
    only the history tells what the step was)?"""
    text = DOCKERFILE.replace("COPY .env /app/.env", "COPY . .")
    history = [dict(e) for e in BUILDKIT_HISTORY]
    history[4]["created_by"] = created_by
    verdict = scan_for_canary(
        session_for(oci_save(tmp_path / "image.tar", history=history)),
        "graded",
        CANARY,
        dockerfile=parse(text) if with_dockerfile else None,
        base_image="python:3.11-slim",
    )
    assert verdict.status is CheckStatus.FAILED
    assert (verdict.file, verdict.line) == (".dockerignore", None)
    assert "Add `.env` to .dockerignore" in verdict.hint
    if with_dockerfile:
        assert (verdict.findings[0].file, verdict.findings[0].line) == (
            "Dockerfile",
            LINE["COPY .env"],
        )


def test_a_clean_image_passes_and_says_what_was_skipped(tmp_path: Path) -> None:
    """Does an image without the secret pass, counting the layers and the skipped base?"""
    clean = [LAYERS[0], LAYERS[1], layer_tar({"app/.keep": b"nothing secret here"}), *LAYERS[3:]]
    archive = tmp_path / "image.tar"
    with tarfile.open(archive, "w") as tar:
        config = json.loads(config_json())
        config["rootfs"]["diff_ids"] = [diff_id(layer) for layer in clean]
        config_blob = blob(tar, json.dumps(config).encode())
        names = [blob(tar, layer) for layer in clean]
        manifest = [
            {
                "Config": f"blobs/sha256/{config_blob['digest'][7:]}",
                "Layers": [f"blobs/sha256/{n['digest'][7:]}" for n in names],
            }
        ]
        add(tar, "manifest.json", json.dumps(manifest).encode())
    verdict = scan_for_canary(
        session_for(archive), "graded", CANARY, dockerfile=None, base_image="python:3.11-slim"
    )
    assert verdict.status is CheckStatus.PASSED, verdict.message
    assert verdict.message == (
        "A canary secret planted in .env is in none of the image's 5 layers "
        "(1 from the base image skipped), nor in its metadata."
    )


def test_the_old_call_still_works(tmp_path: Path) -> None:
    """Does `scan_for_canary(session, tag, canary)` (no Dockerfile, no base) still find the
    deleted .env, reading the base layer too (where the fixture also planted the canary)?"""
    session = session_for(legacy_save(tmp_path / "image.tar"))
    verdict = scan_for_canary(session, "graded", CANARY)
    assert verdict.status is CheckStatus.FAILED
    assert "in /usr/lib/base.txt, /app/.env:" in verdict.message
    assert "deletes /app/.env, but deleting it in a later layer" in verdict.message
    assert verdict.line is None  # no Dockerfile: no line to point at


def test_an_engine_fault_while_saving_is_an_engine_error(tmp_path: Path) -> None:
    """Is a failing `docker save` raised as EngineError, not turned into a failed check?"""
    with pytest.raises(EngineError, match="could not save"):
        save_image(session_for(None, fail=True), "graded", tmp_path / "image.tar")
    with pytest.raises(EngineError, match="could not save"):
        scan_for_canary(session_for(None, fail=True), "graded", CANARY)


def test_a_context_without_the_env_file_needs_no_save() -> None:
    """When .dockerignore kept .env (the canary's file) out of the build context, is the
    check passed without `docker save` (the engine never had the secret)?"""
    verdict = scan_for_canary(session_for(None, fail=True), "graded", CANARY, canary_sent=False)
    assert verdict.status is CheckStatus.PASSED
    assert "never sent to the engine" in verdict.message


@pytest.mark.parametrize(
    ("dockerignore", "sent"),
    [(".env\n", False), ("*.md\n", True), (".env\n!.env\n", True)],
    ids=["env-ignored", "env-sent", "env-re-included"],
)
def test_the_check_asks_the_build_context_whether_the_canary_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dockerignore: str, sent: bool
) -> None:
    """Does `secret_not_in_image` skip the layer scan exactly when the context the build
    sends (read as `docker build` reads .dockerignore) leaves .env out?"""
    from types import SimpleNamespace

    from grader.checks import secrets

    (tmp_path / ".env").write_text(f"API_KEY={CANARY}\n")
    (tmp_path / ".dockerignore").write_text(dockerignore)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    calls: list[bool] = []

    def scan(*_args: object, canary_sent: bool, **_options: object) -> object:
        calls.append(canary_sent)
        return None

    monkeypatch.setattr(secrets, "scan_for_canary", scan)
    ctx = SimpleNamespace(
        image="graded",
        session=None,
        workspace=SimpleNamespace(path=tmp_path, canary=CANARY),
        dockerfile=parse(DOCKERFILE),
    )
    secrets.secret_not_in_image.run(ctx)  # type: ignore[arg-type]
    assert calls == [sent]


def test_a_file_deleted_before_it_was_added_is_not_called_deleted(tmp_path: Path) -> None:
    """Does a whiteout in an earlier layer than the secret's (rm, then COPY again) leave
    the message free of the "deleted in a later layer" claim?"""
    layers = [LAYERS[0], LAYERS[1], LAYERS[3], LAYERS[2], LAYERS[4]]
    with SavedImage.open(oci_save(tmp_path / "image.tar", layers=layers)) as saved:
        scan = scan_layers(saved, CANARY.encode(), [diff_id(LAYERS[0])])
    assert [s.layer.index for s in scan.sightings] == [3]
    assert [(d.layer.index, d.path) for d in scan.deletions if not d.whole_folder] == [
        (2, "/app/.env")
    ]
    assert scan.first_deletion() is None


def test_the_base_images_trailing_history_is_told_apart(tmp_path: Path) -> None:
    """When the base image's last (layerless) history entry looks like a Dockerfile step,
    is it still kept from taking that step's line?"""
    base_cmd = {"created_by": 'CMD ["python" "-m" "app"]', "empty_layer": True}
    history = [BUILDKIT_HISTORY[0], base_cmd, *BUILDKIT_HISTORY[1:]]
    session = session_for(
        oci_save(tmp_path / "image.tar", history=history),
        base_created_by=("", base_cmd["created_by"]),
    )
    verdict = scan_for_canary(
        session, "graded", CANARY, dockerfile=parse(DOCKERFILE), base_image="python:3.11-slim"
    )
    assert verdict.line == LINE["COPY .env"], verdict.message


@pytest.mark.parametrize("base", ["builder", "${BASE}"])
def test_a_base_the_engine_does_not_know_skips_nothing(tmp_path: Path, base: str) -> None:
    """Does a FROM that names no image the engine has (a stage, an unexpanded ARG) make the
    scan read every layer instead of failing?"""
    session = session_for(legacy_save(tmp_path / "image.tar"))
    verdict = scan_for_canary(session, "graded", CANARY, base_image=base)
    assert verdict.status is CheckStatus.FAILED
    assert "/usr/lib/base.txt" in verdict.message  # the base layer was read too
