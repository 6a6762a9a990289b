"""Reading a learner's Dockerfile: decoding it kindly and parsing it with dockerfile-parse.

dockerfile-parse 2.0.1 knows neither heredocs nor BuildKit's flags. Heredoc bodies are
set aside before it parses (their lines blanked, so every other line keeps its number)
and folded back into their instruction's value; flags and ``--mount`` options are read
here. The step-mapping methods follow what the builders print, measured on Docker
Engine 20.10 (classic builder and BuildKit 0.8).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from dockerfile_parse import DockerfileParser

__all__ = [
    "Dockerfile",
    "DockerfileProblem",
    "Heredoc",
    "Instruction",
    "buildkit_frontend_min_engine",
    "find_heredocs",
    "read_dockerfile",
]

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

_FLAGGED = frozenset({"RUN", "COPY", "ADD", "FROM"})
"""Instructions whose leading ``--name[=value]`` words are flags, not arguments."""

_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
"""The only instructions BuildKit reads heredocs in; elsewhere the body is an error."""

_BUILDKIT_COUNTED = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})
"""Instructions BuildKit numbers as steps within a stage (after FROM, when it counts)."""


@dataclass(frozen=True)
class Heredoc:
    """One ``<<NAME`` … ``NAME`` document of a RUN, COPY or ADD."""

    name: str
    """The delimiter, quotes removed."""
    body: str
    """The lines between the instruction and the delimiter, each ending in a newline
    (leading tabs removed for ``<<-``)."""
    strip_tabs: bool
    """``<<-NAME``: leading tabs of the body lines and of the delimiter are dropped."""
    expand: bool
    """False when the delimiter is quoted (``<<'EOF'``): ``$VAR`` in the body stays as is."""
    line: int
    """1-based line of the first body line."""
    end_line: int
    """1-based line of the delimiter."""


@dataclass(frozen=True)
class Instruction:
    """One instruction, continuation lines joined."""

    keyword: str
    """Upper-case instruction, e.g. ``RUN``."""
    value: str
    """Everything after the keyword. A heredoc's body and delimiter follow on new lines,
    so that rules reading the value see the commands."""
    line: int
    """1-based first line in the learner's file."""
    end_line: int
    """1-based last line (a heredoc's delimiter included)."""
    stage: int
    """0-based index of the build stage (each FROM starts one)."""
    heredocs: tuple[Heredoc, ...] = ()

    @property
    def head(self) -> str:
        """The value without heredoc bodies: what the instruction's own line(s) say."""
        return self.value.split("\n", 1)[0] if self.heredocs else self.value

    def flags(self) -> list[tuple[str, str]]:
        """Leading flags of RUN/COPY/ADD/FROM as (name without dashes, value); value is ""
        for a bare flag such as ``--link``."""
        return _split_flags(self.keyword, self.head)[0]

    def _arguments(self) -> str:
        """The head without its flags."""
        return _split_flags(self.keyword, self.head)[1]

    def mounts(self) -> list[dict[str, str]]:
        """Each ``--mount=…`` as a dict: ``type`` (default ``bind``), ``target``, ``source``,
        ``from`` …; ``dst``/``destination`` are read as ``target``, ``src`` as ``source``,
        bare options (``readonly``) as ``"true"``."""
        mounts = []
        for name, value in self.flags():
            if name.lower() != "mount":
                continue
            mount = {"type": "bind"}
            for option in next(csv.reader([value]), []):
                key, equals, option_value = option.strip().partition("=")
                key = _MOUNT_ALIASES.get(key.lower(), key.lower())
                if key:
                    mount[key] = option_value if equals else "true"
            mount["type"] = mount["type"].lower()
            mounts.append(mount)
        return mounts

    def command(self) -> str:
        """For RUN: the command without flags. A RUN that is only a heredoc (``RUN <<EOF``)
        runs its body as a script: that body is the command."""
        arguments = self._arguments()
        if not self.heredocs:
            return arguments
        words = _raw_words(arguments)
        if len(self.heredocs) == 1 and len(words) == 1 and _heredoc_word(words[0]):
            return self.heredocs[0].body
        return arguments + self.value[len(self.head) :]

    @property
    def is_exec_form(self) -> bool:
        """True for a JSON array (``CMD ["uvicorn", …]``)."""
        return not self.heredocs and _is_json_list(self._arguments())

    def words(self) -> list[str]:
        """The arguments as words, for either form; leading flags and heredoc bodies left out."""
        if self.is_exec_form:
            return list(json.loads(self._arguments()))
        arguments = self._arguments()
        try:
            return shlex.split(arguments, comments=False)
        except ValueError:
            return arguments.split()

    def copy_sources(self) -> list[str]:
        """For COPY/ADD: the source paths in the build context (flags and heredocs left out:
        a heredoc's content is written in the Dockerfile, not read from the context)."""
        words = [w for w in self.words() if not w.startswith("--")]
        if len(words) < 2:
            return []
        return [w for w in words[:-1] if _heredoc_word(w) is None]


