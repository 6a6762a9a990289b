"""The build context exactly as ``docker build`` sends it.

The grader sends the context to the engine as a tar body it writes itself, and the
engine then applies no ``.dockerignore`` of its own (measured for BuildKit): what this
module lists is what reaches the builder.

* :func:`read_dockerignore` reads ``.dockerignore`` as Go's
  ``github.com/moby/patternmatcher/ignorefile.ReadAll`` does (the CLI's reader; the same
  code lived in ``moby/buildkit``'s ``frontend/dockerfile/dockerignore``). The docker
  SDK's reading keeps a UTF-8 BOM, so a first line ``.env`` saved by a Windows editor
  excludes nothing there, while the CLI strips the BOM.
* :class:`ContextMatcher` applies the patterns as the current CLI does (28.x,
  ``patternmatcher`` + ``archive.TarWithOptions``). Each pattern is turned into a
  regular expression by the docker SDK's port (``docker.utils.fnmatch.translate``); what
  the SDK's ``PatternMatcher`` does differently is done the Go way around it: case-
  sensitive comparison, Go's pattern dialect (``[^...]``, ``\\`` escapes), Go's trimming
  and cleaning, every parent folder tried, the CLI's walk and its refusals.
* :func:`context_files` is the CLI's tar walk; :func:`context_size` measures it.

Every difference named here was measured against the real CLIs in
``tests/docker/test_dockerignore_matches_cli.py``.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Not an engine call (the engine boundary is grader/engine/): a pure function turning a
# pattern into a regular expression, kept from the SDK so that the dialect is theirs.
from docker.utils import fnmatch as sdk_fnmatch

from grader.errors import SubmissionError

__all__ = [
    "ContextMatcher",
    "context_files",
    "context_size",
    "read_dockerignore",
    "sent_by_build",
]

_UTF8_BOM = b"\xef\xbb\xbf"

# Go's strings.TrimSpace trims what unicode.IsSpace accepts. Python's str.strip() also
# trims U+001C..U+001F (file, group, record and unit separators), which Go keeps.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# bufio.Scanner's default limit (bufio.MaxScanTokenSize): the CLI stops with
# "bufio.Scanner: token too long" on a longer line and builds nothing.
_MAX_LINE_BYTES = 64 * 1024


def _go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` on Unix.

    ``posixpath.normpath`` is the same algorithm but for two details: it keeps exactly
    two leading slashes (POSIX leaves ``//`` implementation-defined; Go collapses it),
    and both give ``"."`` for ``""``.
    """
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return posixpath.normpath(path)


def read_dockerignore(path: Path) -> list[str]:
    """The patterns of a ``.dockerignore`` as the docker CLI reads them; ``[]`` if absent.

    Line by line (``bufio.ScanLines``: split at LF, one trailing CR dropped, so CRLF is
    harmless): a UTF-8 BOM is stripped from the first line only; a line whose *first*
    character is ``#`` is a comment (tested before trimming, so ``"  # x"`` is the
    pattern ``# x``); Go's ``TrimSpace``; empty lines skipped; a leading ``!`` inverts,
    with ``TrimSpace`` after it; then ``filepath.Clean`` and one leading ``/`` removed
    when more than ``/`` is left.

    Bytes that are not UTF-8 are decoded with ``surrogateescape``: Go compares raw
    bytes, and so does this reading, since :func:`os.listdir` names undecodable bytes
    the same way; ``errors="replace"`` would turn them into U+FFFD that matches no file.

    Raises :class:`SubmissionError` for a line over 64 KiB, which the CLI refuses.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except IsADirectoryError as exc:
        # The CLI fails too ("read .dockerignore: is a directory").
        raise SubmissionError(
            ".dockerignore is a folder, so `docker build` cannot read it.",
            hint="Make .dockerignore a text file with one pattern per line.",
        ) from exc
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # a final LF ends the last line; it does not start an empty one
    patterns: list[str] = []
    for number, raw in enumerate(lines, start=1):
        if len(raw) >= _MAX_LINE_BYTES:
            raise SubmissionError(
                f"Line {number} of .dockerignore is longer than 64 KiB; `docker build` "
                "refuses such a file.",
                hint="Put one pattern per line in .dockerignore.",
            )
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if number == 1:
            raw = raw.removeprefix(_UTF8_BOM)
        line = raw.decode("utf-8", errors="surrogateescape")
        if line.startswith("#"):
            continue
        pattern = line.strip(_GO_SPACE)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip(_GO_SPACE)
        if pattern:
            pattern = _go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


# --- Patterns ------------------------------------------------------------------------
# Go's patternmatcher and the SDK's port differ in their pattern dialect: Go negates a
# class with `^` and escapes with `\`; the SDK negates with `!` and has no escape, so
# `[^a]pp` would exclude `app` there (measured: the CLI sends it). A Go pattern is
# therefore parsed once (which also finds the patterns the CLI refuses) and rewritten
# into the SDK's dialect; matching stays the SDK's translation to a regular expression.


@dataclass(frozen=True)
class _Class:
    negated: bool
    ranges: tuple[tuple[str, str], ...]


# One step of a pattern: a character ("*" and "?" are wildcards unless escaped) or a class.
_Token = str | _Class


# After a backslash, Go's patternmatcher hands the character to its regexp (RE2), which
# refuses an escaped letter or digit it does not know: the CLI stops with "syntax error
# in pattern" (measured: `a\e`). The escapes RE2 knows (`\d` a digit, `\t` a tab …)
# are read here as the character itself: a gap, measured in the differential test.
_RE2_ESCAPES = set("aftnrvdDsSwWbBAzpPxQ01234567")


def _check_escape(char: str) -> None:
    if char.isascii() and not char.isalnum():
        return  # punctuation, "_" or a space: the character itself, in Go as here
    if char not in _RE2_ESCAPES:
        raise ValueError("syntax error in pattern")


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """Go's ``getEsc``: one possibly escaped character of a class, and the next index."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise ValueError("syntax error in pattern")
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise ValueError("syntax error in pattern")
        _check_escape(pattern[i])
    char = pattern[i]
    # A byte that is not UTF-8 (a lone surrogate here) is an error inside a class.
    if "\udc80" <= char <= "\udcff" or i + 1 >= len(pattern):
        raise ValueError("syntax error in pattern")
    return char, i + 1


