"""A scripted OpenAI-style chat server: the faults a real model server cannot be made to show on demand.

A stream that breaks off, one that ends without ``finish_reason``, an error inside the stream, a silent server, a
server that thinks for a long time before its first byte: each chat request follows :attr:`ScriptedServer.script`.
It tests the code that reads the stream, not a server. It also tells what the client did: how many chat requests
reached it (``chat_requests``) and whether the client hung up in the middle of an answer (``hung_up``), which is
how a Stop that closes the connection is seen from the server's side.
"""

from __future__ import annotations

import http.server
import json
import select
import socket
import threading
import time
from typing import Any

Script = list[bytes | float]  # bytes to send, or seconds to wait (watching for the client hanging up)


def chunk(content: str | None = None, finish: str | None = None, usage: bool = False) -> bytes:
    """One ``data:`` event of a streamed chat completion."""
    choice: dict[str, Any] = {"index": 0, "delta": {"content": content} if content else {}}
    if finish:
        choice["finish_reason"] = finish
    event: dict[str, Any] = {"choices": [choice]}
    if usage:
        event["usage"] = {"prompt_tokens": 700, "completion_tokens": 2}
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def _hung_up(connection: socket.socket) -> bool:
    """Whether the client has closed its end (readable, with nothing to read)."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class ScriptedServer:
    """An HTTP server whose chat completions follow a script; the connection check's probes are answered apart."""

    def __init__(self) -> None:
        self.script: Script = []
        self.before_headers_s = 0.0  # thinking before the response's first byte (watching for a hang-up)
        self.status = 200
        self.models = {"data": [{"id": "scripted-llava"}]}
        self.chat_requests = 0  # chat requests other than the connection check's probes
        self.hung_up = threading.Event()
        self._arrived = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps(outer.models).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                has_picture = any(part.get("type") == "image_url" for message in request["messages"]
                                  if isinstance(message["content"], list) for part in message["content"])
                if request["max_tokens"] == 1:  # the connection check: a model that sees pictures
                    usage = b'data: {"choices": [], "usage": {"prompt_tokens": %d, "completion_tokens": 1}}\n\n'
                    self._send([chunk("A"), chunk(finish="length"), usage % (600 if has_picture else 20)], 200)
                    return
                with outer._arrived:
                    outer.chat_requests += 1
                    outer._arrived.notify_all()
                if outer.before_headers_s and not self._wait(outer.before_headers_s):
                    return
                self._send(outer.script, outer.status)

            def _wait(self, seconds: float) -> bool:
                """Wait, or until the client hangs up (then False)."""
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    if _hung_up(self.connection):
                        outer.hung_up.set()
                        return False
                    time.sleep(0.005)
                return True

            def _send(self, events: Script, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for event in events:
                        if isinstance(event, float):
                            if not self._wait(event):
                                return
                            continue
                        self.wfile.write(event)
                        self.wfile.flush()
                except OSError:  # the client went away while we wrote
                    outer.hung_up.set()
                self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="scripted-server", daemon=True)
        self._thread.start()

    def wait_for_requests(self, count: int, timeout: float = 10) -> bool:
        """Wait until ``count`` chat requests have arrived; whether they did."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.chat_requests >= count, timeout)

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