_MOUNT_ALIASES = {"dst": "target", "destination": "target", "src": "source", "ro": "readonly"}

_FLAG = re.compile(r"--([A-Za-z][A-Za-z0-9_-]*)(?:=(\S*))?(?:\s+|$)")


def _split_flags(keyword: str, head: str) -> tuple[list[tuple[str, str]], str]:
    if keyword not in _FLAGGED:
        return [], head
    rest = head.lstrip()
    flags: list[tuple[str, str]] = []
    while rest.startswith("--"):
        match = _FLAG.match(rest)
        if match is None:
            break
        value = match.group(2) or ""
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        flags.append((match.group(1), value))
        rest = rest[match.end() :]
    return flags, rest


_HEREDOC_WORD = re.compile(r"^(\d*)<<(-?)([^<]*)$")


def _heredoc_word(word: str) -> tuple[str, bool, bool] | None:
    """(name, strip_tabs, expand) when a raw word opens a heredoc, the way BuildKit reads
    it: the whole word is ``<<NAME``, ``<<-NAME``, ``<<"NAME"`` (``cat<<EOF`` is not one)."""
    match = _HEREDOC_WORD.match(word)
    if match is None or not match.group(3):
        return None
    rest = match.group(3)
    try:
        parts = shlex.split(rest)
    except ValueError:
        return None
    if len(parts) != 1 or not parts[0]:
        return None
    return parts[0], match.group(2) == "-", not any(c in rest for c in "'\"\\")


def _raw_words(text: str) -> list[str]:
    """Split on unquoted whitespace, keeping quotes and backslashes (BuildKit's raw words)."""
    words: list[str] = []
    current: list[str] = []
    quote: str | None = None
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quote != "'":
            current.append(char)
            escaped = True
        elif quote:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char.isspace():
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


def _is_json_list(text: str) -> bool:
    try:
        parsed = json.loads(text)
    except ValueError:
        return False
    return isinstance(parsed, list) and all(isinstance(item, str) for item in parsed)


@dataclass(frozen=True)
class _HeredocScan:
    found: dict[int, tuple[Heredoc, ...]]
    """0-based first line of an instruction → its heredocs."""
    unterminated: tuple[int, str] | None = None
    """1-based line and delimiter of a heredoc that never ends."""


def _scan_heredocs(lines: list[str]) -> _HeredocScan:
    found: dict[int, tuple[Heredoc, ...]] = {}
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        parts = [lines[index]]
        while parts[-1].rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
            following = lines[index].strip()
            if following and not following.startswith("#"):
                # BuildKit skips empty and comment lines inside a continued instruction.
                parts.append(lines[index])
        index += 1
        logical = " ".join(part.rstrip().removesuffix("\\") for part in parts).split(None, 1)
        if logical[0].upper() == "ONBUILD" and len(logical) == 2:
            logical = logical[1].split(None, 1)  # ONBUILD RUN <<EOF holds a heredoc too
        if logical[0].upper() not in _HEREDOC_INSTRUCTIONS or len(logical) < 2:
            continue
        if _is_json_list(_split_flags(logical[0].upper(), logical[1])[1]):
            continue  # BuildKit reads no heredocs in the exec form
        markers = [m for m in map(_heredoc_word, _raw_words(logical[1])) if m is not None]
        docs = []
        # Several heredocs on one line: their bodies follow one after the other.
        for name, strip_tabs, expand in markers:
            first = index
            body: list[str] = []
            while index < len(lines):
                text = lines[index].lstrip("\t") if strip_tabs else lines[index]
                if text == name:
                    break
                body.append(text)
                index += 1
            else:
                return _HeredocScan(found, (start + 1, name))
            docs.append(
                Heredoc(
                    name, "".join(b + "\n" for b in body), strip_tabs, expand, first + 1, index + 1
                )
            )
            index += 1
        if docs:
            found[start] = tuple(docs)
    return _HeredocScan(found)


