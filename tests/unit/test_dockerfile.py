"""Reading Dockerfiles that learners really write, including broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.dockerfile import (
    Dockerfile,
    DockerfileProblem,
    buildkit_frontend_min_engine,
    find_heredocs,
    read_dockerfile,
)


def _read(tmp_path: Path, content: bytes) -> Dockerfile | DockerfileProblem:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    return read_dockerfile(path, base_image="python:3.11-slim", dependency_file="requirements.txt")


def test_missing_dockerfile_says_what_to_create(tmp_path: Path) -> None:
    """Is a missing Dockerfile a problem with a hint, not an exception?"""
    problem = read_dockerfile(
        tmp_path / "Dockerfile", base_image="python:3.11-slim", dependency_file="requirements.txt"
    )
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
        (b"FROM python:3.11-slim\nRUN <<EOF\necho hi\nEOF \n", "never closed"),
    ],
    ids=[
        "empty",
        "only-comments",
        "binary",
        "not-utf8",
        "run-before-from",
        "no-from",
        "typo",
        "unclosed-heredoc",
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


# --- heredocs ------------------------------------------------------------------------------


def _parsed(tmp_path: Path, text: str) -> Dockerfile:
    parsed = _read(tmp_path, text.encode())
    assert isinstance(parsed, Dockerfile), parsed
    return parsed


def test_heredoc_body_is_folded_into_its_run_and_later_lines_keep_their_numbers(
    tmp_path: Path,
) -> None:
    """Does `RUN <<EOF` parse, with the commands in the value and every line number right?"""
    parsed = _parsed(
        tmp_path,
        "FROM python:3.11-slim\nRUN <<EOF\nset -e\npip install -r requirements.txt\nEOF\n"
        "COPY . .\nUSER 10001\n",
    )
    assert [(i.keyword, i.line, i.end_line) for i in parsed.instructions] == [
        ("FROM", 1, 1),
        ("RUN", 2, 5),
        ("COPY", 6, 6),
        ("USER", 7, 7),
    ]
    run = parsed.instructions[1]
    assert run.value == "<<EOF\nset -e\npip install -r requirements.txt\nEOF"
    assert run.command() == "set -e\npip install -r requirements.txt\n"
    assert parsed.heredoc_lines == (2,)


def test_dash_heredoc_quoted_delimiters_and_several_heredocs_on_one_line(tmp_path: Path) -> None:
    """Are `<<-` (tabs stripped), quoted delimiters and two heredocs on one COPY read?"""
    parsed = _parsed(
        tmp_path,
        'FROM python:3.11-slim\nRUN <<-"EOT" bash\n\techo $HOME\n\tEOT\n'
        "COPY <<A <<'B' /app/\nfirst\nA\nsecond\nB\nWORKDIR /app\n",
    )
    run, copy, workdir = parsed.instructions[1:]
    (script,) = run.heredocs
    assert (script.name, script.strip_tabs, script.expand, script.body) == (
        "EOT",
        True,
        False,
        "echo $HOME\n",
    )
    assert [(d.name, d.body, d.line, d.end_line, d.expand) for d in copy.heredocs] == [
        ("A", "first\n", 6, 7, True),
        ("B", "second\n", 8, 9, False),
    ]
    assert copy.copy_sources() == []  # heredoc content is not read from the build context
    assert (workdir.keyword, workdir.line) == ("WORKDIR", 10)
    assert parsed.heredoc_lines == (2, 5)


def test_heredoc_fed_to_a_command_keeps_the_command(tmp_path: Path) -> None:
    """Is `RUN python3 <<EOF` the command with its input, not the input alone?"""
    parsed = _parsed(tmp_path, "FROM python:3.11-slim\nRUN python3 <<EOF\nprint(1)\nEOF\n")
    assert parsed.instructions[1].command() == "python3 <<EOF\nprint(1)\nEOF"
    assert parsed.instructions[1].words() == ["python3", "<<EOF"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # BuildKit reads a heredoc only when the whole word is `<<NAME`.
        ("FROM python:3.11-slim\nRUN cat<<EOF\nhello\nEOF\n", 3),
        # … only in RUN, COPY and ADD …
        ("FROM python:3.11-slim\nCMD <<EOF\nhello\nEOF\n", 3),
        # … and never in the exec form.
        ('FROM python:3.11-slim\nRUN ["sh", "-c", "cat", "<<EOF"]\nhello\nEOF\n', 3),
    ],
    ids=["glued-to-command", "in-cmd", "exec-form"],
)
def test_what_buildkit_does_not_read_as_a_heredoc_stays_an_error(
    tmp_path: Path, text: str, line: int
) -> None:
    """Are lines BuildKit would read as instructions still reported as unknown ones?"""
    problem = _read(tmp_path, text.encode())
    assert isinstance(problem, DockerfileProblem)
    assert problem.line == line
    assert "not a Dockerfile instruction" in problem.message


def test_find_heredocs_reports_instruction_lines_and_nothing_when_unclosed() -> None:
    """Does the module-level finder give each heredoc instruction's line, and {} when unclosed?"""
    text = "FROM python:3.11-slim\nRUN <<EOF\necho\nEOF\nRUN \\\n  <<X cat\nx\nX\n"
    found = find_heredocs(text)
    assert sorted(found) == [2, 5]
    assert [d.end_line for d in found[5]] == [8]
    assert find_heredocs("FROM python:3.11-slim\nRUN <<EOF\necho\n") == {}