def _parse_go_pattern(pattern: str) -> list[tuple[bool, _Token]]:
    """``(escaped, token)`` pairs of a Go pattern; ValueError where the CLI refuses it.

    The syntax is Go's ``filepath.Match``, which ``patternmatcher`` calls to validate each
    pattern, plus a reversed range (``[z-a]``), which Go's regexp then refuses (measured:
    both CLIs and BuildKit stop with "syntax error in pattern").
    """
    tokens: list[tuple[bool, _Token]] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= n:
                raise ValueError("syntax error in pattern")
            _check_escape(pattern[i + 1])
            tokens.append((True, pattern[i + 1]))
            i += 2
        elif char == "[":
            i += 1
            negated = i < n and pattern[i] == "^"
            i += negated
            ranges: list[tuple[str, str]] = []
            while not (i < n and pattern[i] == "]" and ranges):
                low, i = _class_char(pattern, i)
                high = low
                if pattern[i] == "-":
                    high, i = _class_char(pattern, i + 1)
                if low > high:
                    raise ValueError("syntax error in pattern")
                ranges.append((low, high))
            tokens.append((False, _Class(negated, tuple(ranges))))
            i += 1
        else:
            tokens.append((False, char))
            i += 1
    return tokens


# Characters with a meaning inside a Python regex class, or for the SDK's class scanner:
# kept out of ranges and placed where they are literal (see _sdk_class).
_CLASS_SPECIAL = set("]-\\^[!&~|")


def _sdk_class(cls: _Class) -> str:
    """A class in the SDK's dialect: ``[!...]`` negates; the content goes to ``re`` as is
    (the SDK only doubles backslashes), so the order of the characters matters."""
    ranges, singles = [], set()
    for low, high in cls.ranges:
        if not {low, high} & _CLASS_SPECIAL:
            ranges.append(low if low == high else f"{low}-{high}")
        elif ord(high) - ord(low) < 256:
            singles.update(chr(c) for c in range(ord(low), ord(high) + 1))
        else:
            # A huge range ending on a special character: kept as a range, after the
            # plain items so that it is not first.
            ranges.append(f"{low}-{high}")
    # Where each special character is literal: "]" first; "-" last; "[" not first (a
    # nested set); "&", "~", "|" never doubled (set operations: they are single here);
    # "!" and "^" not first unless negated (they would negate).
    items = [c for c in "]" if c in singles]
    items += sorted(c for c in singles if c not in _CLASS_SPECIAL) + ranges
    items += [c for c in "\\&~|!^[-" if c in singles]
    if not cls.negated and items[0] in {"!", "^"}:
        if len(items) == 1:
            return items[0]  # a class of one character is that character
        # "-" (when present, it is last) is literal first too; otherwise move the
        # first item to the end, where only "!" and "^" can be.
        items = [items[-1], *items[:-1]] if items[-1] == "-" else [*items[1:], items[0]]
    return ("[!" if cls.negated else "[") + "".join(items) + "]"


