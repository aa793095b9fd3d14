"""Global hotkeys: a key chord anywhere on the desktop triggers an app action (pynput: X11, Windows, macOS).

Wayland gives X clients no global keys; there, and wherever pynput cannot start, the user binds
``seeing-assistant trigger ACTION`` in the desktop's keyboard settings instead (see the README).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from seeing_assistant.core import actions, messages
from seeing_assistant.core.errors import short_reason

log = logging.getLogger(__name__)

_MODIFIERS = {"ctrl": "<ctrl>", "control": "<ctrl>", "alt": "<alt>", "shift": "<shift>", "super": "<cmd>",
              "win": "<cmd>", "meta": "<cmd>", "cmd": "<cmd>"}


def to_pynput(chord: str) -> str:
    """"Ctrl+Alt+Shift+S" as pynput writes it: "<ctrl>+<alt>+<shift>+s"; ValueError when it is not a chord."""
    parts = [part.strip().lower() for part in chord.split("+")]
    if len(parts) < 2 or not all(parts):
        raise ValueError(chord)
    keys = [_MODIFIERS.get(part) or (part if len(part) == 1 else f"<{part}>") for part in parts]
    if not any(key in _MODIFIERS.values() for key in keys[:-1]):
        raise ValueError(chord)
    return "+".join(keys)


def display_server() -> str:
    """X11, Wayland, Windows, macOS, or "none"."""
    if sys.platform == "win32":
        return "Windows"
    if sys.platform == "darwin":
        return "macOS"
    if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return "Wayland" + (" (with XWayland)" if os.environ.get("DISPLAY") else "")
    return "X11" if os.environ.get("DISPLAY") else "none"


def unavailable_reason() -> str | None:
    """Why global hotkeys cannot work here, or None when they can."""
    server = display_server()
    if server.startswith("Wayland"):
        return messages.HOTKEYS_WAYLAND
    if server == "none":
        return messages.HOTKEYS_NO_DISPLAY
    try:
        from pynput import keyboard  # noqa: F401 - importing is the check (it connects to the X server)
    except Exception as error:  # noqa: BLE001 - any failure means the same to the user
        return messages.HOTKEYS_UNAVAILABLE.format(reason=short_reason(error, 120))
    return None


class Hotkeys:
    """Listens for the chords on pynput's own thread and calls ``on_action(action id)`` there (use a Qt signal).

    Holding the Ask chord records a spoken question: ``on_ask_released()`` is called when it is let go.
    """

    def __init__(self, bindings: dict[str, str], on_action: Callable[[str], None],
                 on_ask_released: Callable[[], None]) -> None:
        self.bindings = bindings
        self.on_action = on_action
        self.on_ask_released = on_ask_released
        self.problems: list[str] = []
        self._listener: Any = None
        self._releases: Any = None
        self._is_holding_ask = False
        self._lock = threading.Lock()

    def start(self) -> list[str]:
        """Register the chords; the sentences returned say which could not be used and what to do instead."""
        reason = unavailable_reason()
        if reason is not None:
            self.problems = [reason]
            return self.problems
        from pynput import keyboard

        mapping: dict[str, Callable[[], None]] = {}
        for action, chord in self.bindings.items():
            try:
                if actions.action_named(action) is None:
                    raise ValueError(action)
                key = to_pynput(chord)
                keyboard.HotKey.parse(key)
            except ValueError:
                self.problems.append(messages.HOTKEY_INVALID.format(chord=chord, action=action))
                continue
            if key in mapping:
                self.problems.append(messages.HOTKEY_TWICE.format(chord=chord))
                continue
            mapping[key] = self._caller(action)
        if mapping:
            try:
                self._listener = keyboard.GlobalHotKeys(mapping)
                self._listener.daemon = True
                self._listener.start()
                self._listener.wait()
                if getattr(self._listener, "IS_TRUSTED", True) is False:  # macOS without the Accessibility grant
                    self.problems.append(messages.HOTKEYS_NOT_TRUSTED)
                # Holding the Ask chord records a spoken question: its release ends the recording.
                self._releases = keyboard.Listener(on_release=self._released)
                self._releases.daemon = True
                self._releases.start()
            except Exception as error:  # noqa: BLE001 - reported as one sentence; the app goes on without them
                self._listener = None
                self.problems.append(messages.HOTKEYS_UNAVAILABLE.format(reason=short_reason(error, 120)))
        return self.problems

    def _caller(self, action: str) -> Callable[[], None]:
        def call() -> None:
            if action == actions.ASK.id:
                with self._lock:
                    if self._is_holding_ask:
                        return  # the chord is still down (key repeat)
                    self._is_holding_ask = True
            self.on_action(action)

        return call

    def _released(self, key: Any) -> None:
        with self._lock:
            was_holding, self._is_holding_ask = self._is_holding_ask, False
        if was_holding:
            self.on_ask_released()

    def stop(self) -> None:
        """Stop listening."""
        for listener in (self._listener, self._releases):
            if listener is not None:
                try:
                    listener.stop()
                except Exception as error:  # noqa: BLE001 - seen: pynput's X record connection already closed
                    log.info("A hotkey listener did not stop cleanly: %s", short_reason(error))
        self._listener = self._releases = None
