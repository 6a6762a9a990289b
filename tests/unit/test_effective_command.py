"""The command a container really runs, and where its server listens: no engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest

import grader.effective_command as effective_command_module
from grader.dockerfile import Dockerfile, read_dockerfile
from grader.effective_command import (
    EffectiveCommand,
    ListenAddress,
    Reach,
    effective_command,
    listen_address,
)

BASE = "FROM python:3.11-slim\nWORKDIR /app\n"
"""Two lines: a case's own lines start at line 3 (a case starting with FROM is whole)."""


def _parse(tmp_path: Path, text: str) -> Dockerfile:
    (tmp_path / "Dockerfile").write_text(text)
    parsed = read_dockerfile(
        tmp_path / "Dockerfile", base_image="python:3.11-slim", dependency_file="requirements.txt"
    )
    assert isinstance(parsed, Dockerfile)
    return parsed


def _listen(tmp_path: Path, text: str) -> ListenAddress:
    return listen_address(_parse(tmp_path, text))


def _command(tmp_path: Path, text: str) -> EffectiveCommand:
    return effective_command(_parse(tmp_path, text))


# (Dockerfile after BASE, host, port, reach, line)
CASES = {
    "exec-form-uvicorn": (
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "exec-form-uvicorn-equals": (
        'CMD ["uvicorn", "app.main:app", "--host=0.0.0.0", "--port=8080"]',
        "0.0.0.0", 8080, Reach.ALL_IPV4, 3,
    ),
    "shell-form-uvicorn": (
        "CMD uvicorn app.main:app --host 0.0.0.0 --port 8000",
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "uvicorn-default-loopback": (
        'CMD ["uvicorn", "app.main:app"]',
        "127.0.0.1", 8000, Reach.LOOPBACK, 3,
    ),
    "uvicorn-localhost": (
        'CMD ["uvicorn", "app.main:app", "--host", "localhost"]',
        "localhost", 8000, Reach.LOOPBACK, 3,
    ),
    "sh-c-chain-exec": (
        'CMD ["sh", "-c", "python -m app.migrate && exec uvicorn app.main:app --host 0.0.0.0 --port 8000"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "sh-c-sequence": (
        "CMD cd /app; alembic upgrade head; uvicorn app.main:app --host 0.0.0.0",
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "bash-lc": (
        'ENTRYPOINT ["/bin/bash", "-lc", "exec uvicorn app.main:app --host 0.0.0.0"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "gunicorn-b": (
        'CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000", "app.main:app"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "gunicorn-bind-equals": (
        'CMD ["gunicorn", "--bind=0.0.0.0:8000", "app.main:app"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "gunicorn-b-attached": (
        'CMD ["gunicorn", "-b0.0.0.0:9000", "app.main:app"]',
        "0.0.0.0", 9000, Reach.ALL_IPV4, 3,
    ),
    "gunicorn-port-only": (
        'CMD ["gunicorn", "-b", ":8000", "app.main:app"]',
        "", 8000, Reach.ALL_IPV4, 3,
    ),
    "gunicorn-ipv6-any": (
        'CMD ["gunicorn", "--bind=[::]:8000", "app.main:app"]',
        "::", 8000, Reach.DUAL_STACK, 3,
    ),
    "gunicorn-default": (
        'CMD ["gunicorn", "app.main:app"]',
        "127.0.0.1", 8000, Reach.LOOPBACK, 3,
    ),
    "gunicorn-port-env": (
        'ENV PORT=8000\nCMD ["gunicorn", "app.main:app"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "gunicorn-cmd-args-env": (
        'ENV GUNICORN_CMD_ARGS="--bind=0.0.0.0:8000 --workers=2"\nCMD ["gunicorn", "app.main:app"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "uvicorn-ipv6-any": (
        'CMD ["uvicorn", "app.main:app", "--host", "::"]',
        "::", 8000, Reach.IPV6_ONLY, 3,
    ),
    "uvicorn-ipv6-bracketed": (
        'CMD ["uvicorn", "app.main:app", "--host", "[::]"]',
        "[::]", 8000, Reach.INVALID, 3,
    ),
    "uvicorn-ipv6-any-workers": (
        'CMD ["uvicorn", "app.main:app", "--host", "::", "--workers", "2"]',
        "::", 8000, Reach.DUAL_STACK, 3,
    ),
    "uvicorn-ipv6-loopback": (
        'CMD ["uvicorn", "app.main:app", "--host", "::1"]',
        "::1", 8000, Reach.LOOPBACK, 3,
    ),
    "uvicorn-specific-address": (
        'CMD ["uvicorn", "app.main:app", "--host", "172.17.0.2"]',
        "172.17.0.2", 8000, Reach.SPECIFIC, 3,
    ),
    "host-from-env": (
        'ENV HOST=0.0.0.0\nCMD uvicorn app.main:app --host=${HOST} --port 8000',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 4,
    ),
    "port-from-env-set-by-arg": (
        "ARG PORT=8000\nENV PORT=$PORT\nCMD uvicorn app.main:app --host 0.0.0.0 --port $PORT",
        "0.0.0.0", 8000, Reach.ALL_IPV4, 5,
    ),
    "port-default-in-shell": (
        "CMD uvicorn app.main:app --host 0.0.0.0 --port ${PORT:-8080}",
        "0.0.0.0", 8080, Reach.ALL_IPV4, 3,
    ),
    "uvicorn-host-env-variable": (
        'ENV UVICORN_HOST=0.0.0.0 UVICORN_PORT=8001\nCMD ["uvicorn", "app.main:app"]',
        "0.0.0.0", 8001, Reach.ALL_IPV4, 3,
    ),
    "script-export": (
        "CMD export HOST=0.0.0.0 && exec uvicorn app.main:app --host $HOST",
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "entrypoint-cmd-split": (
        'ENTRYPOINT ["uvicorn"]\nCMD ["app.main:app", "--host", "0.0.0.0"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 4,
    ),
    "shell-entrypoint-ignores-cmd": (
        'ENTRYPOINT uvicorn app.main:app\nCMD ["--host", "0.0.0.0"]',
        "127.0.0.1", 8000, Reach.LOOPBACK, 3,
    ),
    "later-cmd-overrides": (
        'CMD ["uvicorn", "app.main:app"]\nCMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 4,
    ),
    "cmd-inherited-from-stage": (
        "FROM python:3.11-slim AS builder\nWORKDIR /app\n"
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
        "FROM python:3.11-slim AS unrelated\n"
        "FROM builder AS final\nUSER app",
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "fastapi-run": (
        'CMD ["fastapi", "run", "app/main.py"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "fastapi-dev": (
        'CMD ["fastapi", "dev", "app/main.py"]',
        "127.0.0.1", 8000, Reach.LOOPBACK, 3,
    ),
    "fastapi-run-port": (
        'CMD ["fastapi", "run", "app/main.py", "--port", "80"]',
        "0.0.0.0", 80, Reach.ALL_IPV4, 3,
    ),
    "python-m-uvicorn": (
        'CMD ["python", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "venv-python-m-uvicorn": (
        'CMD ["/opt/venv/bin/python3.11", "-u", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "hypercorn-bind": (
        'CMD ["hypercorn", "app.main:app", "--bind", "0.0.0.0:8000"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "hypercorn-default": (
        'CMD ["hypercorn", "app.main:app"]',
        "127.0.0.1", 8000, Reach.LOOPBACK, 3,
    ),
    "exec-form-variable-is-literal": (
        'ENV HOST=0.0.0.0\nCMD ["uvicorn", "app.main:app", "--host", "$HOST"]',
        None, None, Reach.INVALID, 4,
    ),
    "unknown-program": (
        'CMD ["python", "app.py"]',
        None, None, Reach.UNKNOWN, 3,
    ),
    "python-m-app": (
        'CMD ["python", "-m", "app"]',
        None, None, Reach.UNKNOWN, 3,
    ),
    "unresolvable-variable": (
        "CMD uvicorn app.main:app --host $HOST",
        None, None, Reach.UNKNOWN, 3,
    ),
    "arg-only-at-build-time": (
        "ARG PORT=8000\nCMD uvicorn app.main:app --host 0.0.0.0 --port $PORT",
        None, None, Reach.UNKNOWN, 4,
    ),
    "command-substitution": (
        'CMD uvicorn app.main:app --host "$(hostname -i)"',
        None, None, Reach.UNKNOWN, 3,
    ),
    "unix-socket": (
        'CMD ["gunicorn", "-b", "unix:/tmp/app.sock", "app.main:app"]',
        None, None, Reach.UNIX_SOCKET, 3,
    ),
    "uvicorn-uds": (
        'CMD ["uvicorn", "app.main:app", "--uds", "/tmp/app.sock"]',
        None, None, Reach.UNIX_SOCKET, 3,
    ),
    "env-wrapper": (
        'CMD ["env", "UVICORN_HOST=0.0.0.0", "uvicorn", "app.main:app"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "tini-entrypoint": (
        'ENTRYPOINT ["tini", "--"]\nCMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 4,
    ),
    "uv-run": (
        'CMD ["uv", "run", "--no-sync", "uvicorn", "app.main:app", "--host", "0.0.0.0"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "inline-assignment-is-exported": (
        "CMD UVICORN_HOST=0.0.0.0 uvicorn app.main:app",
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "bare-assignment-is-not-exported": (
        "CMD UVICORN_HOST=0.0.0.0; exec uvicorn app.main:app",
        "127.0.0.1", 8000, Reach.LOOPBACK, 3,
    ),
    "legacy-env-form": (
        "ENV HOST 0.0.0.0\nCMD uvicorn app.main:app --host $HOST",
        "0.0.0.0", 8000, Reach.ALL_IPV4, 4,
    ),
    "port-not-a-number": (
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "eighty"]',
        None, None, Reach.INVALID, 3,
    ),
    "hypercorn-ipv6-any": (
        'CMD ["hypercorn", "-b", "[::]:8000", "app.main:app"]',
        "::", 8000, Reach.DUAL_STACK, 3,
    ),
    "gunicorn-two-binds": (
        'CMD ["gunicorn", "-b", "127.0.0.1:8000", "-b", "0.0.0.0:8000", "app.main:app"]',
        "0.0.0.0", 8000, Reach.ALL_IPV4, 3,
    ),
    "fastapi-run-ipv6-any": (
        'CMD ["fastapi", "run", "--host", "::"]',
        "::", 8000, Reach.IPV6_ONLY, 3,
    ),
    "fastapi-dev-ipv6-any-reloads": (
        'CMD ["fastapi", "dev", "--host", "::"]',
        "::", 8000, Reach.DUAL_STACK, 3,
    ),
    "python-c": (
        'CMD ["python", "-c", "import app; app.serve()"]',
        None, None, Reach.UNKNOWN, 3,
    ),
    "shell-script-file": (
        'CMD ["sh", "start.sh"]',
        None, None, Reach.UNKNOWN, 3,
    ),
    "no-cmd-at-all": (
        "RUN pip install fastapi",
        None, None, Reach.UNKNOWN, None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_listen_address_of_each_start_command(tmp_path: Path, case: str) -> None:
    """Is the address, its reach and the line that sets it read as the server would?"""
    tail, host, port, reach, line = CASES[case]
    dockerfile = tail if tail.startswith("FROM") else BASE + tail
    address = _listen(tmp_path, dockerfile + "\n")
    assert (address.host, address.port, address.reach, address.source_line) == (
        host,
        port,
        reach,
        line,
    ), address.reason
    assert address.reason


def test_unknown_is_never_a_verdict_of_failure(tmp_path: Path) -> None:
    """Does an address that cannot be told say so, uncertain and with no answer either way?"""
    address = _listen(tmp_path, BASE + "CMD uvicorn app.main:app --host $HOST\n")
    assert address.reach is Reach.UNKNOWN
    assert address.certain is False
    assert address.reach.published_port_answers is None
    assert "`$HOST` is not set in the Dockerfile" in address.reason


def test_verdict_names_where_an_expanded_value_comes_from(tmp_path: Path) -> None:
    """Can a verdict say which ENV line gave the host?"""
    address = _listen(tmp_path, BASE + "ENV HOST=0.0.0.0\nCMD uvicorn app:app --host=${HOST}\n")
    [expansion] = address.expansions
    assert (expansion.name, expansion.value, expansion.source, expansion.line) == (
        "HOST",
        "0.0.0.0",
        "ENV",
        3,
    )
    assert "`$HOST` is `0.0.0.0` (ENV, line 3)" in address.reason


def test_an_arg_is_gone_when_the_container_runs(tmp_path: Path) -> None:
    """Is an ARG-only port explained as build-time only, pointing at the ARG line?"""
    address = _listen(tmp_path, BASE + "ARG PORT=8000\nCMD uvicorn app:app --port $PORT\n")
    [expansion] = address.expansions
    assert (expansion.source, expansion.line, expansion.value) == ("ARG", 3, None)
    assert "build time only" in address.reason


def test_ipv6_only_says_why_the_published_port_is_silent(tmp_path: Path) -> None:
    """Is `--host ::` reported as IPv6-only, certain, with the reason in the message?"""
    address = _listen(tmp_path, BASE + 'CMD ["uvicorn", "app:app", "--host", "::"]\n')
    assert address.certain is True
    assert address.reach.published_port_answers is False
    assert "IPV6_V6ONLY" in address.reason
    assert "IPv4" in address.reason


def test_gunicorn_default_bind_admits_a_config_file(tmp_path: Path) -> None:
    """Is gunicorn's default bind uncertain, since a gunicorn.conf.py may set it?"""
    address = _listen(tmp_path, BASE + 'CMD ["gunicorn", "app:app"]\n')
    assert address.certain is False
    assert "gunicorn.conf.py" in address.reason
    with_flag = _listen(tmp_path, BASE + 'CMD ["gunicorn", "-b", "0.0.0.0", "app:app"]\n')
    assert with_flag.certain is True


def test_gunicorn_config_file_makes_the_bind_unknown(tmp_path: Path) -> None:
    """Does `-c gunicorn.conf.py` without `-b` leave the address unknown?"""
    address = _listen(tmp_path, BASE + 'CMD ["gunicorn", "-c", "conf.py", "app:app"]\n')
    assert address.reach is Reach.UNKNOWN


def test_gunicorn_with_uvicorn_workers_is_named_so(tmp_path: Path) -> None:
    """Does the verdict say which server listens?"""
    dockerfile = 'CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", ":8000", "a:b"]\n'
    assert _listen(tmp_path, BASE + dockerfile).server == "gunicorn (uvicorn workers)"


# --- the command itself ----------------------------------------------------------------------


def test_shell_form_is_wrapped_in_sh_c(tmp_path: Path) -> None:
    """Does a shell-form CMD run as `/bin/sh -c TEXT`?"""
    command = _command(tmp_path, BASE + "CMD uvicorn app:app --host 0.0.0.0\n")
    assert command.argv == ("/bin/sh", "-c", "uvicorn app:app --host 0.0.0.0")
    assert command.lines == (3, 3, 3)


def test_shell_instruction_changes_the_wrapper(tmp_path: Path) -> None:
    """Does SHELL replace /bin/sh -c for a later shell-form CMD?"""
    command = _command(tmp_path, BASE + 'SHELL ["/bin/bash", "-c"]\nCMD uvicorn app:app\n')
    assert command.argv[:2] == ("/bin/bash", "-c")


def test_entrypoint_clears_an_inherited_cmd(tmp_path: Path) -> None:
    """Does an ENTRYPOINT drop the CMD of the stage it is built FROM?"""
    text = (
        "FROM python:3.11-slim AS base\n"
        'CMD ["--host", "0.0.0.0"]\n'
        "FROM base\n"
        'ENTRYPOINT ["uvicorn", "app:app"]\n'
    )
    command = _command(tmp_path, text)
    assert command.argv == ("uvicorn", "app:app")
    assert command.cmd_line is None
    assert _listen(tmp_path, text).reach is Reach.LOOPBACK


def test_entrypoint_keeps_a_cmd_of_its_own_stage(tmp_path: Path) -> None:
    """Does a CMD written before the ENTRYPOINT in the same stage survive it?"""
    command = _command(
        tmp_path, BASE + 'CMD ["app:app", "--host", "0.0.0.0"]\nENTRYPOINT ["uvicorn"]\n'
    )
    assert command.argv == ("uvicorn", "app:app", "--host", "0.0.0.0")
    assert (command.entrypoint_line, command.cmd_line) == (4, 3)


def test_shell_form_entrypoint_marks_cmd_ignored(tmp_path: Path) -> None:
    """Is a CMD after a shell-form ENTRYPOINT flagged as never read?"""
    command = _command(tmp_path, BASE + 'ENTRYPOINT uvicorn app:app\nCMD ["--reload"]\n')
    assert command.cmd_ignored is True


def test_stage_not_built_from_does_not_count(tmp_path: Path) -> None:
    """Is a CMD of a stage the final one only copies from left out?"""
    text = (
        "FROM python:3.11-slim AS builder\n"
        'CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]\n'
        "FROM python:3.11-slim\n"
        "COPY --from=builder /app /app\n"
    )
    assert _command(tmp_path, text).argv == ()
    assert _listen(tmp_path, text).reach is Reach.UNKNOWN


def test_env_values_are_expanded_at_build_time(tmp_path: Path) -> None:
    """Does `ENV PORT=$PORT` take the ARG default, and the ARG stay out of the image env?"""
    command = _command(tmp_path, BASE + "ARG PORT=8000\nENV PORT=$PORT BIND=0.0.0.0:${PORT}\n")
    assert command.env["BIND"].value == "0.0.0.0:8000"
    assert command.env["BIND"].line == 4
    assert command.build_args["PORT"].source == "ARG"


def test_stage_arg_takes_the_global_default(tmp_path: Path) -> None:
    """Does `ARG PORT` in the stage take the default of the ARG before FROM?"""
    text = (
        "ARG PORT=9000\nFROM python:3.11-slim\nARG PORT\nENV PORT=$PORT\n"
        "CMD uvicorn app:app --host 0.0.0.0 --port $PORT\n"
    )
    assert _listen(tmp_path, text).port == 9000


def test_public_api_is_pinned() -> None:
    """Does the module export exactly what callers are meant to use?"""
    assert sorted(effective_command_module.__all__) == [
        "EffectiveCommand",
        "Expansion",
        "ListenAddress",
        "Reach",
        "Variable",
        "effective_command",
        "listen_address",
    ]


@pytest.mark.parametrize(
    ("reach", "answers"),
    [
        (Reach.ALL_IPV4, True),
        (Reach.DUAL_STACK, True),
        (Reach.IPV6_ONLY, False),
        (Reach.LOOPBACK, False),
        (Reach.UNIX_SOCKET, False),
        (Reach.INVALID, False),
        (Reach.SPECIFIC, None),
        (Reach.UNKNOWN, None),
    ],
)
def test_which_reaches_a_published_port_answers(reach: Reach, answers: bool | None) -> None:
    """Is every reach mapped to yes, no or cannot tell, never a guess?"""
    assert reach.published_port_answers is answers
