"""One app per user, and the local channel that ``seeing-assistant trigger ACTION`` uses to reach it.

The running app listens on a local socket (a Unix socket in the user's runtime folder, or a named pipe on Windows)
that only the same user can open. A line with an action goes in; "ok" or "error: <sentence>" comes back. Starting the
app a second time sends "show" and exits, so there is never a second model in memory.
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from seeing_assistant.core.actions import ACTION_IDS

TIMEOUT_MS = 3000


def server_name() -> str:
    """The socket path (Unix) or pipe name (Windows) for this user."""
    if sys.platform == "win32":
        return f"seeing-assistant-{getpass.getuser()}"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return str(Path(runtime) / "seeing-assistant.sock")
    return str(Path(tempfile.gettempdir()) / f"seeing-assistant-{os.getuid()}.sock")


def send(action: str, timeout_ms: int = TIMEOUT_MS) -> str | None:
    """Send ``action`` to the running app; its reply, or None when no app is listening."""
    socket = QLocalSocket()
    socket.connectToServer(server_name())
    if not socket.waitForConnected(timeout_ms):
        return None
    socket.write(action.encode() + b"\n")
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    reply = b""
    while not reply.endswith(b"\n") and socket.waitForReadyRead(timeout_ms):
        reply += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    return reply.decode("utf-8", "replace").strip() or None


class InstanceServer(QObject):
    """Listens for actions from ``trigger`` and from later launches; ``handler`` may return an error sentence."""

    def __init__(self, handler: Callable[[str], object]) -> None:
        super().__init__()
        self.handler = handler
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Start listening, replacing a socket left behind by an app that crashed. False if that fails."""
        QLocalServer.removeServer(server_name())
        return self.server.listen(server_name())

    @property
    def path(self) -> str:
        """Where clients connect."""
        return self.server.fullServerName()

    def _accept(self) -> None:
        while (connection := self.server.nextPendingConnection()) is not None:
            connection.readyRead.connect(lambda connection=connection: self._read(connection))
            connection.disconnected.connect(connection.deleteLater)
            if connection.bytesAvailable():
                self._read(connection)

    def _read(self, connection: QLocalSocket) -> None:
        if not connection.canReadLine():
            return
        action = bytes(connection.readLine().data()).decode("utf-8", "replace").strip()
        problem = None if action in ACTION_IDS else f"unknown action {action!r}"
        if problem is None:
            result = self.handler(action)
            problem = result if isinstance(result, str) else None
        connection.write(b"ok\n" if problem is None else f"error: {problem}\n".encode())
        connection.flush()

    def close(self) -> None:
        """Stop listening and remove the socket."""
        self.server.close()
