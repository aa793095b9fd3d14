"""Whether a screen reader is running, and noticing when one starts or stops while the app runs.

Linux: AT-SPI's ``ScreenReaderEnabled`` (``org.a11y.Status`` on the session bus, read with QtDBus), which GNOME's
screen-reader switch sets, or an Orca process of this user's desktop session (Orca started by hand sets only
``IsEnabled``, measured with Orca 43; an Orca of another session of the same user does not count). Windows: the
system's screen-reader flag (``SPI_GETSCREENREADER``), which NVDA, JAWS and Narrator set. macOS: VoiceOver's own
setting. Only the Linux route speaks through the screen reader so far; see the README.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import SLOT, QObject, QTimer, Signal, Slot

from seeing_assistant.qt_signals import emit

A11Y_SERVICE, A11Y_PATH, A11Y_STATUS = "org.a11y.Bus", "/org/a11y/bus", "org.a11y.Status"
POLL_MS = 2000  # how often a process list or a platform flag is looked at again (the D-Bus flag is signalled)


def orca_is_running() -> bool:
    """Whether an Orca process of this user's desktop session (the same session bus) is running (Linux)."""
    uid = os.getuid()
    session = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "").encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid or (entry / "comm").read_text().strip() != "orca":
                continue
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended while we looked
        key = b"DBUS_SESSION_BUS_ADDRESS="
        theirs = next((item[len(key):] for item in environment if item.startswith(key)), b"")
        if theirs == session:
            return True
    return False


def _windows_flag() -> bool:
    import ctypes

    running = ctypes.c_int(0)
    spi_getscreenreader = 0x0046
    ctypes.windll.user32.SystemParametersInfoW(spi_getscreenreader, 0, ctypes.byref(running), 0)  # type: ignore[attr-defined]
    return bool(running.value)


def _voiceover_flag() -> bool:
    done = subprocess.run(["defaults", "read", "com.apple.universalaccess", "voiceOverOnOffKey"],
                          capture_output=True, text=True, timeout=5, check=False)
    return done.stdout.strip() == "1"


def is_running_now() -> bool:
    """Whether a screen reader is running, read once (the command line; makes the Qt core application if needed)."""
    from PySide6.QtCore import QCoreApplication

    application = QCoreApplication.instance() or QCoreApplication([])
    running = ScreenReaderWatcher(application).look()
    return running


class ScreenReaderWatcher(QObject):
    """Knows whether a screen reader is running; ``changed(is_running)`` when that changes.

    Signals:
        changed(bool): a screen reader started (True) or stopped (False).
    """

    changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status = None
        if sys.platform.startswith("linux"):
            from PySide6.QtDBus import QDBusConnection, QDBusInterface

            bus = QDBusConnection.sessionBus()
            if bus.isConnected():
                self._status = QDBusInterface(A11Y_SERVICE, A11Y_PATH, A11Y_STATUS, bus)
                # PySide6 takes the slot as SLOT()'s text; its type stubs say bytes, which it refuses at run time.
                bus.connect(A11Y_SERVICE, A11Y_PATH, "org.freedesktop.DBus.Properties",  # type: ignore[call-overload]
                            "PropertiesChanged", self, SLOT("_properties_changed(QDBusMessage)"))
        self.is_running = self.look()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def look(self) -> bool:
        """Whether a screen reader is running now (read afresh)."""
        if sys.platform == "win32":
            return _windows_flag()
        if sys.platform == "darwin":
            return _voiceover_flag()
        if self._status is not None and self._status.isValid():
            value = self._status.property("ScreenReaderEnabled")
            if value:
                return True
        return orca_is_running()

    @Slot()
    def refresh(self) -> None:
        """Look again, and say so when it changed."""
        now = self.look()
        if now != self.is_running:
            self.is_running = now
            emit(self.changed, now)

    @Slot("QDBusMessage")
    def _properties_changed(self, message: object) -> None:
        # The changed values come as an undecoded QDBusArgument in PySide6: read the property again instead.
        self.refresh()
