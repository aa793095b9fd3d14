"""The desktop's own global shortcuts for the app's actions, where an X11 client's hotkeys cannot reach (Wayland).

Written only when the user asks (``install-desktop --shortcuts``), removed by ``install-desktop --uninstall``.
Each shortcut runs ``seeing-assistant trigger ACTION`` with the app's default chords.

sway (and i3): an include file of ``bindsym`` lines in the app's config folder, and one marked ``include`` line in the
user's sway config (created as ``include /etc/sway/config`` plus ours when the user has none, so the system's
defaults stay); sway is told to reload over its IPC socket. A chord that the user's or the system's sway config binds
already is left out and said. GNOME (GSettings custom keybindings) and KDE (kglobalaccel) are not written yet: there
one sentence says to bind ``trigger`` by hand.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from seeing_assistant.core import actions, files, messages, sway_ipc

MARK = "# Seeing Assistant's shortcuts (install-desktop --shortcuts)"
SYSTEM_SWAY_CONFIG = Path("/etc/sway/config")
_MODIFIERS = {"ctrl": "Ctrl", "control": "Ctrl", "alt": "Alt", "mod1": "Alt", "shift": "Shift", "super": "Mod4",
              "meta": "Mod4", "mod4": "Mod4"}


@dataclass
class Outcome:
    """What installing or removing the shortcuts did, in sentences for the user, and the files it changed."""

    sentences: list[str] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)


def desktop() -> str:
    """The running desktop, as the shortcuts know it: "sway", "gnome", "kde" or ""."""
    if os.environ.get("SWAYSOCK"):
        return "sway"
    current = os.environ.get("XDG_CURRENT_DESKTOP", "").lower()
    for name in ("sway", "gnome", "kde"):
        if name in current:
            return name
    return ""


def sway_chord(chord: str) -> str:
    """The app's chord ("Ctrl+Alt+Shift+S") as sway writes it ("Ctrl+Alt+Shift+s")."""
    parts = [part.strip() for part in chord.split("+") if part.strip()]
    modifiers = [_MODIFIERS.get(part.lower(), part) for part in parts[:-1]]
    key = parts[-1]
    return "+".join([*modifiers, key.lower() if len(key) == 1 else key])


def _normal(chord: str) -> tuple[frozenset[str], str]:
    """A chord compared as sway does: the set of modifiers, and the key, case-insensitively."""
    parts = [part.strip() for part in chord.split("+") if part.strip()]
    return frozenset(_MODIFIERS.get(part.lower(), part).lower() for part in parts[:-1]), parts[-1].lower()


def config_home() -> Path:
    """``$XDG_CONFIG_HOME``, or ``~/.config``."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def sway_config_path() -> Path:
    """The user's sway config: ``$XDG_CONFIG_HOME/sway/config``."""
    return config_home() / "sway" / "config"


def sway_include_path() -> Path:
    """Where the app's bindings for sway are written."""
    return config_home() / "seeing-assistant" / "sway-shortcuts.conf"


def sway_bindings(command: list[str], chords: dict[str, str]) -> dict[str, str]:
    """Each action's ``bindsym`` line, by action id."""
    run = shlex.join(command)  # sway hands exec's rest to sh -c
    return {action: f"bindsym {sway_chord(chord)} exec {run} trigger {action}" for action, chord in chords.items()}


def bound_in(texts: list[str]) -> set[tuple[frozenset[str], str]]:
    """The chords that ``bindsym`` lines in these config texts bind."""
    found = set()
    for text in texts:
        for match in re.finditer(r"^\s*bindsym\s+(?:--\S+\s+)*(\S+)", text, re.MULTILINE):
            found.add(_normal(match.group(1)))
    return found


def install_sway(command: list[str], chords: dict[str, str] | None = None) -> Outcome:
    """Write the app's bindings for sway and include them from the user's config; sway reloads if it runs."""
    outcome = Outcome()
    wanted = chords or actions.DEFAULT_HOTKEYS
    config = sway_config_path()
    include = sway_include_path()
    ours = [MARK, f"include {include}"]  # sway allows no comment after a command: the mark is a line of its own
    existing = config.read_text(encoding="utf-8") if config.exists() else ""
    others = _without_ours(existing, include)
    system = [SYSTEM_SWAY_CONFIG.read_text(encoding="utf-8")] if SYSTEM_SWAY_CONFIG.exists() else []
    taken = bound_in(["\n".join(others), *system])
    lines = [MARK]
    for action, line in sway_bindings(command, wanted).items():
        if _normal(wanted[action]) in taken:
            outcome.sentences.append(messages.SHORTCUT_CLASH.format(chord=wanted[action], action=action))
            continue
        lines.append(line)
    include.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomically(include, lambda out: out.write(("\n".join(lines) + "\n").encode("utf-8")))
    outcome.changed.append(include)
    if not existing:
        others = [f"include {SYSTEM_SWAY_CONFIG}"] if SYSTEM_SWAY_CONFIG.exists() else []
    config.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join([*others, *ours]) + "\n"
    files.write_atomically(config, lambda out: out.write(text.encode("utf-8")))
    outcome.changed.append(config)
    outcome.sentences.append(messages.SHORTCUTS_INSTALLED.format(count=len(lines) - 1, desktop="sway"))
    _reload_sway(outcome)
    return outcome


def uninstall_sway() -> Outcome:
    """Remove the app's bindings and its include line from the user's sway config."""
    outcome = Outcome()
    config, include = sway_config_path(), sway_include_path()
    if config.exists():
        text = config.read_text(encoding="utf-8")
        if MARK in text or f"include {include}" in text:
            kept = "\n".join(_without_ours(text, include)) + "\n"
            files.write_atomically(config, lambda out: out.write(kept.encode("utf-8")))
            outcome.changed.append(config)
    if include.exists():
        include.unlink()
        outcome.changed.append(include)
    if outcome.changed:
        _reload_sway(outcome)
    return outcome


def _without_ours(text: str, include: Path) -> list[str]:
    """The config's lines, less the app's mark and include line."""
    return [line for line in text.splitlines() if line.strip() not in (MARK, f"include {include}")]


def install(command: list[str]) -> Outcome:
    """The running desktop's shortcuts, or the sentence that says they cannot be written here."""
    if desktop() == "sway":
        return install_sway(command)
    return Outcome([messages.SHORTCUTS_NOT_HERE.format(desktop=desktop() or messages.THIS_DESKTOP)])


def uninstall() -> Outcome:
    """Remove whatever :func:`install` wrote (sway's, wherever the app runs now)."""
    return uninstall_sway()


def _reload_sway(outcome: Outcome) -> None:
    path = os.environ.get("SWAYSOCK")
    if not path:
        return
    try:
        reply = sway_ipc.request(sway_ipc.RUN_COMMAND, "reload", path)
    except (OSError, ValueError) as error:
        outcome.sentences.append(messages.SWAY_NOT_RELOADED.format(reason=str(error) or type(error).__name__))
        return
    if not isinstance(reply, list) or not all(item.get("success") for item in reply):
        reason = "; ".join(str(item.get("error", "")) for item in reply or [] if not item.get("success"))
        outcome.sentences.append(messages.SWAY_NOT_RELOADED.format(reason=reason or "it refused"))
