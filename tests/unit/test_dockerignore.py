"""grader.dockerignore reads and applies .dockerignore as the docker CLI does: no engine.

The engine-backed comparison with the real CLI is tests/docker/test_dockerignore_matches_cli.py.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from grader.checks import Verdict
from grader.checks.dockerfile_rules import StaticContext
from grader.dockerfile import Dockerfile, read_dockerfile
from grader.dockerignore import (
    ContextMatcher,
    context_files,
    context_size,
    read_dockerignore,
    sent_by_build,
)
from grader.errors import SubmissionError
from grader.results import CheckStatus
from grader.spec import load_spec
from tests.unit.static_verdicts import static_verdict

ROOT = Path(__file__).resolve().parents[2]


def patterns_of(tmp_path: Path, data: bytes) -> list[str]:
    path = tmp_path / ".dockerignore"
    path.write_bytes(data)
    return read_dockerignore(path)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # A Windows editor: UTF-8 BOM and CRLF.
        (b"\xef\xbb\xbf.env\r\n.git\r\n", [".env", ".git"]),
        # The BOM is stripped from the first line only, as Go's ReadAll does.
        (b".env\n\xef\xbb\xbf.git\n", [".env", "\ufeff.git"]),
        # A comment after the BOM is still a comment.
        (b"\xef\xbb\xbf# secrets\n.env\n", [".env"]),
        # `#` only counts as the very first character: indented, it is a pattern.
        (b"# comment\n  # not a comment\n", ["# not a comment"]),
        (
            b".env # trailing words are part of the pattern\n",
            [".env # trailing words are part of the pattern"],
        ),
        # Blank lines and whitespace-only lines are skipped; patterns are trimmed.
        (b"\n   \n\t.env\t \n", [".env"]),
        # `!` then whitespace then the pattern: both sides trimmed.
        (b"!  app/  \n", ["!app"]),
        # filepath.Clean, then one leading slash removed.
        (b"./a/../b//c/\n", ["b/c"]),
        (b"/foo\n//foo\n!/foo\n", ["foo", "foo", "!foo"]),
        (b"/\n.\n", ["/", "."]),
        # Clean keeps a leading `..` of a relative path (the SDK would drop it).
        (b"../x\n/../x\n", ["../x", "x"]),
        # `!` alone survives the reading; the matcher refuses it.
        (b"!\n", ["!"]),
        # Go's TrimSpace: a no-break space goes, U+001C stays (str.strip() removes both).
        (b"\xc2\xa0.env\xc2\xa0\n\x1c.git\n", [".env", "\x1c.git"]),
        # The last line needs no newline.
        (b".env\n.git", [".env", ".git"]),
        # bufio.ScanLines splits at LF only: a lone CR inside a line stays in the pattern.
        (b"a\rb\n", ["a\rb"]),
        # Bytes that are not UTF-8 survive as surrogates, as os.listdir names such files.
        (b"caf\xe9\n", ["caf\udce9"]),
    ],
)
def test_read_dockerignore_follows_go_readall(
    tmp_path: Path, data: bytes, expected: list[str]
) -> None:
    """Are the patterns exactly those Go's ignorefile.ReadAll returns for these bytes?"""
    assert patterns_of(tmp_path, data) == expected


def test_missing_dockerignore_means_no_patterns(tmp_path: Path) -> None:
    """Does a folder without .dockerignore give no patterns rather than an error?"""
    assert read_dockerignore(tmp_path / ".dockerignore") == []


@pytest.mark.parametrize("length", [65535, 65536])
def test_a_line_over_64_kib_is_refused_as_the_cli_refuses_it(tmp_path: Path, length: int) -> None:
    """Is a 64 KiB line refused (bufio.Scanner: token too long) and one byte less read?"""
    data = b"a" * length + b"\n.env\n"
    if length < 65536:
        assert patterns_of(tmp_path, data) == ["a" * length, ".env"]
    else:
        with pytest.raises(SubmissionError, match="longer than 64 KiB"):
            patterns_of(tmp_path, data)


