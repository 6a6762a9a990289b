"""The secrets stage: the canary planted in the build context's .env must not be in the image.

The merged filesystem of a container is not enough: a ``.env`` copied in one step
and deleted in the next is gone from it, yet every layer ships with the image and
``docker save`` gives it back. So every layer the Dockerfile made is read, and the
layer that holds the canary is traced back to the Dockerfile line that made it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from grader.checks.base import Verdict
from grader.dockerfile import KNOWN_INSTRUCTIONS, Dockerfile, Instruction
from grader.engine import EngineSession
from grader.engine.image_layers import (
    BaseImage,
    EntryKind,
    Layer,
    SavedImage,
    read_base_image,
    save_image,
)
from grader.results import Finding

__all__ = [
    "Deletion",
    "LayerScan",
    "Sighting",
    "align_history",
    "history_keyword",
    "scan_for_canary",
    "scan_layers",
]

_BLOCK_BYTES = 1024 * 1024
_NOP = re.compile(r"#\(nop\)\s+([A-Za-z]+)")
_BUILDKIT_SUFFIX = "# buildkit"
_CLASSIC_DIR_SOURCE = re.compile(r"dir:[0-9a-f]{8,}")


# --- which Dockerfile line made which history entry ------------------------------------


def history_keyword(created_by: str) -> str | None:
    """The instruction behind a history entry, in either builder's spelling.

    BuildKit writes ``COPY . . # buildkit``, ``RUN /bin/sh -c pip … # buildkit`` and
    plain ``WORKDIR /app``; the classic builder ``/bin/sh -c #(nop) COPY dir:… in .``
    for every step but RUN, whose entry is the bare command (``/bin/sh -c pip …``,
    after ``|1 NAME=value`` when build arguments are set). None for an empty entry
    (e.g. an imported base image).
    """
    text = created_by.strip()
    if not text:
        return None
    nop = _NOP.search(text)
    if nop:
        return nop.group(1).upper()
    first = text.removesuffix(_BUILDKIT_SUFFIX).split(maxsplit=1)[0]
    return first if first in KNOWN_INSTRUCTIONS else "RUN"


def _plain(text: str) -> str:
    """Text with quoting, brackets and commas removed and spaces collapsed: the builders
    re-quote values (Go's %q, ``map[8000/tcp:{}]``), so only the words can be compared."""
    return " ".join(re.sub(r"[\"'\[\],]", " ", text.replace("\\\n", " ")).split())


def _readable(created_by: str) -> str:
    """A history entry as a learner would recognise it."""
    text = created_by.strip().removesuffix(_BUILDKIT_SUFFIX).strip()
    nop = _NOP.search(text)
    if nop:
        text = text[nop.start(1) :]
    return " ".join(text.split())


def _agrees(instruction: Instruction, created_by: str) -> bool:
    """Whether a history entry can have come from this instruction, by its words.

    A keyword alone is not enough: with no base image to skip, the base's own
    ``CMD ["python3"]`` must not be taken for the Dockerfile's CMD.
    """
    raw = instruction.value.split()
    while raw and raw[0].startswith("--"):
        raw.pop(0)  # flags (--mount, --chown, --interval …): builders drop or reorder them
    words = _plain(" ".join(raw)).split()
    if not words:
        return False
    entry = _plain(created_by)
    if instruction.keyword in {"COPY", "ADD"} and _NOP.search(created_by):
        # The classic builder names the sources by content hash: only the destination shows.
        return entry.split()[-1] == words[-1]
    return all(word in entry for word in words)


def align_history(
    instructions: Sequence[Instruction], created_by: Sequence[str]
) -> tuple[Instruction | None, ...]:
    """The instruction that made each history entry, or None where that is not certain.

    ``instructions`` are the final stage's steps after its FROM, ``created_by`` the
    image's own history entries (after the base image's), both in order. Each entry
    takes the next instruction with its keyword whose words it shows, so an entry one
    builder writes and the other omits (ARG, the grader's LABEL) shifts nothing.
    """
    matched: list[Instruction | None] = []
    position = 0
    for entry in created_by:
        keyword = history_keyword(entry)
        found = None
        if keyword is not None:
            for index in range(position, len(instructions)):
                candidate = instructions[index]
                if candidate.keyword == keyword and _agrees(candidate, entry):
                    found, position = candidate, index + 1
                    break
        matched.append(found)
    return tuple(matched)


def _own_history_start(saved: SavedImage, base: BaseImage | None, skipped: int) -> int:
    """Where the image's own history starts, after its base image's entries."""
    created_by = tuple(entry.created_by for entry in saved.history)
    if base is not None and base.history and created_by[: len(base.history)] == base.history:
        return len(base.history)
    if skipped:
        last_base_layer = saved.layers[skipped - 1].history_index
        if last_base_layer is not None:
            return last_base_layer + 1
    return 0


def _layer_makers(
    saved: SavedImage, dockerfile: Dockerfile | None, base: BaseImage | None, skipped: int
) -> dict[int, Instruction]:
    """Layer index → the Dockerfile instruction that made it (only where certain)."""
    if dockerfile is None:
        return {}
    steps = [i for i in dockerfile.final_stage if i.keyword != "FROM"]
    start = _own_history_start(saved, base, skipped)
    aligned = align_history(steps, [entry.created_by for entry in saved.history[start:]])
    makers: dict[int, Instruction] = {}
    for layer in saved.layers:
        if layer.history_index is None or layer.history_index < start:
            continue
        instruction = aligned[layer.history_index - start]
        if instruction is not None:
            makers[layer.index] = instruction
    return makers


# --- reading the layers -------------------------------------------------------------------


@dataclass(frozen=True)
class Sighting:
    """Files of one layer that hold the canary."""

    layer: Layer
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Deletion:
    """A whiteout: a layer deleting a path (or, opaque, a folder's contents) below it."""

    layer: Layer
    path: str
    whole_folder: bool

    def covers(self, path: str) -> bool:
        if self.whole_folder:
            return path.startswith(self.path.rstrip("/") + "/")
        return path == self.path or path.startswith(self.path + "/")


@dataclass(frozen=True)
class LayerScan:
    """What reading the image's own layers found."""

    layers: int
    skipped: int
    """Leading layers shared with the base image, not read."""
    sightings: tuple[Sighting, ...]
    deletions: tuple[Deletion, ...]

    def first_deletion(self) -> tuple[Deletion, str] | None:
        """The first later layer that deletes a file holding the canary, and that file."""
        for deletion in self.deletions:
            for sighting in self.sightings:
                if deletion.layer.index <= sighting.layer.index:
                    continue
                for path in sighting.paths:
                    if deletion.covers(path):
                        return deletion, path
        return None


def _holds(content: IO[bytes], needle: bytes) -> bool:
    """Whether a stream holds ``needle``, read in blocks (a needle may span two)."""
    keep = len(needle) - 1
    tail = b""
    while block := content.read(_BLOCK_BYTES):
        window = tail + block
        if needle in window:
            return True
        tail = window[-keep:] if keep else b""
    return False


def scan_layers(saved: SavedImage, needle: bytes, base_diff_ids: Sequence[str] = ()) -> LayerScan:
    """Look for ``needle`` in the regular files of every layer after the base's."""
    own = saved.own_layers(base_diff_ids)
    sightings: list[Sighting] = []
    deletions: list[Deletion] = []
    for layer in own:
        paths: list[str] = []
        for entry in saved.entries(layer):
            if entry.kind is EntryKind.FILE and entry.content is not None:
                if entry.size >= len(needle) and _holds(entry.content, needle):
                    paths.append(entry.path)
            elif entry.is_whiteout:
                deletions.append(Deletion(layer, entry.path, entry.kind is EntryKind.OPAQUE))
        if paths:
            sightings.append(Sighting(layer, tuple(paths)))
    return LayerScan(
        layers=len(saved.layers),
        skipped=len(saved.layers) - len(own),
        sightings=tuple(sightings),
        deletions=tuple(deletions),
    )


# --- the verdict --------------------------------------------------------------------------


def _names_env(sources: Sequence[str]) -> bool:
    return any(PurePosixPath(source).name.startswith(".env") for source in sources)


def _copies_whole_context(layer: Layer, instruction: Instruction | None) -> bool:
    """Whether the secret came with a copy of the whole context (``COPY . .``), not by name:
    then .dockerignore is the fix, not the Dockerfile."""
    if instruction is not None:
        return instruction.keyword in {"COPY", "ADD"} and not _names_env(instruction.copy_sources())
    if history_keyword(layer.created_by) not in {"COPY", "ADD"}:
        return False
    if _NOP.search(layer.created_by):
        # The classic builder names a folder source `dir:<hash>` (glued to a --chown flag).
        return _CLASSIC_DIR_SOURCE.search(layer.created_by) is not None
    words = _readable(layer.created_by).split()[1:]
    return not _names_env([w for w in words[:-1] if not w.startswith("--")])


def _step(layer: Layer, instruction: Instruction | None) -> str:
    if instruction is not None:
        value = " ".join(instruction.value.split())
        value = value if len(value) <= 60 else value[:57] + "…"
        return f"line {instruction.line} (`{instruction.keyword} {value}`)"
    if layer.created_by:
        text = _readable(layer.created_by)
        text = text if len(text) <= 60 else text[:57] + "…"
        return f"the step `{text}` (layer {layer.index + 1})"
    return f"layer {layer.index + 1}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _details(scan: LayerScan, makers: dict[int, Instruction]) -> str:
    lines = []
    for sighting in scan.sightings:
        layer = sighting.layer
        lines.append(
            f"Layer {layer.index + 1} of {scan.layers} ({layer.diff_id[:19]}…), made by "
            f"{_step(layer, makers.get(layer.index))}: {', '.join(sighting.paths[:10])}"
        )
    for deletion in scan.deletions:
        if any(
            deletion.layer.index > s.layer.index and deletion.covers(p)
            for s in scan.sightings
            for p in s.paths
        ):
            what = "empties" if deletion.whole_folder else "deletes"
            lines.append(
                f"Layer {deletion.layer.index + 1} {what} {deletion.path} "
                "(a whiteout: the layer below still holds the file)."
            )
    return "\n".join(lines)


def _found_verdict(scan: LayerScan, makers: dict[int, Instruction]) -> Verdict:
    first = scan.sightings[0]
    adder = makers.get(first.layer.index)
    paths = list(dict.fromkeys(p for s in scan.sightings for p in s.paths))
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    message = (
        f"The secret from .env is inside the image, in {shown}: "
        f"{_step(first.layer, adder)} added it."
    )
    if len(scan.sightings) > 1:
        message += f" {len(scan.sightings) - 1} later layer(s) hold it too."
    findings: list[Finding] = []
    deleted = scan.first_deletion()
    if deleted is not None:
        deletion, path = deleted
        remover = makers.get(deletion.layer.index)
        what = "it" if path == paths[0] and len(paths) == 1 else path
        message += (
            f" {_capitalised(_step(deletion.layer, remover))} deletes {what}, but deleting it "
            "in a later layer does not remove it from the image: the layer that added it "
            "still holds it, and anyone with the image can read it with `docker save`."
        )
        if remover is not None:
            findings.append(
                Finding(
                    "Deleting .env here hides it from the container only; the layer "
                    "below still holds it.",
                    remover.line,
                    level="warning",
                )
            )
    run_time = "give its values at run time with `docker run --env-file .env`."
    if _copies_whole_context(first.layer, adder):
        if adder is not None:
            findings.insert(0, Finding(message, adder.line))
        return Verdict.failed(
            message,
            "Add `.env` to .dockerignore, so that `COPY . .` can never send it to the "
            f"builder, and {run_time}",
            file=".dockerignore",
            findings=tuple(findings),
            details=_details(scan, makers),
        )
    if adder is not None:
        findings.insert(0, Finding(message, adder.line))
        hint = (
            f"Remove line {adder.line}: never COPY .env into an image (a later `rm` cannot "
            "take it back out). Keep `.env` out of the build context with .dockerignore and "
            + run_time
        )
    else:
        hint = (
            "Keep `.env` out of the build context with .dockerignore (and never COPY it); "
            + run_time
        )
    return Verdict.failed(
        message,
        hint,
        line=adder.line if adder is not None else None,
        findings=tuple(findings),
        details=_details(scan, makers),
    )


def scan_for_canary(
    session: EngineSession,
    image: str,
    canary: str,
    dockerfile: Dockerfile | None = None,
    base_image: str | None = None,
    *,
    canary_sent: bool = True,
) -> Verdict:
    """Look for ``canary`` in the image's metadata, then in every layer it did not inherit.

    ``dockerfile`` lets a finding name the line that added the secret; ``base_image``
    (the FROM image) lets its layers be skipped: they were made before the canary
    existed. ``canary_sent=False`` says the build context left the canary's file out
    (``.dockerignore``): the engine never had the secret, so no layer can hold it and
    the image is not saved (``docker save`` of a few hundred MB is most of a warm
    grade). Engine faults while saving the image raise EngineError.
    """
    metadata = json.dumps(session.image_attrs(image)) + json.dumps(session.image_history(image))
    if canary in metadata:
        return Verdict.failed(
            "The secret from .env is in the image's metadata (ENV, LABEL or build history): "
            "anyone with the image can read it with `docker history` or `docker inspect`.",
            "Never pass secrets with ENV, ARG or LABEL; give them at run time with "
            "`docker run --env-file .env`.",
        )
    if not canary_sent:
        return Verdict.passed(
            "The .env holding a planted canary secret was never sent to the engine "
            "(.dockerignore keeps it out of the build context), so no layer can hold it; "
            "it is not in the image's metadata either."
        )
    base = read_base_image(session, base_image) if base_image else None
    with tempfile.TemporaryDirectory(prefix="grader-save-") as folder:
        archive = Path(folder) / "image.tar"
        save_image(session, image, archive)
        with SavedImage.open(archive) as saved:
            scan = scan_layers(saved, canary.encode(), base.diff_ids if base else ())
            makers = _layer_makers(saved, dockerfile, base, scan.skipped) if scan.sightings else {}
    if scan.sightings:
        return _found_verdict(scan, makers)
    return Verdict.passed(
        f"A canary secret planted in .env is in none of the image's {scan.layers} layers "
        f"({scan.skipped} from the base image skipped), nor in its metadata."
    )
