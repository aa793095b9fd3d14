"""Shared test helpers: running the installed command as a user would, and making awkward images."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SUPPORT = Path(__file__).parent
NETGUARD = SUPPORT / "netguard"
SHOW_IMAGE = SUPPORT / "show_image.py"  # puts a picture on the screen, for capture tests
ATSPI_WALK = SUPPORT / "atspi_walk.py"  # reads the app as a screen reader does (Debian's python3)
ARTIFACTS = SUPPORT.parents[1] / "artifacts"  # screenshots and recordings a person can look at
COMMAND = Path(sys.executable).parent / "seeing-assistant"


@dataclass
class Run:
    """What a finished command printed and returned."""

    returncode: int
    stdout: str
    stderr: str


def cli_env(netguard_log: Path, **extra: str) -> dict[str, str]:
    """An environment for the app's process with the network guard on and no user's Hugging Face cache."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(NETGUARD)
    env["SEEING_ASSISTANT_NETGUARD_LOG"] = str(netguard_log)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], stdin: bytes | None = None, timeout: float = 120) -> Run:
    """Run ``seeing-assistant ARGS`` and wait for it."""
    done = subprocess.run(
        [str(COMMAND), *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


@contextmanager
def launched_app(model: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``seeing-assistant app --model MODEL`` as a user starts it, handed over once it is up (its window shown, or
    only its tray icon); killed afterwards if the test did not end it."""
    process = subprocess.Popen([str(COMMAND), "app", "--model", str(model)],
                               env={**env, "SEEING_ASSISTANT_REPORT_STARTUP": "1", "QT_QPA_PLATFORM": "xcb"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("window shown after ")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims ``width`` x ``height`` pixels: a decompression bomb's calling card."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
