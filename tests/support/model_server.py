"""A real model server for tests and benchmarks: ``transformers serve`` on 127.0.0.1, pinned to a model folder.

It speaks the OpenAI-compatible API the server engine talks to (vLLM, Ollama and llama.cpp speak the same), runs on
the CPU and offline, and is ready in a few seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from tests.support.audio_lab import _die_with_parent

SERVE = Path(sys.executable).parent / "transformers"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ModelServer:
    """``transformers serve MODEL`` on a free port; ``url`` is its API's base address (``http://127.0.0.1:P/v1``)."""

    def __init__(self, model: Path, folder: Path, ready_timeout: float = 90) -> None:
        self.model = model
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = folder / "transformers-serve.log"
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ModelServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def start(self) -> float:
        """Start the server and wait until ``/health`` answers; the seconds it took."""
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error", "PYTHONPATH": ""}
        started = time.monotonic()
        self.process = subprocess.Popen(
            [str(SERVE), "serve", str(self.model), "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu",
             "--dtype", "float32"],
            env=env, stdin=subprocess.DEVNULL, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        while time.monotonic() - started < self.ready_timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve ended at start: {self.log.read_text(errors='replace')[-800:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"transformers serve was not ready in {self.ready_timeout:.0f} s: "
                           f"{self.log.read_text(errors='replace')[-800:]}")

    def stop(self) -> None:
        """Stop the server (Ctrl+C, as a user would), and kill it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