# --- parser directives ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("# syntax=docker/dockerfile:1\n", (1, "docker/dockerfile:1")),
        ("#syntax=docker/dockerfile:1.7\n", (1, "docker/dockerfile:1.7")),
        ("# SYNTAX = docker/dockerfile:1 \n", (1, "docker/dockerfile:1")),
        ("# escape=\\\n# syntax=docker/dockerfile:1\n", (2, "docker/dockerfile:1")),
        ("#!/usr/bin/env buildctl\n# syntax=docker/dockerfile:1\n", (2, "docker/dockerfile:1")),
        ("\n# syntax=docker/dockerfile:1\n", None),
        ("# A comment first.\n# syntax=docker/dockerfile:1\n", None),
        ("# note=x\n# syntax=docker/dockerfile:1\n", None),
        ("", None),
    ],
    ids=[
        "plain",
        "no-space",
        "upper-case-key",
        "after-escape",
        "after-shebang",
        "after-blank-line",
        "after-comment",
        "after-unknown-key",
        "none",
    ],
)
def test_syntax_directive_counts_only_at_the_top(
    tmp_path: Path, head: str, expected: tuple[int, str] | None
) -> None:
    """Is `# syntax=` found only where BuildKit looks for it?"""
    parsed = _parsed(tmp_path, head + "FROM python:3.11-slim\n# syntax=late/ignored\n")
    assert parsed.syntax_directive == expected


# --- flags and mounts ----------------------------------------------------------------------


def test_flags_are_read_and_left_out_of_words_and_sources(tmp_path: Path) -> None:
    """Do leading flags (with and without values) stay out of words() and copy_sources()?"""
    parsed = _parsed(
        tmp_path,
        "FROM --platform=$BUILDPLATFORM python:3.11-slim AS build\n"
        "COPY --from=build --chown=app:app --chmod=644 --link /opt/venv /opt/venv\n"
        "COPY --parents --exclude=*.md app/ model/ ./\n"
        'ADD --chown="1000:1000" requirements.txt .\n'
        "RUN --mount=type=cache,target=/root/.cache/pip --network=none pip install x\n",
    )
    start, venv, code, add, run = parsed.instructions
    assert start.flags() == [("platform", "$BUILDPLATFORM")]
    assert start.words() == ["python:3.11-slim", "AS", "build"]
    assert venv.flags() == [("from", "build"), ("chown", "app:app"), ("chmod", "644"), ("link", "")]
    assert venv.copy_sources() == ["/opt/venv"]
    assert code.copy_sources() == ["app/", "model/"]
    assert add.flags() == [("chown", "1000:1000")]
    assert add.copy_sources() == ["requirements.txt"]
    assert run.command() == "pip install x"
    assert [name for name, _ in run.flags()] == ["mount", "network"]


