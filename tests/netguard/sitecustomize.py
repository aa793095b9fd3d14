"""Loaded at start-up of the app's processes under test: any internet connection attempt is logged and refused.

Enabled only when SEEING_ASSISTANT_NETGUARD_LOG names a file; local (Unix) sockets are left alone.
"""

import os
import socket

_LOG = os.environ.get("SEEING_ASSISTANT_NETGUARD_LOG")

if _LOG:
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex

    def _refuse(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            with open(str(_LOG), "a", encoding="utf-8") as log:
                log.write(f"{address!r}\n")
            raise ConnectionRefusedError("the network is disabled in tests")

    def _guarded_connect(self: socket.socket, address: object) -> None:
        _refuse(self, address)
        _connect(self, address)  # type: ignore[arg-type]

    def _guarded_connect_ex(self: socket.socket, address: object) -> int:
        _refuse(self, address)
        return _connect_ex(self, address)  # type: ignore[arg-type]

    socket.socket.connect = _guarded_connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign, assignment]
