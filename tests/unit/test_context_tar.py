"""The build context's tar body: USTAR, root-owned, modes and symlinks kept. No engine."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from grader.dockerignore import context_files
from grader.engine.context_tar import context_tar_bytes, write_context_tar
from grader.errors import SubmissionError

BLOCK = 512


def header_blocks(data: bytes) -> list[bytes]:
    """The raw 512-byte header of every member, walking the archive by hand."""
    headers, offset = [], 0
    while offset + BLOCK <= len(data) and data[offset : offset + BLOCK] != bytes(BLOCK):
        header = data[offset : offset + BLOCK]
        headers.append(header)
        size = int(header[124:136].rstrip(b"\0 ") or b"0", 8)
        offset += BLOCK + (size + BLOCK - 1) // BLOCK * BLOCK
    return headers


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


@pytest.fixture
def context(tmp_path: Path) -> Path:
    root = tmp_path / "context"
    (root / "app").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /ctx\n")
    (root / "app" / "main.py").write_text("print('hi')\n")
    (root / "app" / "run.sh").write_text("#!/bin/sh\n")
    (root / "app" / "run.sh").chmod(0o755)
    (root / "private").mkdir(mode=0o700)
    (root / "private" / "notes.txt").write_text("x")
    (root / "app" / "link").symlink_to("main.py")
    # Names Python would put in a PAX header by default: not ASCII, and over 100 bytes.
    (root / "données.txt").write_text("é")
    deep = root / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / "f.txt").write_text("deep")
    (root / ".env").write_text("API_KEY=secret\n")
    (root / ".dockerignore").write_bytes(b"\xef\xbb\xbf.env\r\n")
    return root


def test_tar_is_ustar_even_for_names_pax_would_take(context: Path) -> None:
    """Is every header USTAR (no ././@PaxHeader, which the engine reads as the
    Dockerfile), although names are not ASCII and a path is over 100 bytes?"""
    data = context_tar_bytes(context)
    headers = header_blocks(data)
    assert len(headers) == len(context_files(context))
    assert [h[257:265] for h in headers] == [b"ustar\x0000"] * len(headers)
    assert [h[156:157] for h in headers if h[156:157] in {b"x", b"g", b"L", b"K"}] == []
    assert b"PaxHeader" not in data
    names = members(data)
    assert "données.txt" in names
    assert f"{'d' * 60}/{'e' * 60}/f.txt" in names


def test_owners_are_root_without_names_and_modes_are_kept(context: Path) -> None:
    """Are uid/gid 0 with empty user and group names, and file and folder modes kept?"""
    names = members(context_tar_bytes(context))
    assert {(m.uid, m.gid, m.uname, m.gname) for m in names.values()} == {(0, 0, "", "")}
    assert names["app/run.sh"].mode == 0o755
    assert names["app/main.py"].mode == 0o644 & ~_umask()
    assert names["private"].isdir()
    assert names["private"].mode == 0o700


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_symlinks_stay_symlinks(context: Path) -> None:
    """Is a symlink sent as a symlink to its target, not as a copy of the file?"""
    link = members(context_tar_bytes(context))["app/link"]
    assert link.issym()
    assert link.linkname == "main.py"
    assert link.size == 0


def test_dockerignore_is_applied_as_the_cli_applies_it(context: Path) -> None:
    """Is `.env` left out although the .dockerignore starts with a BOM and uses CRLF?"""
    names = members(context_tar_bytes(context))
    assert ".env" not in names
    assert {".dockerignore", "Dockerfile", "app/main.py"} <= set(names)


def test_file_contents_arrive_intact(context: Path) -> None:
    """Does each file's content come out of the tar byte for byte?"""
    data = context_tar_bytes(context)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        extracted = tar.extractfile("données.txt")
        assert extracted is not None
        assert extracted.read() == "é".encode()


@pytest.mark.parametrize(
    ("relative", "named"),
    [
        # One name over 100 bytes: no prefix split can hold it.
        ("n" * 101 + ".txt", "n" * 101 + ".txt"),
        # Over 255 bytes in all: the folder is the first entry that cannot be held.
        ("/".join(["p" * 90] * 3) + "/f.txt", "/".join(["p" * 90] * 3)),
    ],
)
def test_a_name_ustar_cannot_hold_is_a_submission_error(
    tmp_path: Path, relative: str, named: str
) -> None:
    """Is a path USTAR cannot hold refused, naming the first entry it cannot hold, with
    a hint?"""
    (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).write_text("x")
    out = io.BytesIO()
    with pytest.raises(SubmissionError) as caught:
        write_context_tar(tmp_path, context_files(tmp_path), out)
    assert f"the path {named} is too long" in caught.value.message
    assert ".dockerignore" in caught.value.hint
    assert "Shorten" in caught.value.hint


def test_a_symlink_target_over_100_bytes_is_a_submission_error(tmp_path: Path) -> None:
    """Is a symlink whose target USTAR cannot hold refused, naming the link?"""
    (tmp_path / "link").symlink_to("t" * 120)
    with pytest.raises(SubmissionError, match="symlink link points"):
        write_context_tar(tmp_path, ["link"], io.BytesIO())
