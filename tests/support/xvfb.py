"""A private X server for a benchmark or a scripted desktop: Xvfb on a free display number, stopped with its parent."""

from __future__ import annotations

import os
import subprocess

from tests.support.audio_lab import _die_with_parent


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb at ``width`` x ``height`` on a display number it picks (``-displayfd``); the process and ":N"."""
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
                             "-nolisten", "tcp"], pass_fds=(write_end,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    if not number:
        xvfb.kill()
        raise RuntimeError("Xvfb gave no display number")
    return xvfb, ":" + number
