"""Refuse internet connections in tests: ``refuse_internet`` for the test process, and, loaded at start-up of the
app's processes under test (this folder on PYTHONPATH), a guard that logs every attempt to a file.

Connections to this computer's loopback address (a model server a test started) are allowed.

The start-up guard is on only when SEEING_ASSISTANT_NETGUARD_LOG names a file; local (Unix) sockets are left alone.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable


def _is_loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) and address else None
    return isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost"))


def refuse_internet(on_attempt: Callable[[object], None]) -> Callable[[], None]:
    """Make every IPv4/IPv6 connect report to ``on_attempt`` and fail; return a function that undoes it."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def refuse(sock: socket.socket, address: object) -> None:
        # This computer's own servers (a model server the tests start on 127.0.0.1) are not the network.
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            on_attempt(address)
            raise ConnectionRefusedError("the network is disabled in tests")

    def guarded_connect(self: socket.socket, address: object) -> None:
        refuse(self, address)
        original_connect(self, address)  # type: ignore[arg-type]

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        refuse(self, address)
        return original_connect_ex(self, address)  # type: ignore[arg-type]

    socket.socket.connect = guarded_connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign, assignment]

    def undo() -> None:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]

    return undo


def _log_attempt(address: object) -> None:
    with open(os.environ["SEEING_ASSISTANT_NETGUARD_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{address!r}\n")


if os.environ.get("SEEING_ASSISTANT_NETGUARD_LOG"):
    refuse_internet(_log_attempt)