def test_mounts_are_parsed_with_defaults_and_aliases(tmp_path: Path) -> None:
    """Does --mount default to a bind mount and read dst/destination/src as target/source?"""
    parsed = _parsed(
        tmp_path,
        "FROM python:3.11-slim\n"
        "RUN --mount=type=cache,target=/root/.cache/pip "
        "--mount=source=requirements.txt,dst=/tmp/r.txt,ro "
        "--mount=type=bind,from=builder,src=/opt/venv,destination=/venv "
        '["pip", "install", "-r", "/tmp/r.txt"]\n',
    )
    run = parsed.instructions[1]
    assert run.mounts() == [
        {"type": "cache", "target": "/root/.cache/pip"},
        {"type": "bind", "source": "requirements.txt", "target": "/tmp/r.txt", "readonly": "true"},
        {"type": "bind", "from": "builder", "source": "/opt/venv", "target": "/venv"},
    ]


def test_exec_form_after_flags_is_still_exec_form(tmp_path: Path) -> None:
    """Is `RUN --mount=… ["pip", …]` the exec form, its words the JSON array?"""
    parsed = _parsed(
        tmp_path,
        'FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip ["pip", "install", "x"]\n',
    )
    run = parsed.instructions[1]
    assert run.is_exec_form
    assert run.words() == ["pip", "install", "x"]


# --- stages --------------------------------------------------------------------------------

STAGES = (
    "ARG BASE=python:3.11-slim\n"  # 1
    "FROM ${BASE} AS Deps\n"  # 2   stage 0
    "RUN echo deps\n"  # 3
    "FROM deps AS builder\n"  # 4   stage 1, built FROM stage 0
    "RUN echo build\n"  # 5
    "FROM python:3.11-slim AS unused\n"  # 6   stage 2, read by nobody
    "RUN echo unused\n"  # 7
    "FROM python:3.11-slim AS assets\n"  # 8   stage 3
    "RUN echo assets\n"  # 9
    "FROM scratch\n"  # 10  stage 4, read through --mount=from
    "COPY a.txt /a\n"  # 11
    "FROM python:3.11-slim\n"  # 12  stage 5 (final)
    "COPY --from=BUILDER /opt/venv /opt/venv\n"  # 13
    "COPY --from=3 /x /x\n"  # 14
    "RUN --mount=type=bind,from=stage4,target=/s true\n"  # 15 (no such stage: an image)
    "RUN --mount=type=bind,from=4,target=/s true\n"  # 16
)


def test_stage_names_and_the_stages_the_final_image_needs(tmp_path: Path) -> None:
    """Are FROM <stage>, COPY --from (name or index) and --mount=from followed, transitively?"""
    parsed = _parsed(tmp_path, STAGES)
    assert parsed.stage_names == ("deps", "builder", "unused", "assets", None, None)
    assert parsed.base_image(0) == "python:3.11-slim"
    assert parsed.stage_base(1) == 0
    assert parsed.stage_base(5) is None
    assert parsed.stages_feeding_final() == (0, 1, 3, 4, 5)
    assert parsed.final_image_chain() == (5,)


def test_final_image_chain_follows_from_stage(tmp_path: Path) -> None:
    """Is a stage the final one is built FROM part of the final image's layers?"""
    parsed = _parsed(tmp_path, "FROM python:3.11-slim AS base\nRUN echo\nFROM base\nCOPY . .\n")
    assert parsed.final_image_chain() == (0, 1)
    assert parsed.stages_feeding_final() == (0, 1)