def test_a_dockerignore_folder_is_refused(tmp_path: Path) -> None:
    """Is a folder named .dockerignore a SubmissionError, not a crash?"""
    (tmp_path / ".dockerignore").mkdir()
    with pytest.raises(SubmissionError, match="is a folder"):
        read_dockerignore(tmp_path / ".dockerignore")


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        # Case matters, as in Go (the SDK's own matcher lowercases both sides).
        ([".env"], ".ENV", False),
        ([".env"], ".env", True),
        # Go's dialect: `^` negates a class, `!` inside a class is a character.
        (["[^a]pp"], "app", False),
        (["[^a]pp"], "xpp", True),
        (["[!n]otes.txt"], "notes.txt", True),
        (["[!n]otes.txt"], "motes.txt", False),
        # A backslash escapes the next character.
        ([r"\*.txt"], "*.txt", True),
        ([r"\*.txt"], "a.txt", False),
        ([r"[\]\-!]x"], "]x", True),
        ([r"[\]\-!]x"], "-x", True),
        ([r"[\]\-!]x"], "ax", False),
        # `*` stops at a slash; `**` does not; a folder excludes what it holds.
        (["*.pyc"], "app/a.pyc", False),
        (["**/*.pyc"], "app/a.pyc", True),
        (["app"], "app/a/b.py", True),
        # Every parent is tried (Go's MatchesOrParentMatches), not only the first ones.
        (["**/raw"], "deep/data/raw/a.csv", True),
        # A later `!` takes a path back.
        (["*.md", "!README.md"], "README.md", False),
        # `.` and `/` never match anything.
        ([".", "/"], "app", False),
    ],
)
def test_matcher_follows_go(patterns: list[str], path: str, excluded: bool) -> None:
    """Is this path excluded exactly when Go's patternmatcher excludes it?"""
    assert ContextMatcher(patterns).matches(path) is excluded


@pytest.mark.parametrize(
    "pattern", ["!", "  !  ", "[", "a\\", "[]", "[a-]", "[z-a]", "[^]", "a\\e", "[\\e]"]
)
def test_patterns_the_cli_refuses_raise(pattern: str) -> None:
    """Is a pattern that stops `docker build` a SubmissionError naming it?"""
    with pytest.raises(SubmissionError, match=r"refuses the \.dockerignore pattern") as caught:
        ContextMatcher([pattern])
    assert pattern in caught.value.message


@pytest.mark.parametrize(
    "pattern", ["[!]", "[^a]", "*.py[cod]", "[a\\-z]", "\\\\", "app\\__pycache__", "\\d"]
)
def test_unusual_but_valid_patterns_are_accepted(pattern: str) -> None:
    """Are patterns the CLI accepts (measured for `[!]` and `[^a]`) accepted here too?"""
    assert ContextMatcher([pattern]).patterns


