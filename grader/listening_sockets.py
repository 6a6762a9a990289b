"""Which TCP sockets a container listens on, read from its network namespace's socket table.

``/proc/net/tcp`` and ``/proc/net/tcp6`` list every socket of the network namespace
of the process that reads them; read inside the app's container (or a helper sharing
its namespace), they say on which address and port the app listens, seconds before
a readiness wait would run out. Addresses are hex in the kernel's byte order (little
endian per 32-bit word), the state ``0A`` is LISTEN. A ``::`` socket may be IPv6
only or dual-stack: the table cannot tell (``IPV6_V6ONLY`` is not in it), so that
case is settled by whether the published port answers (see :func:`judge_listeners`).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Listener", "Listening", "judge_listeners", "parse_socket_table"]

TCP_LISTEN = "0A"


@dataclass(frozen=True, order=True)
class Listener:
    """One listening TCP socket."""

    address: str
    """``0.0.0.0``, ``127.0.0.1``, ``::`` …; an IPv4-mapped IPv6 address as its IPv4 form."""
    port: int
    ipv6: bool
    """From ``/proc/net/tcp6`` (and not IPv4-mapped)."""

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    @property
    def reachable_over_ipv4(self) -> bool:
        """An IPv4 socket on an address other than loopback: the published port reaches it."""
        return not self.ipv6 and not self.loopback

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if self.ipv6 else f"{self.address}:{self.port}"


def _address(hex_address: str) -> tuple[str, bool]:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1])), False
    # Four 32-bit words, each in the kernel's (little-endian) byte order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    address = ipaddress.IPv6Address(words)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped), False
    return str(address), True


def parse_socket_table(text: str) -> list[Listener]:
    """The LISTEN sockets in ``/proc/net/tcp`` and/or ``/proc/net/tcp6`` text (the two
    files may be concatenated: their header lines are skipped)."""
    found: set[Listener] = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].endswith(":") or fields[3] != TCP_LISTEN:
            continue
        hex_address, _, hex_port = fields[1].partition(":")
        try:
            address, ipv6 = _address(hex_address)
            port = int(hex_port, 16)
        except ValueError:
            continue
        found.add(Listener(address, port, ipv6))
    return sorted(found)


class Listening(enum.StrEnum):
    """What the socket table says about the app's chance to answer on ``port``."""

    REACHABLE = "reachable"
    """An IPv4 socket on ``port`` on all (or a non-loopback) address: keep waiting for HTTP."""
    LOOPBACK_ONLY = "loopback_only"
    """Sockets on ``port`` only on 127.0.0.1 / ::1: unreachable from outside."""
    IPV6_ANY = "ipv6_any"
    """A ``::`` socket on ``port``: fine if dual-stack, unreachable if IPv6 only."""
    OTHER_PORT = "other_port"
    """Listening, but not on ``port``."""
    NOTHING = "nothing"
    """No socket listens (yet)."""


def judge_listeners(listeners: Iterable[Listener], port: int) -> Listening:
    """Where ``listeners`` leave an app that must answer on ``port`` through Docker's
    IPv4 port publishing."""
    listeners = list(listeners)
    on_port = [s for s in listeners if s.port == port]
    if any(s.reachable_over_ipv4 for s in on_port):
        return Listening.REACHABLE
    if any(s.ipv6 and not s.loopback for s in on_port):
        return Listening.IPV6_ANY
    if on_port:
        return Listening.LOOPBACK_ONLY
    return Listening.OTHER_PORT if listeners else Listening.NOTHING