# --- the builders' step numbers ------------------------------------------------------------

# Measured with `DOCKER_BUILDKIT=1 docker build --progress=plain` on Engine 20.10.24:
#   [builder 1/4] FROM docker.io/library/python:3.11-slim
#   [builder 2/4] WORKDIR /w
#   [builder 3/4] COPY requirements.txt .
#   [builder 4/4] RUN echo builder     && echo more
#   [other 1/1] RUN echo other
#   [stage-3 2/3] COPY --from=other /w/requirements.txt /r3.txt
#   [stage-3 3/3] RUN echo last
MEASURED = (
    "ARG BASE=python:3.11-slim\n"  # 1
    "FROM ${BASE} AS builder\n"  # 2
    "ENV A=1\n"  # 3
    "WORKDIR /w\n"  # 4
    "LABEL x=y\n"  # 5
    "COPY requirements.txt .\n"  # 6
    "ARG Z=1\n"  # 7
    "RUN echo builder \\\n"  # 8
    "    && echo more\n"  # 9
    "USER nobody\n"  # 10
    "EXPOSE 80\n"  # 11
    "\n"  # 12
    "FROM python:3.11-slim\n"  # 13
    "ENV B=2\n"  # 14
    "COPY --from=builder /w/requirements.txt /r.txt\n"  # 15
    "ADD requirements.txt /r2.txt\n"  # 16
    "WORKDIR /app\n"  # 17
    "RUN --mount=type=cache,target=/root/.cache/pip echo final\n"  # 18
    'CMD ["python"]\n'  # 19
    "\n"  # 20
    "FROM builder AS other\n"  # 21
    "RUN echo other\n"  # 22
    "\n"  # 23
    "FROM python:3.11-slim\n"  # 24
    "COPY --from=other /w/requirements.txt /r3.txt\n"  # 25
    "RUN echo last\n"  # 26
    'CMD ["python"]\n'  # 27
)


@pytest.mark.parametrize(
    ("label", "number", "text", "line"),
    [
        ("builder", 1, "FROM docker.io/library/python:3.11-slim", 2),
        ("builder", 2, "WORKDIR /w", 4),
        ("builder", 3, "COPY requirements.txt .", 6),
        ("builder", 4, "RUN echo builder     && echo more", 8),
        ("other", 1, "RUN echo other", 22),
        ("stage-3", 2, "COPY --from=other /w/requirements.txt /r3.txt", 25),
        ("stage-3", 3, "RUN echo last", 26),
        ("stage-1", 5, "", 18),
        ("stage-1", 4, "", 17),
        ("BUILDER", 4, "", 8),
        ("linux/amd64 stage-3", 3, "RUN echo last", 26),
    ],
)
def test_buildkit_step_maps_measured_labels_to_lines(
    tmp_path: Path, label: str, number: int, text: str, line: int
) -> None:
    """Does each step BuildKit printed on Engine 20.10 map to its own line?"""
    parsed = _parsed(tmp_path, MEASURED)
    step = parsed.buildkit_step(label, number, text)
    assert step is not None
    assert step.line == line


def test_buildkit_step_falls_back_on_the_text_or_gives_up(tmp_path: Path) -> None:
    """When the count disagrees, is the text trusted, and is None returned rather than a guess?"""
    parsed = _parsed(tmp_path, MEASURED)
    # Counted step 2 of stage-1 is the COPY --from; the text names the ADD: the text wins.
    fallback = parsed.buildkit_step("stage-1", 2, "ADD requirements.txt /r2.txt")
    assert fallback is not None
    assert fallback.line == 16
    # Same keyword and count, but a command this file does not have: no guess.
    assert parsed.buildkit_step("stage-3", 3, "RUN echo something else") is None
    assert parsed.buildkit_step("stage-3", 3, "COPY nothing/like/it /x") is None
    # Same keyword, but the text is exactly another RUN of the stage: the text wins.
    two_runs = _parsed(tmp_path, "FROM python:3.11-slim\nRUN echo a\nRUN echo b\n")
    assert two_runs.buildkit_step(None, 2, "RUN echo   b").line == 3
    assert two_runs.buildkit_step(None, 2, "RUN echo a").line == 2
    assert parsed.buildkit_step("stage-3", 9) is None
    assert parsed.buildkit_step("nonexistent", 1) is None
    assert parsed.buildkit_step(None, 1) is None  # multi-stage: a stage is needed


