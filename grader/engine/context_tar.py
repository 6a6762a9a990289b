"""The build context as the tar body of ``POST /build``, for BuildKit and the classic builder.

USTAR only: the engine's BuildKit reads a PAX tar (Python's default whenever a header
needs it) as if its first member were the Dockerfile and fails with ``unknown
instruction: ././@PaxHeader`` (measured on Engine 20.10). Owners are root with no
names, as the docker CLI writes them (``ChownOpts`` 0:0), so that the image and the
build cache do not depend on who ran the grader; modes are kept, symlinks stay
symlinks, folders are entries of their own so that their modes travel too.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from grader.dockerignore import context_files
from grader.errors import SubmissionError

__all__ = ["context_tar_bytes", "write_context_tar"]

# The largest mtime a USTAR header holds (11 octal digits); the cache ignores mtimes.
_MAX_USTAR_MTIME = 8**11 - 1


def write_context_tar(root: Path, files: Iterable[str], out: BinaryIO) -> None:
    """Write ``files`` (relative POSIX paths under ``root``, parents first, as
    :func:`grader.dockerignore.context_files` lists them) to ``out`` as a USTAR tar.

    Raises :class:`SubmissionError` naming the file when USTAR cannot hold an entry
    (a path over 255 bytes or a name part over 100, a symlink target over 100 bytes,
    a file of 8 GiB or more).
    """
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT, encoding="utf-8") as tar:
        for relative in files:
            info = tar.gettarinfo(str(root / relative), arcname=relative)
            if info is None:
                continue  # a socket: the CLI leaves those out too
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = min(max(int(info.mtime), 0), _MAX_USTAR_MTIME)
            try:
                # Encode the header first: tarfile raises ValueError for what USTAR cannot
                # hold, and would otherwise do so after writing part of the member.
                info.tobuf(tarfile.USTAR_FORMAT, tar.encoding, tar.errors)
            except ValueError as exc:
                raise _unrepresentable(relative, info, exc) from exc
            if info.isreg():
                with (root / relative).open("rb") as content:
                    tar.addfile(info, content)
            else:
                tar.addfile(info)


def _unrepresentable(relative: str, info: tarfile.TarInfo, exc: ValueError) -> SubmissionError:
    if "linkname" in str(exc):
        what = f"the symlink {relative} points to a path longer than 100 bytes ({info.linkname})"
    elif "name" in str(exc):
        what = f"the path {relative} is too long for the build context"
    else:
        what = f"{relative} cannot be sent to the builder ({exc})"
    return SubmissionError(
        f"The build context cannot be packed: {what}.",
        hint="Shorten the path (at most 100 bytes per name and 255 in all), "
        "or exclude it in .dockerignore if the image does not need it.",
    )


def context_tar_bytes(root: Path, dockerfile: str = "Dockerfile") -> bytes:
    """The whole build context of ``root``, filtered by its ``.dockerignore`` as the
    docker CLI filters it, as USTAR tar bytes."""
    body = io.BytesIO()
    write_context_tar(root, context_files(root, dockerfile), body)
    return body.getvalue()
