"""Reading Dockerfiles that learners really write, including broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.dockerfile import Dockerfile, DockerfileProblem, read_dockerfile


def _read(tmp_path: Path, content: bytes) -> Dockerfile | DockerfileProblem:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    return read_dockerfile(path)


def test_missing_dockerfile_says_what_to_create(tmp_path: Path) -> None:
    """Is a missing Dockerfile a problem with a hint, not an exception?"""
    problem = read_dockerfile(tmp_path / "Dockerfile")
    assert isinstance(problem, DockerfileProblem)
    assert "no Dockerfile" in problem.message
    assert "named exactly `Dockerfile`" in problem.hint


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"# just a comment\n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"FROM python:3.11-slim\nRUN echo \xff\xfe\n", "not valid UTF-8"),
        (b"RUN pip install x\nFROM python:3.11-slim\n", "before any `FROM`"),
        (b"# comment\nWORKDIR /app\n", "before any `FROM`"),
        (b"FROM python:3.11-slim\nRUNN pip install x\n", "not a Dockerfile instruction"),
        (b"FROM python:3.11-slim\nRUN <<EOF\necho hi\nEOF\n", "heredocs"),
    ],
    ids=[
        "empty",
        "only-comments",
        "binary",
        "not-utf8",
        "run-before-from",
        "no-from",
        "typo",
        "heredoc",
    ],
)
def test_broken_dockerfiles_are_problems_with_hints(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """Does each broken Dockerfile give a clear message and a hint?"""
    problem = _read(tmp_path, content)
    assert isinstance(problem, DockerfileProblem)
    assert message in problem.message
    assert problem.hint


def test_typo_names_the_line(tmp_path: Path) -> None:
    """Does a misspelt instruction point at its own line?"""
    problem = _read(tmp_path, b"FROM python:3.11-slim\nWORKDIR /app\nCOPPY . .\n")
    assert isinstance(problem, DockerfileProblem)
    assert problem.line == 3


def test_bom_and_crlf_are_accepted_with_warnings(tmp_path: Path) -> None:
    """Are Windows editors' BOM and CRLF tolerated, keeping the learner's line numbers?"""
    parsed = _read(tmp_path, b"\xef\xbb\xbfFROM python:3.11-slim\r\n\r\nRUN echo hi\r\n")
    assert isinstance(parsed, Dockerfile)
    assert [(i.keyword, i.line) for i in parsed.instructions] == [("FROM", 1), ("RUN", 3)]
    messages = " ".join(m for m, _ in parsed.warnings)
    assert "byte-order mark" in messages
    assert "CRLF" in messages


def test_continuations_keep_the_first_line_and_stages_are_counted(tmp_path: Path) -> None:
    """Are continued lines one instruction, and is the final stage what counts?"""
    parsed = _read(
        tmp_path,
        b"FROM python:3.11-slim AS build\nRUN pip install \\\n    x\n"
        b'FROM python:3.11-slim\nCOPY --from=build /x /x\nCMD ["python"]\n',
    )
    assert isinstance(parsed, Dockerfile)
    assert [(i.keyword, i.line, i.stage) for i in parsed.instructions] == [
        ("FROM", 1, 0),
        ("RUN", 2, 0),
        ("FROM", 4, 1),
        ("COPY", 5, 1),
        ("CMD", 6, 1),
    ]
    assert [i.keyword for i in parsed.final_stage] == ["FROM", "COPY", "CMD"]
    assert parsed.last("CMD").is_exec_form
