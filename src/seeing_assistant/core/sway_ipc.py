"""sway's IPC (the i3 protocol) over its socket, ``SWAYSOCK``: one request, one reply.

Used for the focused window's rectangle (``GET_TREE``) and to reload sway after its shortcuts were written
(``RUN_COMMAND``). A message is the magic ``i3-ipc``, the payload's length and the message type (native-endian
32-bit integers), then the payload; the reply has the same header and a JSON payload.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from typing import Any

RUN_COMMAND, GET_TREE = 0, 4
MAGIC = b"i3-ipc"
TIMEOUT_S = 5.0


def request(kind: int, payload: str = "", path: str | None = None) -> Any:
    """Send one message of ``kind`` to sway and return its decoded reply; OSError when sway cannot be reached."""
    data = payload.encode("utf-8")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(TIMEOUT_S)
        connection.connect(path or os.environ["SWAYSOCK"])
        connection.sendall(MAGIC + struct.pack("=II", len(data), kind) + data)
        header = _receive(connection, len(MAGIC) + 8)
        length, _kind = struct.unpack("=II", header[len(MAGIC):])
        return json.loads(_receive(connection, length))


def _receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise OSError("sway closed its IPC connection")
        data += chunk
    return data