def find_heredocs(text: str) -> dict[int, tuple[Heredoc, ...]]:
    """1-based first line of each instruction that uses heredocs → its heredocs, read the way
    BuildKit reads them; empty when a heredoc is never closed (the file does not parse)."""
    scan = _scan_heredocs(text.split("\n"))
    if scan.unterminated:
        return {}
    return {start + 1: docs for start, docs in scan.found.items()}


# Parser directives: `# key=value` lines at the very top (BuildKit's own pattern and keys).
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.+?)\s*$")
_DIRECTIVES = frozenset({"syntax", "escape", "check"})

_VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


# What the classic builder of Docker Engine 20.10 rejects, and the first engine whose
# built-in BuildKit frontend reads it without a `# syntax=` line (which needs a registry).
# Measured on 20.10.24: --mount and --chmod build with its BuildKit; --network,
# --security, --link, --parents, --exclude, --checksum and heredocs fail to parse there.
# 23.0 vendors BuildKit 0.10 (Dockerfile 1.4: heredocs, --link, --network); 25.0 BuildKit
# 0.12 (Dockerfile 1.6: ADD --checksum). --exclude (1.19), --parents and --security (1.20)
# left labs only in late 2025: no engine version is vouched for.
_BUILDKIT_FLAGS: dict[tuple[str, str], str] = {
    ("RUN", "mount"): "`RUN --mount`",
    ("RUN", "network"): "`RUN --network`",
    ("RUN", "security"): "`RUN --security`",
    ("COPY", "chmod"): "`COPY --chmod`",
    ("ADD", "chmod"): "`ADD --chmod`",
    ("COPY", "link"): "`COPY --link`",
    ("ADD", "link"): "`ADD --link`",
    ("COPY", "parents"): "`COPY --parents`",
    ("COPY", "exclude"): "`COPY --exclude`",
    ("ADD", "exclude"): "`ADD --exclude`",
    ("ADD", "checksum"): "`ADD --checksum`",
}
_MIN_ENGINE: dict[str, str | None] = {
    "mount": "20.10",
    "chmod": "20.10",
    "heredoc": "23.0",
    "link": "23.0",
    "network": "23.0",
    "checksum": "25.0",
    "exclude": None,
    "parents": None,
    "security": None,
}


def buildkit_frontend_min_engine(feature: str) -> str | None:
    """The first Docker Engine version whose built-in Dockerfile frontend reads ``feature``
    (a description from :meth:`Dockerfile.buildkit_only_features`, a flag such as
    ``--link``, or ``heredoc``); None when no released engine is known to."""
    text = feature.lower()
    if "heredoc" in text or "<<" in text:
        return _MIN_ENGINE["heredoc"]
    match = re.search(r"--([a-z][a-z0-9-]*)", text)
    key = match.group(1) if match else text.strip("` ")
    return _MIN_ENGINE.get(key)


def _normalise(text: str) -> str:
    words = text.split()
    return " ".join([words[0].upper(), *words[1:]]) if words else ""


# What BuildKit may have expanded in a printed step: $NAME, ${NAME}, ${NAME:-default}.
_EXPANDABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _from_image(normalised_from: str) -> str:
    words = [w for w in normalised_from.split()[1:] if not w.startswith("--")]
    return words[0] if words else ""