def _sdk_dialect(tokens: list[tuple[bool, _Token]]) -> str:
    out = []
    for escaped, token in tokens:
        if isinstance(token, _Class):
            out.append(_sdk_class(token))
        elif escaped and token in "*?[":
            out.append(f"[{token}]")  # the SDK has no escape: a class of one holds it
        else:
            out.append(token)  # also a "\\", which the SDK reads as a literal backslash
    return "".join(out)


class _GoPattern:
    """One line of ``.dockerignore`` as Go's ``patternmatcher`` reads it.

    * Trimmed with Go's ``TrimSpace`` and cleaned with ``filepath.Clean``: the SDK strips
      Python's whitespace (``"\\x1c.env"`` would exclude ``.env``; the CLI keeps U+001C)
      and drops a leading ``..`` (``../README.md`` would exclude ``README.md``, which
      Go's pattern can never match).
    * Rewritten into the SDK's dialect (see :func:`_parse_go_pattern`).
    * Compared case-sensitively: the SDK's ``fnmatch`` lowercases name and pattern, so
      ``.env`` would exclude ``.ENV``, which the CLI sends (measured).
    """

    def __init__(self, pattern_str: str) -> None:
        text = pattern_str.strip(_GO_SPACE)
        self.exclusion = text.startswith("!")
        text = text.removeprefix("!").strip(_GO_SPACE)
        self.go_pattern = _go_clean(text) if text else ""
        """The cleaned pattern in Go's dialect, e.g. for the prefix test of the walk."""
        self.dirs = self.go_pattern.split("/") if text else []
        self.cleaned_pattern = _sdk_dialect(_parse_go_pattern(self.go_pattern))
        with warnings.catch_warnings():
            # "[[]" (a class holding "[") compiles with a FutureWarning about nested sets.
            warnings.simplefilter("ignore", FutureWarning)
            self._regex = re.compile(sdk_fnmatch.translate(self.cleaned_pattern))

    def match(self, filepath: str) -> bool:
        return self._regex.match(filepath) is not None


# --- Matching -------------------------------------------------------------------------

# What one path's matching leaves for its children: per pattern, whether it matched.
_ParentResults = list[bool]


class ContextMatcher:
    """Docker's exclusion rules over the SDK's patterns, as the current CLI applies them.

    ``matches(path)`` is Go's ``MatchesOrParentMatches``: True when ``path`` (relative,
    POSIX) or one of its parent folders is excluded and no later ``!`` pattern takes it
    back. :meth:`walk` is the CLI's tar walk (``archive.TarWithOptions`` with
    ``MatchesUsingParentResults``). The SDK's own matcher follows the older Go code that
    tests one parent only (``**/raw`` misses ``deep/data/raw/x``), which the 28.x CLI
    and BuildKit replaced; the 20.10 CLI still behaves that way (measured).

    Unlike the SDK's matcher, it adds no ``!.dockerignore`` of its own.
    Raises :class:`SubmissionError` for a pattern the CLI refuses (``!`` alone, a
    malformed ``[...]``, a trailing ``\\``): ``docker build`` stops before sending
    anything.
    """

    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[_GoPattern] = []
        for line in patterns:
            if line.strip(_GO_SPACE) == "!":
                raise _refused(line, 'illegal exclusion pattern: "!"')
            try:
                pattern = _GoPattern(line)
            except ValueError as exc:
                raise _refused(line, str(exc)) from exc
            if pattern.dirs:
                self.patterns.append(pattern)

    def _matches(self, path: str, parent: _ParentResults | None) -> tuple[bool, _ParentResults]:
        """Go's ``MatchesUsingParentResults``; without ``parent``, ``MatchesOrParentMatches``."""
        matched = False
        results = [False] * len(self.patterns)
        parts = path.split("/")
        for i, pattern in enumerate(self.patterns):
            match = parent[i] if parent else False
            if not match:
                # An exclusion can only undo a match, an inclusion only make one.
                if pattern.exclusion != matched:
                    continue
                match = pattern.match(path)
                if not match and not parent:
                    match = any(pattern.match("/".join(parts[:k])) for k in range(1, len(parts)))
            results[i] = match
            if match:
                matched = not pattern.exclusion
        return matched, results

    def matches(self, filepath: str) -> bool:
        return self._matches(filepath, None)[0]

    def _may_hold_exceptions(self, directory: str) -> bool:
        # The CLI descends into an excluded folder only if a "!" pattern starts with it
        # (a plain prefix test: "!data*/raw" does not open "data"; the SDK's walk does).
        prefix = directory + "/"
        return any(p.exclusion and (p.go_pattern + "/").startswith(prefix) for p in self.patterns)

    def walk(self, root: str) -> Iterator[str]:
        """The relative paths the CLI's tar holds, folders before their contents, each
        folder's entries in byte order (Go's ``filepath.WalkDir``)."""

        def visit(folder: str, prefix: str, parent: _ParentResults | None) -> Iterator[str]:
            for name in sorted(os.listdir(folder), key=os.fsencode):
                relative = prefix + name
                full = os.path.join(folder, name)
                excluded, results = self._matches(relative, parent)
                is_dir = os.path.isdir(full) and not os.path.islink(full)
                if not excluded:
                    yield relative
                elif not (is_dir and self._may_hold_exceptions(relative)):
                    continue
                if is_dir:
                    yield from visit(full, relative + "/", results)

        return visit(root, "", None)

    def sends(self, path: str) -> bool:
        """Would the walk send ``path``, given that its parents are folders?"""
        parts = path.split("/")
        parent: _ParentResults | None = None
        for depth in range(1, len(parts) + 1):
            relative = "/".join(parts[:depth])
            excluded, parent = self._matches(relative, parent)
            if depth == len(parts):
                return not excluded
            if excluded and not self._may_hold_exceptions(relative):
                return False
        return True


