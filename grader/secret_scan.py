"""The secrets stage: the canary planted in the build context's .env must not be in the image."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator

from grader.checks import Verdict
from grader.engine import EngineSession

__all__ = ["scan_for_canary"]


class _ChunkReader:
    """A file-like view of an iterator of byte chunks, for tarfile's stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                break
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _files_with(session: EngineSession, image: str, needle: bytes) -> list[str]:
    found: list[str] = []
    with tarfile.open(fileobj=_ChunkReader(session.export_image_files(image)), mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            if not member.isfile() or member.size == 0:
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            tail = b""
            while block := handle.read(1024 * 1024):
                if needle in tail + block:
                    found.append("/" + member.name.lstrip("./"))
                    break
                tail = block[-len(needle) :]
    return found


def scan_for_canary(session: EngineSession, image: str, canary: str) -> Verdict:
    needle = canary.encode()
    metadata = json.dumps(session.image_attrs(image)) + json.dumps(session.image_history(image))
    if canary in metadata:
        return Verdict.failed(
            "The secret from .env is in the image's metadata (ENV, LABEL or build history): "
            "anyone with the image can read it with `docker history` or `docker inspect`.",
            "Never pass secrets with ENV, ARG or LABEL; give them at run time with "
            "`docker run --env-file .env`.",
        )
    files = _files_with(session, image, needle)
    if files:
        return Verdict.failed(
            f"The secret from .env is inside the image, in {', '.join(files[:3])}.",
            "Add `.env` to .dockerignore, so that `COPY . .` can never send it to the builder.",
            file=".dockerignore",
        )
    return Verdict.passed(
        "A canary secret planted in .env is nowhere in the image's files or history."
    )
