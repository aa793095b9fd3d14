"""The app's launcher on Linux desktops, one entry for the menu, for start at login and for the metadata.

The freedesktop files ship inside the package (``resources/linux``), so an installed wheel has them:
``org.seeingassistant.SeeingAssistant.desktop`` (the menu entry, with Describe Screen and Read Screen Text as
actions) and its AppStream ``.metainfo.xml``. :func:`entry` writes the installed command into the launcher's
``Exec`` lines; the autostart entry is the same launcher with one line added. Qt-free.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

APP_ID = "org.seeingassistant.SeeingAssistant"  # reverse-DNS: the launcher's, the metadata's and the icon's name
DESKTOP_FILE = f"{APP_ID}.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"
ICON_FILE = "seeing-assistant.svg"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)  # hicolor PNG sizes, besides the scalable SVG
PLACEHOLDER = "seeing-assistant"  # the command as the shipped launcher names it


def resource(*parts: str) -> Path:
    """A file the package ships (read through importlib.resources; package data is a plain folder on disk)."""
    return Path(str(resources.files("seeing_assistant").joinpath("resources", *parts)))


def entry(command: list[str], autostart: bool = False) -> str:
    """The launcher with ``command`` (the installed command, or ``python -m seeing_assistant``) in each Exec line."""
    quoted = " ".join(exec_quoted(part) for part in command)
    lines = []
    for line in resource("linux", DESKTOP_FILE).read_text(encoding="utf-8").splitlines():
        if line.startswith(f"Exec={PLACEHOLDER} "):
            line = f"Exec={quoted} " + line.removeprefix(f"Exec={PLACEHOLDER} ")
        lines.append(line)
    text = "\n".join(lines) + "\n"
    if autostart:  # the same launcher, started at login (XDG autostart), without its menu actions
        text = text.split("\n[Desktop Action ", 1)[0].replace("\nActions=describe-screen;read-screen-text;", "")
        text = text.rstrip("\n") + "\nX-GNOME-Autostart-enabled=true\n"
    return text


def exec_quoted(argument: str) -> str:
    r"""One argument of an Exec line, quoted as the Desktop Entry specification says.

    Double quotes, with a backslash before ``"``, `````, ``$`` and ``\`` inside them; then the file format's own
    escaping doubles every backslash.
    """
    if not any(char in argument for char in ' \t\n"\'\\><~|&;$*?#()`'):
        return argument
    inner = "".join("\\" + char if char in '"`$\\' else char for char in argument)
    return '"' + inner.replace("\\", "\\\\") + '"'


def command() -> list[str]:
    """How a launcher starts this installation.

    The running ``seeing-assistant`` script, else the one on PATH, else ``python -m seeing_assistant``.
    """
    import shutil
    import sys

    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if running is not None and running.name == PLACEHOLDER and running.exists():
        return [str(running.resolve())]
    if getattr(sys, "frozen", False):  # the standalone bundle: its executable is the command
        return [str(Path(sys.executable).resolve())]
    found = shutil.which(PLACEHOLDER)
    return [found] if found else [sys.executable, "-m", "seeing_assistant"]


def this_program() -> list[str]:
    """The command line that runs this very installation again (a child process: the app, a download)."""
    import sys

    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "seeing_assistant"]


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share``."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def installed_paths(home: Path | None = None) -> dict[str, Path]:
    """Where ``install-desktop`` puts each file, under the user's XDG data folder."""
    base = home or data_home()
    icons = base / "icons" / "hicolor"
    paths = {"launcher": base / "applications" / DESKTOP_FILE, "metainfo": base / "metainfo" / METAINFO_FILE,
             "icon": icons / "scalable" / "apps" / f"{APP_ID}.svg"}
    for size in ICON_SIZES:
        paths[f"icon {size}"] = icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    return paths
