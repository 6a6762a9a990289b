"""An image's layers, one by one, from the tar file that ``docker save`` writes.

A container's merged filesystem hides what a later layer deleted, but the image
still ships every layer: a ``.env`` copied in one step and ``rm``'d in the next is
readable by anyone who runs ``docker save``. So the secrets stage reads what
``docker save`` gives away, layer by layer.

Three layouts reach us, depending on the engine:

* Engine ≤ 24 writes the legacy layout: ``manifest.json`` names a config file and
  ``<id>/layer.tar`` per layer (an identical layer may be a symlink to another).
* Engine ≥ 25 writes the OCI layout (``index.json`` → manifest → config and layer
  blobs under ``blobs/sha256/``), plus a ``manifest.json`` that points at the blobs.
* With the containerd image store, the layer blobs are compressed (gzip; zstd is
  possible). The compression is told by the blob's first bytes, not by a media
  type: ``manifest.json`` has no media types at all.

The outer tar is a file on disk and is read with random access; each layer is
streamed (``tarfile`` stream mode), so that nothing is extracted to disk and no
layer is held in memory whole.
"""

from __future__ import annotations

import gzip
import json
import platform
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import IO, Any

import docker.errors

from grader.engine.host import save_image_file
from grader.engine.session import ENGINE_FAULTS, EngineSession
from grader.errors import EngineError

__all__ = [
    "BaseImage",
    "EntryKind",
    "HistoryEntry",
    "Layer",
    "LayerEntry",
    "SavedImage",
    "base_prefix_length",
    "read_base_image",
    "save_image",
]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
_MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
# Nested indexes deeper than this are not something an engine writes: a loop guard.
_MAX_INDEX_DEPTH = 4


def _short(exc: BaseException) -> str:
    return _short_text(str(exc)) or type(exc).__name__


def _short_text(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0][:200] if text else ""


# --- talking to the engine ------------------------------------------------------------


def save_image(session: EngineSession, reference: str, dest: Path) -> None:
    """Write ``docker save <reference>`` into the file ``dest``, a chunk at a time.

    The image can be several hundred MB: it is streamed to disk, never held in memory.
    """
    try:
        save_image_file(session.client, reference, dest)
    except EngineError as exc:
        raise EngineError(
            f"The engine could not save the image {reference}: {_short_text(exc.detail)}"
        ) from exc


@dataclass(frozen=True)
class BaseImage:
    """What the graded image inherited from its FROM image, to skip it when scanning."""

    reference: str
    diff_ids: tuple[str, ...]
    """The base's layers, oldest first (``RootFS.Layers``)."""
    history: tuple[str, ...]
    """The base's history entries' ``created_by``, oldest first: where the graded
    image's own history starts."""


def read_base_image(session: EngineSession, reference: str) -> BaseImage | None:
    """The base image's layers and history, or None if the engine does not have it.

    A missing base is not a fault: the scan then simply skips nothing.
    """
    try:
        image = session.client.images.get(reference)
        layers = tuple(image.attrs.get("RootFS", {}).get("Layers") or ())
        # The engine lists history newest first.
        history = tuple(str(h.get("CreatedBy") or "") for h in reversed(image.history()))
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:
        # 400 is the engine refusing a reference it cannot parse (`${BASE}` left
        # unexpanded, a stage name with capitals): the learner's text, not a fault.
        if exc.status_code == 400:
            return None
        raise EngineError(
            f"The engine could not describe the base image {reference}: {_short(exc)}"
        ) from exc
    except ENGINE_FAULTS as exc:
        raise EngineError(
            f"The engine could not describe the base image {reference}: {_short(exc)}"
        ) from exc
    return BaseImage(reference, layers, history)


def base_prefix_length(diff_ids: Sequence[str], base_diff_ids: Sequence[str]) -> int:
    """How many leading layers of an image are its base's layers, in the same order.

    Only a prefix counts: a layer elsewhere in the image that happens to have the
    digest of a base layer (an empty layer, say) was made by the Dockerfile and
    must be scanned.
    """
    count = 0
    for own, base in zip(diff_ids, base_diff_ids, strict=False):
        if own != base:
            break
        count += 1
    return count


