"""The socket table: which address and port an app listens on, and what that means."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.engine import BASE_IMAGE, EngineSession, RunningContainer
from grader.listening_sockets import Listener, Listening, judge_listeners, parse_socket_table

# `cat /proc/net/tcp /proc/net/tcp6` in a container running
# `python -m http.server -b 127.0.0.1 8000` (Engine 20.10), with a client connection
# (state 01, ESTABLISHED) added by hand.
LOOPBACK_8000 = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1989948 1 00000000913424ed 100 0 0 10 0
   1: 0100007F:1F40 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 1989950 1 00000000913424ed 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
"""

ANY_IPV6 = "00000000000000000000000000000000"
LOOPBACK_IPV6 = "00000000000000000000000001000000"
# ::ffff:127.0.0.1, each 32-bit word little endian.
MAPPED_LOOPBACK = "0000000000000000FFFF00000100007F"


def _row(address: str, port: int, state: str = "0A") -> str:
    return f"   0: {address}:{port:04X} {'0' * len(address)}:0000 {state} 0 0 0 0 0 0 1 1\n"


def test_the_measured_loopback_table_reads_as_one_listener() -> None:
    """Is 0100007F:1F40 in state 0A read as 127.0.0.1:8000, and the connection left out?"""
    assert parse_socket_table(LOOPBACK_8000) == [Listener("127.0.0.1", 8000, ipv6=False)]


@pytest.mark.parametrize(
    ("hex_address", "expected"),
    [
        ("00000000", Listener("0.0.0.0", 5000, ipv6=False)),
        ("0200A8C0", Listener("192.168.0.2", 5000, ipv6=False)),
        (ANY_IPV6, Listener("::", 5000, ipv6=True)),
        (LOOPBACK_IPV6, Listener("::1", 5000, ipv6=True)),
        (MAPPED_LOOPBACK, Listener("127.0.0.1", 5000, ipv6=False)),
    ],
)
def test_addresses_are_read_in_the_kernels_byte_order(hex_address: str, expected: Listener) -> None:
    """Are IPv4, IPv6 and IPv4-mapped addresses decoded (little endian per 32-bit word)?"""
    assert parse_socket_table(_row(hex_address, 5000)) == [expected]


def test_only_listening_sockets_count() -> None:
    """Are sockets in other states (01 established, 06 time-wait) ignored?"""
    table = _row("00000000", 8000, "01") + _row("00000000", 8000, "06")
    assert parse_socket_table(table) == []


def test_garbage_lines_are_skipped() -> None:
    """Does a line that is not a socket row leave the others readable?"""
    table = "cat: /proc/net/tcp6: No such file or directory\n" + _row("00000000", 8000)
    assert parse_socket_table(table) == [Listener("0.0.0.0", 8000, ipv6=False)]


@pytest.mark.parametrize(
    ("listeners", "expected"),
    [
        ([Listener("0.0.0.0", 8000, False)], Listening.REACHABLE),
        ([Listener("172.17.0.2", 8000, False)], Listening.REACHABLE),
        ([Listener("127.0.0.1", 8000, False), Listener("0.0.0.0", 8000, False)], "reachable"),
        ([Listener("127.0.0.1", 8000, False)], Listening.LOOPBACK_ONLY),
        ([Listener("::1", 8000, True)], Listening.LOOPBACK_ONLY),
        ([Listener("::", 8000, True)], Listening.IPV6_ANY),
        ([Listener("0.0.0.0", 5000, False)], Listening.OTHER_PORT),
        ([Listener("127.0.0.1", 5000, False)], Listening.OTHER_PORT),
        ([], Listening.NOTHING),
    ],
)
def test_what_the_listeners_mean_for_port_8000(listeners: list[Listener], expected: str) -> None:
    """Is each kind of socket table judged as the published port will see it?"""
    assert judge_listeners(listeners, 8000) == expected


def test_a_listener_prints_as_address_and_port() -> None:
    """Do verdicts name sockets the way people write them?"""
    assert str(Listener("127.0.0.1", 8000, False)) == "127.0.0.1:8000"
    assert str(Listener("::", 8000, True)) == "[::]:8000"