def make_tree(root: Path, dockerignore: bytes) -> None:
    for relative in ("Dockerfile", ".env", "app/main.py", "app/util.pyc", "data/raw/big.csv"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(relative)
    (root / "empty").mkdir()
    (root / "link").symlink_to("app")
    (root / ".dockerignore").write_bytes(dockerignore)


def test_context_lists_folders_empty_ones_and_symlinks_in_walk_order(tmp_path: Path) -> None:
    """Are folders (empty too) and symlinks listed, unfollowed, each folder before its
    contents, as the CLI's tar holds them?"""
    make_tree(tmp_path, b"\xef\xbb\xbf.env\r\n")
    assert context_files(tmp_path) == [
        ".dockerignore",
        "Dockerfile",
        "app",
        "app/main.py",
        "app/util.pyc",
        "data",
        "data/raw",
        "data/raw/big.csv",
        "empty",
        "link",
    ]


def test_build_files_are_sent_even_when_excluded(tmp_path: Path) -> None:
    """Are .dockerignore and the Dockerfile sent although an allow-list excludes them,
    and left out of what COPY sees?"""
    make_tree(tmp_path, b"*\n!app/\n")
    assert context_files(tmp_path) == [
        ".dockerignore",
        "Dockerfile",
        "app",
        "app/main.py",
        "app/util.pyc",
    ]
    assert sent_by_build(tmp_path) == ["app", "app/main.py", "app/util.pyc"]


def test_excluded_folder_is_opened_only_for_an_exception_inside_it(tmp_path: Path) -> None:
    """Does `!data/raw/big.csv` bring the file back without listing `data` itself, while
    `!data*/raw` (no plain prefix) does not open `data`, as in the CLI?"""
    opened, closed = tmp_path / "opened", tmp_path / "closed"
    opened.mkdir()
    closed.mkdir()
    make_tree(opened, b"data\n!data/raw/big.csv\n")
    make_tree(closed, b"data\n!data*/raw\n")
    assert [f for f in context_files(opened) if f.startswith("data")] == ["data/raw/big.csv"]
    assert [f for f in context_files(closed) if f.startswith("data")] == []


def test_sockets_are_not_sent(tmp_path: Path) -> None:
    """Is a socket left out, as the CLI leaves it out of the tar?"""
    make_tree(tmp_path, b"")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "app" / "s.sock"))
        assert "app/s.sock" not in context_files(tmp_path)
        assert "app/main.py" in context_files(tmp_path)
    finally:
        server.close()


def test_context_size_counts_only_what_is_sent(tmp_path: Path) -> None:
    """Does the size count the regular files sent and nothing excluded?"""
    make_tree(tmp_path, b"data\n.env\n")
    (tmp_path / "data" / "raw" / "big.csv").write_bytes(b"x" * 10_000)
    (tmp_path / "app" / "main.py").write_bytes(b"x" * 300)
    total, largest = context_size(tmp_path)
    sent = [".dockerignore", "Dockerfile", "app/main.py", "app/util.pyc"]
    assert total == sum((tmp_path / f).stat().st_size for f in sent)
    assert largest[0] == ("app/main.py", 300)
    assert "data/raw/big.csv" not in dict(largest)


SPEC = load_spec(ROOT / "exercises" / "model-api.toml")


def dockerignore_verdict(tmp_path: Path, data: bytes) -> Verdict:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / ".dockerignore").write_bytes(data)
    parsed = read_dockerfile(
        tmp_path / "Dockerfile", base_image=SPEC.base_image, dependency_file=SPEC.dependency_file
    )
    assert isinstance(parsed, Dockerfile)
    return static_verdict("dockerignore", StaticContext(parsed, (), SPEC, tmp_path))


def test_dockerignore_rule_reads_a_bom_and_crlf_as_the_cli(tmp_path: Path) -> None:
    """Does the rule count `.env` on a first line that starts with a BOM as excluded?"""
    verdict = dockerignore_verdict(tmp_path, b"\xef\xbb\xbf.env\r\n.git\r\n__pycache__/\r\n")
    assert verdict.status is CheckStatus.PASSED, verdict.message


def test_dockerignore_rule_matches_case_sensitively(tmp_path: Path) -> None:
    """Is `.ENV` not taken for `.env`, since the CLI would send .env?"""
    verdict = dockerignore_verdict(tmp_path, b".ENV\n.git\n__pycache__\n")
    assert verdict.status is CheckStatus.FAILED
    assert ".env" in verdict.message


def test_dockerignore_rule_reports_a_pattern_the_cli_refuses(tmp_path: Path) -> None:
    """Is a pattern that stops `docker build` a failed verdict naming it, not a crash?"""
    verdict = dockerignore_verdict(tmp_path, b".env\n.git\n__pycache__\n[\n")
    assert verdict.status is CheckStatus.FAILED
    assert "`[`" in verdict.message