# --- the saved image ------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of the image config's history (one per Dockerfile step, roughly)."""

    index: int
    created_by: str
    """``COPY . . # buildkit`` (BuildKit) or ``/bin/sh -c #(nop) COPY dir:… in .`` (classic)."""
    empty_layer: bool
    """True for steps that changed only metadata (ENV, CMD …): they have no layer."""


@dataclass(frozen=True)
class Layer:
    """One layer of a saved image."""

    index: int
    """0-based position among the image's layers, oldest first."""
    diff_id: str
    """The digest of the uncompressed layer (config ``rootfs.diff_ids``)."""
    created_by: str
    """The history entry that made it; empty when the image has no usable history."""
    history_index: int | None
    """Index of that entry in :attr:`SavedImage.history`."""
    blob: str
    """The layer's path inside the saved tar."""


class EntryKind(StrEnum):
    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    WHITEOUT = "whiteout"
    """``.wh.<name>``: this layer deletes ``<name>`` from the layers below."""
    OPAQUE = "opaque"
    """``.wh..wh..opq``: this layer hides everything the layers below have in the folder."""
    OTHER = "other"


@dataclass(frozen=True)
class LayerEntry:
    """One entry of a layer's tar, as the image's filesystem sees it."""

    path: str
    """Absolute path in the image (``/app/.env``); for a whiteout the path it deletes,
    for an opaque marker the folder it empties."""
    kind: EntryKind
    size: int
    content: IO[bytes] | None
    """For a FILE, its bytes: readable only until the next entry is drawn (the
    layer is a stream)."""

    @property
    def is_whiteout(self) -> bool:
        return self.kind in {EntryKind.WHITEOUT, EntryKind.OPAQUE}


def _bad_archive(why: str) -> EngineError:
    return EngineError(f"The image saved by the engine cannot be read: {why}.")