class _Wrapped:
    """Stands in for testcontainers' container: ``exec`` answers as the engine did."""

    def __init__(self, exit_code: int, output: str) -> None:
        self.answer = SimpleNamespace(exit_code=exit_code, output=output.encode())
        self.execs = 0

    def exec(self, _config: object) -> SimpleNamespace:
        self.execs += 1
        return self.answer

    def get_wrapped_container(self) -> SimpleNamespace:
        return SimpleNamespace(id="app-id")


class _Helper:
    """The helper container: it has exited by the time its logs are read."""

    def __init__(self) -> None:
        self.waited = self.removed = False

    def wait(self, timeout: float) -> dict[str, int]:
        self.waited = True
        return {"StatusCode": 0}

    def logs(self, stdout: bool, stderr: bool) -> bytes:
        assert self.waited, "the logs are read only once the helper has exited"
        return LOOPBACK_8000.encode()

    def remove(self, force: bool, v: bool = False) -> None:
        self.removed = True


class _Containers:
    def __init__(self) -> None:
        self.runs: list[dict[str, object]] = []
        self.helpers: list[_Helper] = []

    def run(self, image: str, command: list[str], **options: object) -> _Helper:
        self.runs.append({"image": image, "command": command, **options})
        self.helpers.append(_Helper())
        return self.helpers[-1]


def _session_and_container(exit_code: int, output: str):  # type: ignore[no-untyped-def]
    client = SimpleNamespace(containers=_Containers())
    session = EngineSession(client=client)  # type: ignore[arg-type]
    wrapped = _Wrapped(exit_code, output)
    container = RunningContainer(wrapped=wrapped, host="127.0.0.1", port=1, name="app")  # type: ignore[arg-type]
    return session, container, client.containers, wrapped


def test_the_table_is_read_with_cat_where_the_image_has_it() -> None:
    """Is `cat` inside the container used when it works, with no helper container?"""
    session, container, containers, _ = _session_and_container(0, LOOPBACK_8000)
    assert session.socket_table(container) == LOOPBACK_8000
    assert container.socket_table_via == "exec"
    assert containers.runs == []


def test_an_image_without_cat_is_read_by_a_labelled_helper_in_its_namespace() -> None:
    """When the image has no `cat` (exec fails as the runtime says), is a self-removing,
    labelled helper from the base image run in the container's network namespace, and
    the exec not tried again?"""
    said = 'OCI runtime exec failed: exec: "cat": executable file not found in $PATH\r\n'
    session, container, containers, wrapped = _session_and_container(126, said)
    assert parse_socket_table(session.socket_table(container) or "") == [
        Listener("127.0.0.1", 8000, ipv6=False)
    ]
    session.socket_table(container)
    assert wrapped.execs == 1
    run = containers.runs[0]
    assert run["image"] == BASE_IMAGE
    assert run["network_mode"] == "container:app-id"
    assert run["detach"] is True
    assert all(helper.removed for helper in containers.helpers)
    assert run["labels"] == session.labels


def test_an_unreachable_app_is_told_the_fix_in_its_servers_own_options(tmp_path: Path) -> None:
    """With the Dockerfile at hand, does the socket-table verdict name gunicorn's `--bind`
    and the line that starts it, rather than uvicorn's options?"""
    from grader.dockerfile import DockerfileProblem, read_dockerfile
    from grader.effective_command import listen_address
    from grader.run import unreachable_verdict
    from grader.spec import load_spec

    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        'CMD ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "127.0.0.1:8000", '
        '"app.main:app"]\n'
    )
    spec = load_spec(Path(__file__).resolve().parents[2] / "exercises" / "model-api.toml")
    parsed = read_dockerfile(
        tmp_path / "Dockerfile", base_image=spec.base_image, dependency_file=spec.dependency_file
    )
    assert not isinstance(parsed, DockerfileProblem)
    address = listen_address(parsed)
    loopback = (Listener("127.0.0.1", 8000, ipv6=False),)
    verdict = unreachable_verdict(Listening.LOOPBACK_ONLY, loopback, spec, address)
    assert verdict is not None
    assert "`--bind 0.0.0.0:8000`" in verdict.hint
    assert verdict.line == 2
    unknown = unreachable_verdict(Listening.LOOPBACK_ONLY, loopback, spec)
    assert unknown is not None
    assert "--host 0.0.0.0" in unknown.hint
