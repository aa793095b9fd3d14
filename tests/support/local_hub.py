"""A model hub on 127.0.0.1 for the download tests: the few endpoints ``huggingface_hub.snapshot_download`` uses.

It serves model folders under hub ids (the tree listing, then HEAD and GET of each file, with ``Range`` for a
download that resumes), optionally slowly, and records each file request, so that the real download code is tested
without the internet (point ``HF_ENDPOINT`` at :attr:`LocalHub.url`).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class LocalHub:
    """Serves ``repos`` (hub id -> folder); ``seconds_per_chunk`` slows file bodies (64 KB chunks)."""

    def __init__(self, repos: dict[str, Path], seconds_per_chunk: float = 0.0) -> None:
        self.files = {repo: {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
                      for repo, folder in repos.items()}
        self.seconds_per_chunk = seconds_per_chunk
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range header)
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                hub._file(self, head=True)

            def do_GET(self) -> None:
                if self.path.startswith("/api/models/"):
                    hub._api(self)
                else:
                    hub._file(self, head=False)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> LocalHub:
        threading.Thread(target=self.server.serve_forever, name="local-hub", daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _repo(self, path: str) -> str | None:
        return next((repo for repo in self.files if path.startswith(f"/api/models/{repo}/")
                     or path.startswith(f"/{repo}/resolve/")), None)

    def _api(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        repo = self._repo(handler.path)
        if repo is None:
            self._reply(handler, 404, b'{"error": "Repository not found"}')
            return
        files = self.files[repo]
        if "/tree/" in handler.path:
            body: Any = [{"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                         for name, data in files.items()]
        else:
            body = {"id": repo, "sha": COMMIT, "siblings": [{"rfilename": name} for name in files]}
        self._reply(handler, 200, json.dumps(body).encode())

    def _file(self, handler: http.server.BaseHTTPRequestHandler, head: bool) -> None:
        repo = self._repo(handler.path)
        name = handler.path.split("/resolve/", 1)[-1].split("/", 1)[-1]
        data = self.files.get(repo or "", {}).get(name)
        self.requests.append((handler.command, handler.path, handler.headers.get("Range")))
        if data is None:
            self._reply(handler, 404, b"")
            return
        start = 0
        if not head and handler.headers.get("Range"):
            start = int(handler.headers["Range"].split("=", 1)[1].split("-", 1)[0])
        body = data[start:]
        handler.send_response(206 if start else 200)
        handler.send_header("X-Repo-Commit", COMMIT)
        handler.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        handler.send_header("Content-Length", str(len(data) if head else len(body)))
        handler.end_headers()
        if head:
            return
        try:
            for offset in range(0, len(body), 65536):
                handler.wfile.write(body[offset:offset + 65536])
                if self.seconds_per_chunk:
                    time.sleep(self.seconds_per_chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the downloader was stopped

    @staticmethod
    def _reply(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
