"""Reading a learner's Dockerfile: decoding it kindly and parsing it with dockerfile-parse."""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from dockerfile_parse import DockerfileParser

__all__ = ["Dockerfile", "DockerfileProblem", "Instruction", "read_dockerfile"]

KNOWN_INSTRUCTIONS = frozenset(
    [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ]
)


@dataclass(frozen=True)
class Instruction:
    """One instruction, continuation lines joined."""

    keyword: str
    """Upper-case instruction, e.g. ``RUN``."""
    value: str
    """Everything after the keyword."""
    line: int
    """1-based first line in the learner's file."""
    end_line: int
    stage: int
    """0-based index of the build stage (each FROM starts one)."""

    @property
    def is_exec_form(self) -> bool:
        """True for a JSON array (``CMD ["uvicorn", …]``)."""
        try:
            parsed = json.loads(self.value)
        except ValueError:
            return False
        return isinstance(parsed, list) and all(isinstance(item, str) for item in parsed)

    def words(self) -> list[str]:
        """The command as words, for either form."""
        if self.is_exec_form:
            return list(json.loads(self.value))
        try:
            return shlex.split(self.value, comments=False)
        except ValueError:
            return self.value.split()

    def copy_sources(self) -> list[str]:
        """For COPY/ADD: the source paths (flags such as --chown dropped)."""
        words = [w for w in self.words() if not w.startswith("--")]
        return words[:-1] if len(words) > 1 else []


@dataclass(frozen=True)
class DockerfileProblem:
    """Why a Dockerfile cannot be graded further."""

    message: str
    hint: str
    line: int | None = None


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile, with notes on how it was decoded."""

    text: str
    """The text as parsed: BOM removed, line endings normalised."""
    instructions: tuple[Instruction, ...]
    warnings: tuple[tuple[str, int | None], ...] = field(default=())
    """Harmless oddities (a BOM, CRLF endings): message and line."""

    @property
    def final_stage(self) -> tuple[Instruction, ...]:
        last = max((i.stage for i in self.instructions), default=0)
        return tuple(i for i in self.instructions if i.stage == last)

    def find(self, keyword: str, *, final_stage: bool = True) -> list[Instruction]:
        pool = self.final_stage if final_stage else self.instructions
        return [i for i in pool if i.keyword == keyword]

    def last(self, *keywords: str) -> Instruction | None:
        found = [i for i in self.final_stage if i.keyword in keywords]
        return found[-1] if found else None


def read_dockerfile(path: Path) -> Dockerfile | DockerfileProblem:
    """Decode and parse ``path``; a problem comes back as data, never as an exception."""
    if not path.exists():
        return DockerfileProblem(
            f"There is no {path.name} in the submission folder.",
            f"Create a file named exactly `{path.name}` (no extension) next to requirements.txt.",
        )
    if path.is_dir():
        return DockerfileProblem(
            f"{path.name} is a folder, not a file.", f"Replace it with a file named {path.name}."
        )
    raw = path.read_bytes()
    warnings: list[tuple[str, int | None]] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        warnings.append(("The file starts with a UTF-8 byte-order mark (BOM).", 1))
    if b"\x00" in raw:
        return DockerfileProblem(
            f"{path.name} is a binary file, not text.",
            "Save the Dockerfile as plain text (UTF-8) in a code editor.",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return DockerfileProblem(
            f"{path.name} is not valid UTF-8 (byte {exc.start}).",
            "Save the file with UTF-8 encoding; remove characters your editor cannot show.",
            line,
        )
    if "\r\n" in text:
        warnings.append(("Windows line endings (CRLF): Docker copes, but shell scripts do not.", 1))
        text = text.replace("\r\n", "\n")
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        return DockerfileProblem(
            f"{path.name} is empty (or holds only comments).",
            "Start it with `FROM python:3.11-slim` and add the steps the exercise README lists.",
        )
    return _parse(text, tuple(warnings))


_HEREDOC = re.compile(r"<<-?\s*['\"]?[A-Za-z_]+")


def _parse(
    text: str, warnings: tuple[tuple[str, int | None], ...]
) -> Dockerfile | DockerfileProblem:
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    instructions: list[Instruction] = []
    stage = -1
    for item in parser.structure:
        keyword = item["instruction"].upper()
        line = item["startline"] + 1
        if keyword == "COMMENT":
            continue
        if keyword not in KNOWN_INSTRUCTIONS:
            return DockerfileProblem(
                f"Line {line}: `{keyword.split()[0]}` is not a Dockerfile instruction.",
                "Check the spelling, and end each continued line with a backslash `\\`.",
                line,
            )
        if keyword == "FROM":
            stage += 1
        elif stage < 0 and keyword != "ARG":
            return DockerfileProblem(
                f"Line {line}: `{keyword}` comes before any `FROM`.",
                "A Dockerfile must start with `FROM <base image>` (only ARG may come before it), "
                "e.g. `FROM python:3.11-slim`.",
                line,
            )
        if keyword in {"RUN", "COPY"} and _HEREDOC.search(item["value"]):
            return DockerfileProblem(
                f"Line {line}: heredocs (`<<EOF`) need BuildKit, which the grader does not use.",
                "Write the commands on one RUN line joined with `&&` (continue lines with `\\`).",
                line,
            )
        instructions.append(
            Instruction(keyword, item["value"], line, item["endline"] + 1, max(stage, 0))
        )
    if stage < 0:
        return DockerfileProblem(
            "The Dockerfile has no `FROM` instruction.",
            "Start it with `FROM python:3.11-slim`.",
            1,
        )
    return Dockerfile(text=text, instructions=tuple(instructions), warnings=warnings)
