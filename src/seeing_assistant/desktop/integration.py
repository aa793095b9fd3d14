"""``seeing-assistant install-desktop``: the launcher, its AppStream metadata and the icon, installed for this user.

Per the freedesktop conventions, under ``$XDG_DATA_HOME`` (``~/.local/share``): ``applications/`` (the launcher,
found in the applications menu by its name or keywords such as "screen reader" or "OCR"), ``metainfo/`` and the
hicolor icon theme, the SVG plus PNGs at the usual sizes, drawn from the SVG here with Qt. ``--uninstall`` removes
exactly those files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from seeing_assistant.core import launcher


def install(command: list[str], home: Path | None = None) -> list[Path]:
    """Install the launcher (running ``command``), the metadata and the icons; the files written."""
    paths = launcher.installed_paths(home)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    paths["launcher"].write_text(launcher.entry(command), encoding="utf-8")
    shutil.copyfile(launcher.resource("linux", launcher.METAINFO_FILE), paths["metainfo"])
    svg = launcher.resource("icons", launcher.ICON_FILE)
    shutil.copyfile(svg, paths["icon"])
    for size in launcher.ICON_SIZES:
        render_png(svg, size, paths[f"icon {size}"])
    _refresh(paths["launcher"].parent)
    return list(paths.values())


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what :func:`install` wrote; the files that were there."""
    removed = []
    paths = launcher.installed_paths(home)
    for path in paths.values():
        if path.exists():
            path.unlink()
            removed.append(path)
    _refresh(paths["launcher"].parent)
    return removed


def render_png(svg: Path, size: int, out: Path) -> None:
    """Draw the SVG at ``size`` pixels into a PNG (Qt's SVG renderer, on the offscreen platform without a display)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    application = QGuiApplication.instance() or QGuiApplication([])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    if not image.save(str(out)):  # PNG, from the name
        raise OSError(f"could not write {out}")
    del application


def _refresh(applications: Path) -> None:
    """Let the menu see the change now where the desktop has the tool for it (it looks again at login anyway)."""
    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, str(applications)], check=False, capture_output=True, timeout=30)