# Measured on Engine 20.10 (`--no-cache`): variables expanded, exec-form COPY printed as a
# Go list, the keyword upper-cased:
#   [2/8] WORKDIR /srv/app
#   [3/8] COPY --chown=1000:1000 --chmod=644 a.txt /a.txt
#   [4/8] COPY [a.txt, /b.txt]
#   [5/8] ADD a.txt sub/ /c/
#   [6/8] RUN echo "hello" /srv/app $HOME
#   [7/8] RUN ["echo", "exec", "form"]
#   [8/8] RUN   echo   lower   case
PRINTED = (
    "FROM python:3.11-slim\n"  # 1
    "ARG GREETING=hello\n"  # 2
    "ENV DIR=/srv/app\n"  # 3
    "WORKDIR $DIR\n"  # 4
    "COPY --chown=1000:1000 --chmod=644 a.txt /a.txt\n"  # 5
    'COPY ["a.txt", "/b.txt"]\n'  # 6
    "ADD a.txt sub/ /c/\n"  # 7
    'RUN echo "$GREETING" ${DIR} $HOME\n'  # 8
    'RUN ["echo", "exec", "form"]\n'  # 9
    "run   echo   lower   case\n"  # 10
)


@pytest.mark.parametrize(
    ("number", "text", "line"),
    [
        (1, "FROM docker.io/library/python:3.11-slim", 1),
        (2, "WORKDIR /srv/app", 4),
        (3, "COPY --chown=1000:1000 --chmod=644 a.txt /a.txt", 5),
        (4, "COPY [a.txt, /b.txt]", 6),
        (5, "ADD a.txt sub/ /c/", 7),
        (6, 'RUN echo "hello" /srv/app $HOME', 8),
        (7, 'RUN ["echo", "exec", "form"]', 9),
        (8, "RUN   echo   lower   case", 10),
    ],
)
def test_buildkit_step_reads_text_as_buildkit_prints_it(
    tmp_path: Path, number: int, text: str, line: int
) -> None:
    """Do expanded variables, exec-form COPY and upper-cased keywords still confirm the step?"""
    parsed = _parsed(tmp_path, PRINTED)
    assert parsed.buildkit_step(None, number, text).line == line
    # With a wrong number, the text alone finds the same instruction.
    assert parsed.buildkit_step(None, number % 8 + 1, text).line == line


def test_buildkit_step_of_another_build_sharing_the_step(tmp_path: Path) -> None:
    """Does a step labelled by a concurrent build (`[alpha 2/3]`, measured) map by its text?"""
    parsed = _parsed(
        tmp_path, "FROM python:3.11-slim\nENV X=1\nWORKDIR /yy\nRUN echo b\nRUN echo c\n"
    )
    shared = parsed.buildkit_step("alpha", 2, "WORKDIR /yy")
    assert shared is not None
    assert shared.line == 3
    assert parsed.buildkit_step("alpha", 1, "FROM docker.io/library/python:3.11-slim").line == 1
    assert parsed.buildkit_step("alpha", 3, "RUN sleep 8") is None
    # Two stages printed alike: no way to tell which one it was.
    twice = _parsed(
        tmp_path, "FROM python:3.11-slim AS a\nWORKDIR /yy\nFROM python:3.11-slim\nWORKDIR /yy\n"
    )
    assert twice.buildkit_step("alpha", 2, "WORKDIR /yy") is None
    assert twice.buildkit_step("stage-1", 2, "WORKDIR /yy").line == 4


