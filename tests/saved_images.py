"""``docker save`` tars as each engine writes them, made here for the tests without an engine.

* :func:`legacy_save`: Docker Engine ≤ 24, ``<id>/layer.tar`` per layer and a manifest.json;
* :func:`podman_save`: Podman, ``<digest>.tar`` per layer, each also linked as ``…/layer.tar``;
* :func:`oci_save`: Docker Engine ≥ 25, the OCI layout (index.json → manifest → blobs), with
  gzip-compressed layers under the containerd image store.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def layer_tar(
    files: dict[str, bytes] | None = None, dirs: tuple[str, ...] = (), markers: tuple[str, ...] = ()
) -> bytes:
    """An uncompressed layer: folders, files, and empty whiteout marker files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in dirs:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for name, data in (files or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name in markers:
            tar.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
    return buffer.getvalue()


def diff_id(layer: bytes) -> str:
    return "sha256:" + hashlib.sha256(layer).hexdigest()


def image_config(diff_ids: Sequence[str], history: Sequence[dict[str, Any]]) -> bytes:
    """An image's config blob: its layers' diff ids and the history of the steps."""
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PYTHONUNBUFFERED=1"]},
            "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
            "history": list(history),
        }
    ).encode()


def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def legacy_save(
    path: Path, layers: Sequence[bytes], config: bytes, *, linked_layer: int | None = 1
) -> Path:
    """Engine ≤ 24: ``<id>/layer.tar`` per layer and a manifest.json; ``linked_layer`` is
    stored once more as a symlink, as the engine does for identical layers."""
    with tarfile.open(path, "w") as tar:
        names = []
        for index, layer in enumerate(layers):
            folder = f"{index:064x}"
            add(tar, f"{folder}/VERSION", b"1.0")
            add(tar, f"{folder}/layer.tar", layer)
            names.append(f"{folder}/layer.tar")
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        add(tar, config_name, config)
        if linked_layer is not None:
            link = tarfile.TarInfo("f" * 64 + "/layer.tar")
            link.type = tarfile.SYMTYPE
            link.linkname = f"../{linked_layer:064x}/layer.tar"
            tar.addfile(link)
            names[linked_layer] = link.name
        manifest = [{"Config": config_name, "RepoTags": ["graded:latest"], "Layers": names}]
        add(tar, "manifest.json", json.dumps(manifest).encode())
    return path


def podman_save(path: Path, layers: Sequence[bytes], config: bytes) -> Path:
    """Podman: each layer as ``<digest>.tar``, the manifest naming those, and a legacy-style
    ``<id>/layer.tar`` symlink to each for older readers."""
    with tarfile.open(path, "w") as tar:
        names = []
        for index, layer in enumerate(layers):
            name = diff_id(layer).removeprefix("sha256:") + ".tar"
            add(tar, name, layer)
            names.append(name)
            link = tarfile.TarInfo(f"{index + 100:064x}/layer.tar")
            link.type, link.linkname = tarfile.SYMTYPE, f"../{name}"
            tar.addfile(link)
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        add(tar, config_name, config)
        manifest = [{"Config": config_name, "RepoTags": ["graded:latest"], "Layers": names}]
        add(tar, "manifest.json", json.dumps(manifest).encode())
    return path


def blob(tar: tarfile.TarFile, data: bytes) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    add(tar, f"blobs/sha256/{digest.removeprefix('sha256:')}", data)
    return {"digest": digest, "size": len(data)}


def oci_save(
    path: Path,
    layers: Sequence[bytes],
    config: bytes,
    *,
    gzipped: bool = False,
    nested: bool = False,
    docker_manifest: bool = False,
) -> Path:
    """Engine ≥ 25: index.json → (an index →) manifest → config and layer blobs; with
    ``docker_manifest``, also the manifest.json Engine 25+ adds for older readers."""
    layer_type = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gzipped else "")
    with tarfile.open(path, "w") as tar:
        add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        config_blob = blob(tar, config)
        layer_blobs = [blob(tar, gzip.compress(la) if gzipped else la) for la in layers]
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_blob},
            "layers": [{"mediaType": layer_type, **b} for b in layer_blobs],
        }
        top = {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "platform": {"os": "linux", "architecture": "amd64"},
            **blob(tar, json.dumps(manifest).encode()),
        }
        if nested:
            inner = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    # An attestation, and a platform the engine did not save: both passed over.
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "platform": {"os": "unknown", "architecture": "unknown"},
                        **blob(tar, json.dumps({"layers": []}).encode()),
                    },
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "platform": {"os": "linux", "architecture": "amd64"},
                        "digest": "sha256:" + "0" * 64,
                        "size": 1,
                    },
                    top,
                ],
            }
            top = {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                **blob(tar, json.dumps(inner).encode()),
            }
        add(tar, "index.json", json.dumps({"schemaVersion": 2, "manifests": [top]}).encode())
        if docker_manifest:
            entry = {
                "Config": f"blobs/sha256/{config_blob['digest'].removeprefix('sha256:')}",
                "RepoTags": ["graded:latest"],
                "Layers": [
                    f"blobs/sha256/{b['digest'].removeprefix('sha256:')}" for b in layer_blobs
                ],
            }
            add(tar, "manifest.json", json.dumps([entry]).encode())
    return path