def _normal_image(image: str) -> str:
    """``python:3.11-slim`` and ``docker.io/library/python:3.11-slim`` alike."""
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        image = image.removeprefix(prefix)
    name = image.rsplit("/", 1)[-1]
    if ":" not in name and "@" not in image and image.lower() != "scratch":
        image += ":latest"
    return image


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

    # --- syntax ---------------------------------------------------------------------------

    @property
    def heredoc_lines(self) -> tuple[int, ...]:
        """First lines of the instructions that use heredocs."""
        return tuple(i.line for i in self.instructions if i.heredocs)

    @property
    def syntax_directive(self) -> tuple[int, str] | None:
        """Line and value of a ``# syntax=`` parser directive. Directives count only in the
        unbroken run of ``# key=value`` lines (syntax, escape, check; the key in any case)
        that opens the file: an empty line, a comment or an instruction ends it."""
        for number, line in enumerate(self.text.split("\n"), start=1):
            if number == 1 and line.startswith("#!"):
                continue  # BuildKit skips a shebang line
            match = _DIRECTIVE.match(line)
            if match is None or match.group(1).lower() not in _DIRECTIVES:
                return None
            if match.group(1).lower() == "syntax":
                return number, match.group(2)
        return None

    def buildkit_only_features(self) -> list[tuple[int, str]]:
        """Line and short description of each use of syntax the classic builder rejects.
        :func:`buildkit_frontend_min_engine` tells which engines' BuildKit read each one."""
        found: list[tuple[int, str]] = []
        for instruction in self.instructions:
            names = dict.fromkeys(name.lower() for name, _ in instruction.flags())
            for name in names:
                description = _BUILDKIT_FLAGS.get((instruction.keyword, name))
                if description:
                    found.append((instruction.line, description))
            if instruction.heredocs:
                found.append((instruction.line, f"a heredoc (`<<{instruction.heredocs[0].name}`)"))
        return found

    # --- stages ---------------------------------------------------------------------------

    @property
    def stage_names(self) -> tuple[str | None, ...]:
        """Each stage's ``AS name``, lower-cased (as the builders compare them), or None."""
        names: list[str | None] = []
        for instruction in self.instructions:
            if instruction.keyword == "FROM":
                words = instruction.words()
                named = len(words) >= 3 and words[1].upper() == "AS"
                names.append(words[2].lower() if named else None)
        return tuple(names)

    def stage(self, index: int) -> tuple[Instruction, ...]:
        """The instructions of one stage (pre-FROM ARGs belong to stage 0)."""
        return tuple(i for i in self.instructions if i.stage == index)

    def _global_args(self) -> dict[str, str]:
        args: dict[str, str] = {}
        for instruction in self.instructions:
            if instruction.keyword == "FROM":
                break
            if instruction.keyword == "ARG":
                for word in instruction.words():
                    name, _, default = word.partition("=")
                    args[name] = default
        return args

    def base_image(self, index: int) -> str:
        """What a stage's FROM names, global ARG defaults substituted (``${X:-y}`` too)."""
        start = next((i for i in self.stage(index) if i.keyword == "FROM"), None)
        words = start.words() if start else []
        if not words:
            return ""
        args = self._global_args()

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(3)
            value = args.get(name, "")
            return value or (match.group(2) or "")

        return _VARIABLE.sub(substitute, words[0])

    def stage_base(self, index: int) -> int | None:
        """The earlier stage a stage is built ``FROM``, if it names one."""
        image = self.base_image(index).lower()
        names = self.stage_names
        return next((j for j in range(min(index, len(names))) if names[j] == image), None)

    def _stage_reference(self, reference: str, current: int) -> int | None:
        """The stage a ``--from=`` names: a stage name first, then a stage index."""
        names = self.stage_names
        wanted = reference.lower()
        for j, name in enumerate(names):
            if name == wanted and j != current:
                return j
        if wanted.isdigit() and int(wanted) < len(names) and int(wanted) != current:
            return int(wanted)
        return None

    def stage_dependencies(self, index: int) -> tuple[int, ...]:
        """Stages this one reads: its FROM, ``COPY --from=``, ``RUN --mount=from=``."""
        needed: list[int] = []
        base = self.stage_base(index)
        if base is not None:
            needed.append(base)
        for instruction in self.stage(index):
            references = [v for n, v in instruction.flags() if n.lower() == "from"]
            if instruction.keyword == "RUN":
                references += [m["from"] for m in instruction.mounts() if m.get("from")]
            if instruction.keyword in {"COPY", "ADD", "RUN"}:
                for reference in references:
                    stage = self._stage_reference(reference, index)
                    if stage is not None:
                        needed.append(stage)
        return tuple(dict.fromkeys(needed))

    def stages_feeding_final(self) -> tuple[int, ...]:
        """The stages the final image depends on (the final stage included), sorted."""
        final = len(self.stage_names) - 1
        needed: set[int] = set()
        todo = [max(final, 0)]
        while todo:
            stage = todo.pop()
            if stage not in needed:
                needed.add(stage)
                todo.extend(self.stage_dependencies(stage))
        return tuple(sorted(needed))

    def final_image_chain(self) -> tuple[int, ...]:
        """The final stage and the stages it is built FROM: whatever they leave in their
        layers is in the final image (a stage read only by ``COPY --from`` is not)."""
        chain = [max(len(self.stage_names) - 1, 0)]
        while (base := self.stage_base(chain[-1])) is not None and base not in chain:
            chain.append(base)
        return tuple(sorted(chain))

    # --- builder steps --------------------------------------------------------------------

    def classic_step(self, number: int) -> Instruction | None:
        """The classic builder's ``Step N/M``: it numbers every instruction 1..N in order,
        pre-FROM ARGs included (a LABEL the grader adds comes after them all)."""
        if 1 <= number <= len(self.instructions):
            return self.instructions[number - 1]
        return None

    def _stage_of_label(self, label: str | None) -> int | None:
        names = self.stage_names
        if not label or not label.strip():
            return 0 if len(names) == 1 else None
        # A multi-platform build prefixes the platform: `[linux/amd64 builder 2/4]`.
        wanted = label.split()[-1].lower()
        if wanted in names:
            return names.index(wanted)
        match = re.fullmatch(r"stage-(\d+)", wanted)
        if match and int(match.group(1)) < len(names):
            # `stage-0` in a one-stage file too, when a `--from=<image>` adds a stage.
            return int(match.group(1))
        return None

    def _buildkit_counted(self, stage: int) -> list[Instruction]:
        counted = []
        for instruction in self.stage(stage):
            if instruction.keyword == "FROM":
                # FROM is step 1 unless it names an earlier stage or scratch.
                if self.stage_base(stage) is None and self.base_image(stage).lower() != "scratch":
                    counted.append(instruction)
            elif instruction.keyword in _BUILDKIT_COUNTED:
                counted.append(instruction)
        return counted

    def _renderings(self, instruction: Instruction) -> set[str]:
        """The instruction as a builder may print it, whitespace normalised."""
        lines = self.text.split("\n")
        last = instruction.heredocs[0].line - 1 if instruction.heredocs else instruction.end_line
        own = [
            line.rstrip().removesuffix("\\")
            for line in lines[instruction.line - 1 : last]
            if not line.strip().startswith("#")
        ]
        renderings = {
            _normalise(" ".join(own)),
            _normalise(f"{instruction.keyword} {instruction.head}"),
            _normalise(f"{instruction.keyword} {instruction.value}"),
        }
        if instruction.keyword == "FROM":
            # BuildKit prints the image fully qualified: `FROM docker.io/library/python:3.11-slim`.
            renderings.add(f"FROM {_normal_image(self.base_image(instruction.stage))}")
        elif instruction.is_exec_form:
            # Measured: `COPY ["a.txt", "/b.txt"]` is printed `COPY [a.txt, /b.txt]`.
            renderings.add(_normalise(f"{instruction.keyword} [{', '.join(instruction.words())}]"))
        return renderings

    def _printed_as(self, instruction: Instruction, text: str, *, loosely: bool = False) -> bool:
        """Is ``text`` (normalised) this instruction as printed? ``loosely``: variables in
        the file may have been expanded (BuildKit prints `RUN echo hello` for `echo $X`)."""
        if not loosely:
            return text in self._renderings(instruction)
        for rendering in self._renderings(instruction):
            pieces = _EXPANDABLE.split(rendering)
            if len(pieces) > 1 and re.fullmatch(".*?".join(map(re.escape, pieces)), text):
                return True
        return False

    def buildkit_step(
        self, stage_label: str | None, number: int, text: str = ""
    ) -> Instruction | None:
        """BuildKit's ``[stage N/M] TEXT``: within a stage only FROM (when it is an image)
        and RUN, COPY, ADD, WORKDIR count. ``text`` confirms the keyword; when the count
        disagrees, the first instruction of the stage with that text is taken; None rather
        than a wrong instruction.

        Measured on Engine 20.10: builds running at the same time share identical steps,
        and a step then carries the other build's label (`[alpha 2/3] WORKDIR /app` in a
        file without an `alpha` stage): an unknown label falls back on the text alone, an
        instruction of the whole file that is the only one printed that way.
        """
        stage = self._stage_of_label(stage_label)
        counted = self._buildkit_counted(stage) if stage is not None else []
        candidate = counted[number - 1] if 1 <= number <= len(counted) else None
        if not text.strip():
            return candidate
        keyword = text.split(None, 1)[0].upper()
        wanted = _normalise(text)
        if keyword == "FROM":
            wanted = f"FROM {_normal_image(_from_image(wanted))}"
        pool = [i for i in self.instructions if i.keyword == keyword]
        here = [i for i in pool if i.stage == stage]
        for loosely in (False, True):
            if candidate in here and self._printed_as(candidate, wanted, loosely=loosely):
                return candidate
            in_stage = [i for i in here if self._printed_as(i, wanted, loosely=loosely)]
            if in_stage:
                return in_stage[0]
            in_file = [i for i in pool if self._printed_as(i, wanted, loosely=loosely)]
            if len(in_file) == 1:
                return in_file[0]
        return None