def _refused(pattern: str, error: str) -> SubmissionError:
    return SubmissionError(
        f"`docker build` refuses the .dockerignore pattern `{pattern}`: {error}.",
        hint="Fix or remove that line of .dockerignore: `!` must be followed by a path, "
        "`[` must open a non-empty class closed by `]`, and `\\` must escape a character.",
    )


# --- The context ----------------------------------------------------------------------


def _build_files_kept(patterns: list[str], dockerfile: str) -> ContextMatcher:
    """The CLI's ``TrimBuildFilesFromExcludes``: ``.dockerignore`` and the Dockerfile are
    sent even when excluded, since the engine needs them (it drops them afterwards)."""
    matcher = ContextMatcher(patterns)
    extra = [f"!{name}" for name in (".dockerignore", dockerfile) if matcher.matches(name)]
    return ContextMatcher([*patterns, *extra]) if extra else matcher


def context_files(root: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """What ``docker build`` sends from ``root``: relative POSIX paths in the CLI's order.

    Every entry the CLI puts in its tar: folders that are not excluded (empty or not,
    since the tar carries their modes), files, symlinks (never followed) and FIFOs;
    sockets are left out as the CLI leaves them out. A folder that is excluded but holds
    a re-included file (``!app/main.py``) is descended into without being listed
    itself. ``.dockerignore`` and the Dockerfile are always sent (see
    :func:`sent_by_build` for what ``COPY`` then sees).

    Raises :class:`SubmissionError` when the CLI would refuse the ``.dockerignore``.
    """
    patterns = read_dockerignore(root / ".dockerignore")
    matcher = _build_files_kept(patterns, _go_clean(dockerfile).lstrip("/"))
    return [
        relative
        for relative in matcher.walk(str(root))
        if not stat.S_ISSOCK(os.lstat(root / relative).st_mode)
    ]


def sent_by_build(root: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """What ``COPY . /dst`` can see: :func:`context_files` less ``.dockerignore`` and the
    Dockerfile when ``.dockerignore`` excludes them (the engine removes them then)."""
    matcher = ContextMatcher(read_dockerignore(root / ".dockerignore"))
    dropped = {name for name in (".dockerignore", dockerfile) if matcher.matches(name)}
    return [f for f in context_files(root, dockerfile) if f not in dropped]


def context_size(
    root: Path, dockerfile: str = "Dockerfile", largest: int = 5
) -> tuple[int, list[tuple[str, int]]]:
    """The bytes of the regular files ``docker build`` sends, and the largest of them
    (path, size), biggest first. Symlinks and folders count for nothing: the tar holds
    no content for them."""
    sizes = []
    for relative in context_files(root, dockerfile):
        info = os.lstat(root / relative)
        if stat.S_ISREG(info.st_mode):
            sizes.append((relative, info.st_size))
    total = sum(size for _, size in sizes)
    return total, sorted(sizes, key=lambda item: -item[1])[:largest]