class SavedImage:
    """A ``docker save`` tar file, opened for reading layer by layer.

    Use it as a context manager::

        with SavedImage.open(path) as saved:
            for layer in saved.layers[skip:]:
                for entry in saved.entries(layer):
                    ...
    """

    def __init__(self, tar: tarfile.TarFile, config: dict[str, Any], blobs: Sequence[str]) -> None:
        self._tar = tar
        self._members = {_normalise(m.name): m for m in tar.getmembers()}
        raw_history = config.get("history") or []
        self.history = tuple(
            HistoryEntry(i, str(h.get("created_by") or ""), bool(h.get("empty_layer")))
            for i, h in enumerate(raw_history)
        )
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        if len(diff_ids) != len(blobs):
            raise _bad_archive(
                f"the config lists {len(diff_ids)} layers but the manifest {len(blobs)}"
            )
        # History entries without empty_layer made the layers, in order (as the
        # engine's own `docker history` pairs them).
        makers = [h for h in self.history if not h.empty_layer]
        if len(makers) != len(blobs):
            makers = []  # no trustworthy pairing: say nothing rather than something wrong
        self.layers = tuple(
            Layer(
                index=i,
                diff_id=str(diff_id),
                created_by=makers[i].created_by if makers else "",
                history_index=makers[i].index if makers else None,
                blob=_normalise(blob),
            )
            for i, (diff_id, blob) in enumerate(zip(diff_ids, blobs, strict=True))
        )

    @classmethod
    def open(cls, path: Path, *, reference: str | None = None) -> SavedImage:
        """Open a saved image; ``reference`` picks the image when the tar holds several."""
        try:
            # Not a `with`: the open tar outlives this call, closed by close().
            tar = tarfile.open(path, mode="r:")  # noqa: SIM115
        except (OSError, tarfile.TarError) as exc:
            raise _bad_archive(f"{path.name} is not a tar file ({_short(exc)})") from exc
        try:
            members = {_normalise(m.name): m for m in tar.getmembers()}
            if "manifest.json" in members:
                config_path, blobs = _from_docker_manifest(tar, members, reference)
            elif "index.json" in members:
                config_path, blobs = _from_oci_index(tar, members)
            else:
                raise _bad_archive("it has neither manifest.json nor index.json")
            config = _read_json(tar, members, config_path)
            if not isinstance(config, dict):
                raise _bad_archive(f"the image config {config_path} is not a JSON object")
            return cls(tar, config, blobs)
        except BaseException:
            tar.close()
            raise

    def __enter__(self) -> SavedImage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._tar.close()

    def own_layers(self, base_diff_ids: Sequence[str] = ()) -> tuple[Layer, ...]:
        """The layers after the ones shared, in order, with the base image."""
        skip = base_prefix_length([layer.diff_id for layer in self.layers], base_diff_ids)
        return self.layers[skip:]

    def entries(self, layer: Layer) -> Iterator[LayerEntry]:
        """The layer's own tar entries, streamed (decompressed if need be)."""
        member = self._members.get(layer.blob)
        if member is None:
            raise _bad_archive(f"layer {layer.index + 1} ({layer.blob}) is missing")
        # extractfile follows a symlinked layer.tar (legacy saves share identical layers).
        handle = self._tar.extractfile(member)
        if handle is None:
            raise _bad_archive(f"layer {layer.index + 1} ({layer.blob}) is not a file")
        with handle:
            magic = handle.read(4)
            if not magic:
                return  # an empty blob: a layer with nothing in it
            handle.seek(0)
            stream = _decompressed(handle, magic, layer)
            try:
                with tarfile.open(fileobj=stream, mode="r|") as inner:
                    for item in inner:
                        yield _entry(item, inner)
            except (OSError, EOFError, tarfile.TarError) as exc:
                raise _bad_archive(
                    f"layer {layer.index + 1} ({layer.blob}) is not a tar ({_short(exc)})"
                ) from exc
            finally:
                if stream is not handle:
                    stream.close()


def _normalise(name: str) -> str:
    return name.removeprefix("./").lstrip("/")


def _read_json(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> Any:
    member = members.get(_normalise(name))
    if member is None:
        raise _bad_archive(f"{name} is missing")
    handle = tar.extractfile(member)
    if handle is None:
        raise _bad_archive(f"{name} is not a file")
    try:
        with handle:
            return json.load(handle)
    except ValueError as exc:
        raise _bad_archive(f"{name} is not JSON ({_short(exc)})") from exc


def _blob_path(digest: str) -> str:
    algorithm, _, hex_digest = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digest}"


def _from_docker_manifest(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], reference: str | None
) -> tuple[str, list[str]]:
    """Config and layer paths from ``manifest.json`` (both the legacy and the Engine 25+ one)."""
    entries = _read_json(tar, members, "manifest.json")
    if not isinstance(entries, list) or not entries:
        raise _bad_archive("manifest.json lists no image")
    chosen = entries[0]
    if reference is not None:
        chosen = next((e for e in entries if reference in (e.get("RepoTags") or [])), chosen)
    try:
        return str(chosen["Config"]), [str(path) for path in chosen["Layers"]]
    except (KeyError, TypeError) as exc:
        raise _bad_archive(f"manifest.json has no Config or Layers ({_short(exc)})") from exc


def _from_oci_index(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]
) -> tuple[str, list[str]]:
    """Config and layer paths from an OCI ``index.json``, through nested indexes."""
    manifests = list(_manifests(tar, members, _read_json(tar, members, "index.json"), 0))
    if not manifests:
        raise _bad_archive("index.json leads to no image manifest whose blobs are all present")
    # A multi-platform image saved by the containerd store may hold several: prefer ours.
    here = _machine_arch()
    for platform_arch, manifest in manifests:
        if platform_arch in {here, None}:
            return manifest
    return manifests[0][1]