def read_dockerfile(
    path: Path, *, base_image: str, dependency_file: str
) -> Dockerfile | DockerfileProblem:
    """Decode and parse ``path``; a problem comes back as data, never as an exception.
    ``base_image`` and ``dependency_file`` (the exercise's) are what its hints name."""
    if not path.exists():
        return DockerfileProblem(
            f"There is no {path.name} in the submission folder.",
            f"Create a file named exactly `{path.name}` (no extension) next to {dependency_file}.",
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
            f"Start it with `FROM {base_image}` and add the steps the exercise README lists.",
        )
    return _parse(text, tuple(warnings), base_image)


def _parse(
    text: str, warnings: tuple[tuple[str, int | None], ...], base_image: str
) -> Dockerfile | DockerfileProblem:
    lines = text.split("\n")
    scan = _scan_heredocs(lines)
    if scan.unterminated is not None:
        line, name = scan.unterminated
        return DockerfileProblem(
            f"Line {line}: the heredoc `<<{name}` is never closed.",
            f"End it with a line that holds only `{name}` (no spaces before or after).",
            line,
        )
    # dockerfile-parse would read heredoc bodies as instructions: it gets blank lines.
    blanked = list(lines)
    for docs in scan.found.values():
        for doc in docs:
            blanked[doc.line - 1 : doc.end_line] = [""] * (doc.end_line - doc.line + 1)
    parser = DockerfileParser(fileobj=io.BytesIO("\n".join(blanked).encode("utf-8")))
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
                f"e.g. `FROM {base_image}`.",
                line,
            )
        heredocs = scan.found.get(item["startline"], ())
        value = item["value"] + "".join(f"\n{doc.body}{doc.name}" for doc in heredocs)
        end_line = heredocs[-1].end_line if heredocs else item["endline"] + 1
        instructions.append(Instruction(keyword, value, line, end_line, max(stage, 0), heredocs))
    if stage < 0:
        return DockerfileProblem(
            "The Dockerfile has no `FROM` instruction.",
            f"Start it with `FROM {base_image}`.",
            1,
        )
    return Dockerfile(text=text, instructions=tuple(instructions), warnings=warnings)