def test_buildkit_step_in_a_one_stage_file(tmp_path: Path) -> None:
    """Are `[N/M]` steps of a single stage counted without ENV, USER, CMD (measured)?"""
    parsed = _parsed(
        tmp_path,
        "ARG X=1\nFROM python:3.11-slim\nENV A=1\nRUN echo one\nUSER nobody\n"
        'COPY requirements.txt /tmp/\nHEALTHCHECK CMD true\nCMD ["python"]\n',
    )
    # Measured: [1/3] FROM …, [2/3] RUN echo one, [3/3] COPY requirements.txt /tmp/ (and
    # `stage-0` once a cache mount or a `--from=<image>` adds a stage to a one-stage file).
    assert [parsed.buildkit_step(None, n).line for n in (1, 2, 3)] == [2, 4, 6]
    assert parsed.buildkit_step("stage-0", 2, "RUN echo one").line == 4
    assert parsed.buildkit_step(None, 4) is None


def test_scratch_is_not_a_step(tmp_path: Path) -> None:
    """Does `FROM scratch` count as no step, as BuildKit prints `[s 1/1] COPY …`?"""
    parsed = _parsed(
        tmp_path,
        "FROM scratch AS s\nCOPY requirements.txt /r\nFROM python:3.11-slim\nCOPY --from=s /r /r\n",
    )
    step = parsed.buildkit_step("s", 1, "COPY requirements.txt /r")
    assert step is not None
    assert step.line == 2


def test_classic_step_numbers_every_instruction(tmp_path: Path) -> None:
    """Is the classic builder's Step N the N-th instruction, pre-FROM ARG included?"""
    parsed = _parsed(tmp_path, MEASURED)
    assert parsed.classic_step(1).keyword == "ARG"
    assert parsed.classic_step(4).line == 4
    assert parsed.classic_step(len(parsed.instructions)).line == 27
    assert parsed.classic_step(0) is None
    assert parsed.classic_step(len(parsed.instructions) + 1) is None


# --- what only BuildKit reads --------------------------------------------------------------


def test_buildkit_only_features_and_the_engines_that_read_them(tmp_path: Path) -> None:
    """Is each use of BuildKit-only syntax listed with its line, and classic-safe flags not?"""
    parsed = _parsed(
        tmp_path,
        "FROM --platform=linux/amd64 python:3.11-slim AS b\n"  # 1: classic reads --platform
        "COPY --chown=1:1 --from=b /x /x\n"  # 2: and --chown, --from
        "RUN --mount=type=cache,target=/c --mount=type=bind,target=/d true\n"  # 3
        "RUN --network=none --security=insecure true\n"  # 4
        "COPY --chmod=644 --link --parents --exclude=*.md a /a\n"  # 5
        "ADD --checksum=sha256:00 --chmod=600 a /a\n"  # 6
        "RUN <<EOF\ntrue\nEOF\n",  # 7
    )
    features = parsed.buildkit_only_features()
    assert features == [
        (3, "`RUN --mount`"),
        (4, "`RUN --network`"),
        (4, "`RUN --security`"),
        (5, "`COPY --chmod`"),
        (5, "`COPY --link`"),
        (5, "`COPY --parents`"),
        (5, "`COPY --exclude`"),
        (6, "`ADD --checksum`"),
        (6, "`ADD --chmod`"),
        (7, "a heredoc (`<<EOF`)"),
    ]
    engines = [buildkit_frontend_min_engine(what) for _, what in features]
    assert engines == ["20.10", "23.0", None, "20.10", "23.0", None, None, "25.0", "20.10", "23.0"]
    assert buildkit_frontend_min_engine("heredoc") == "23.0"
    assert buildkit_frontend_min_engine("--link") == "23.0"
