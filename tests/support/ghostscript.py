"""A stand-in ``gs`` on PATH that records every time it runs, and an EPS file that Pillow would render with it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import EpsImagePlugin, Image


def stand_in_ghostscript(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a ``gs`` that only writes down its arguments first on PATH; returns the file it writes to.

    Pillow remembers whether it found Ghostscript: that memory is cleared, so the stand-in is looked for afresh.
    """
    bin_folder = folder / "bin"
    bin_folder.mkdir()
    record = folder / "gs-ran.txt"
    script = bin_folder / "gs"
    # It answers --version as Ghostscript does, so that Pillow goes on to render with it, then fails the render.
    script.write_text(f'#!/bin/sh\necho "$@" >> "{record}"\n[ "$1" = --version ] && echo 10.0.0 && exit 0\nexit 1\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)
    return record


def eps_file(path: Path) -> Path:
    """A real Encapsulated PostScript picture (Pillow writes it without Ghostscript)."""
    Image.new("RGB", (40, 30), "red").save(path, "EPS")
    return path
