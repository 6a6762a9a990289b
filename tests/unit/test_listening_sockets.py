"""The socket table: which address and port an app listens on, and what that means."""

from __future__ import annotations

import pytest

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