def _manifests(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], index: Any, depth: int
) -> Iterator[tuple[str | None, tuple[str, list[str]]]]:
    if depth > _MAX_INDEX_DEPTH or not isinstance(index, dict):
        return
    for descriptor in index.get("manifests") or []:
        platform_info = descriptor.get("platform") or {}
        annotations = descriptor.get("annotations") or {}
        # BuildKit's provenance attestations ride along as manifests for "unknown/unknown".
        if platform_info.get("os") == "unknown" or (
            annotations.get("vnd.docker.reference.type") == "attestation-manifest"
        ):
            continue
        path = _blob_path(str(descriptor.get("digest", "")))
        if path not in members:
            continue  # the engine saved only some platforms of a multi-platform image
        document = _read_json(tar, members, path)
        if not isinstance(document, dict):
            continue
        media_type = descriptor.get("mediaType") or document.get("mediaType")
        if media_type in _INDEX_TYPES or (media_type is None and "manifests" in document):
            yield from _manifests(tar, members, document, depth + 1)
        elif media_type in _MANIFEST_TYPES or (media_type is None and "layers" in document):
            config = _blob_path(str((document.get("config") or {}).get("digest", "")))
            layers = [
                _blob_path(str(layer.get("digest", "")))
                for layer in document.get("layers") or []
                if isinstance(layer, dict)
            ]
            if all(p in members for p in [config, *layers]):
                yield platform_info.get("architecture"), (config, layers)


def _machine_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


def _decompressed(handle: IO[bytes], magic: bytes, layer: Layer) -> IO[bytes]:
    if magic.startswith(_GZIP_MAGIC):
        return gzip.GzipFile(fileobj=handle, mode="rb")
    if magic == _ZSTD_MAGIC:
        reader = _zstd_reader(handle)
        if reader is None:
            raise EngineError(
                f"Layer {layer.index + 1} of the image is compressed with zstd, which the "
                "grader cannot read yet.",
                hint="Install the `zstandard` package next to the grader, or use an engine "
                "whose image store keeps gzip or uncompressed layers.",
            )
        return reader
    return handle


def _zstd_reader(handle: IO[bytes]) -> IO[bytes] | None:
    """A zstd-decompressing reader, if this Python can make one."""
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python ≥ 3.14
    except ImportError:
        pass
    else:
        return zstd.ZstdFile(handle)  # type: ignore[no-any-return]
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        return None
    return zstandard.ZstdDecompressor().stream_reader(handle)  # type: ignore[no-any-return]


def _entry(item: tarfile.TarInfo, inner: tarfile.TarFile) -> LayerEntry:
    relative = PurePosixPath(_normalise(item.name).rstrip("/") or ".")
    name = relative.name
    if name == ".wh..wh..opq":
        return LayerEntry(_absolute(relative.parent), EntryKind.OPAQUE, 0, None)
    if name.startswith(".wh..wh."):
        # aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not a deletion
        return LayerEntry(_absolute(relative), EntryKind.OTHER, 0, None)
    if name.startswith(".wh."):
        deleted = relative.parent / name.removeprefix(".wh.")
        return LayerEntry(_absolute(deleted), EntryKind.WHITEOUT, 0, None)
    path = _absolute(relative)
    if item.isfile():
        return LayerEntry(path, EntryKind.FILE, item.size, inner.extractfile(item))
    if item.isdir():
        return LayerEntry(path, EntryKind.DIRECTORY, 0, None)
    if item.issym():
        return LayerEntry(path, EntryKind.SYMLINK, 0, None)
    if item.islnk():
        # The target's bytes came earlier in the same layer, as a FILE.
        return LayerEntry(path, EntryKind.HARDLINK, 0, None)
    return LayerEntry(path, EntryKind.OTHER, 0, None)


def _absolute(relative: PurePosixPath) -> str:
    text = relative.as_posix()
    return "/" if text in {"", "."} else f"/{text}"
