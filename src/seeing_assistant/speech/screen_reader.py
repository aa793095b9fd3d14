"""Which screen reader is running, how it was found, and noticing when one starts or stops while the app runs.

Linux, in this order:

1. a screen reader's own connection to this desktop session's bus: every unique name on the session bus is matched
   with its process (``GetConnectionUnixProcessID``), and a process named ``orca`` (or ``odilia``) is this session's
   screen reader. Orca started by hand sets only ``IsEnabled``, and Orca 46 and later rename their process with
   setproctitle, which blanks ``/proc/PID/environ`` (measured with Debian 13's Orca 48.1), so neither that flag nor the
   process's environment can tell; its bus connection can, and it comes and goes with Orca (``NameOwnerChanged``);
2. AT-SPI's ``ScreenReaderEnabled`` (``org.a11y.Status`` on the session bus), which GNOME's screen-reader switch sets
   (before Orca has started);
3. only where there is no session bus: a screen-reader process of this user, of this desktop session where its
   environment still says so (an unreadable or blanked environment counts: it cannot be told apart).

``IsEnabled`` alone is no proof (on-screen keyboards and magnifiers set it too); its change is a reason to look again.
speech-dispatcher's list of connected clients (SSIP ``HISTORY GET CLIENT_LIST``) would name Orca's connection, but
speech-dispatcher no longer gives it (``380 ERR NOT YET IMPLEMENTED`` in 0.11.4, and upstream since 2015).

The screen reader's version decides how it hears the app's statuses (see :mod:`seeing_assistant.desktop.voice`):
Orca 46 and later speak AT-SPI announcements, Orca 43 ignores them. It is read from Orca's own ``orca_platform.py`` as
the process sees its file system (``/proc/PID/root``), so an Orca in a container or chroot is read right too.

Windows: the system's screen-reader flag (``SPI_GETSCREENREADER``), which NVDA, JAWS and Narrator set. macOS:
VoiceOver's own setting.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import SLOT, QObject, QTimer, Signal, Slot

from seeing_assistant.core import messages
from seeing_assistant.qt_signals import emit

A11Y_SERVICE, A11Y_PATH, A11Y_STATUS = "org.a11y.Bus", "/org/a11y/bus", "org.a11y.Status"
DBUS_SERVICE, DBUS_PATH = "org.freedesktop.DBus", "/org/freedesktop/DBus"
POLL_MS = 2000  # how often the bus, a process list or a platform flag is looked at again (changes are also signalled)
SETTLE_MS = 150  # a burst of bus changes (a session starting) is looked at once
# Linux screen readers by process name: what the status line calls them.
PROCESS_NAMES = {"orca": "Orca", "odilia": "Odilia"}
ANNOUNCEMENTS_SINCE = {"Orca": 46}  # the first version that speaks AT-SPI announcements
# Where Orca's version file lies, relative to a process's root: distributions' Python package folders.
_ORCA_PLATFORM = ("usr/lib/python3/dist-packages/orca/orca_platform.py",
                  "usr/lib/python3*/site-packages/orca/orca_platform.py",
                  "usr/lib64/python3*/site-packages/orca/orca_platform.py",
                  "usr/local/lib/python3*/*-packages/orca/orca_platform.py")
_VERSION = re.compile(r'^version\s*=\s*"([^"]+)"', re.MULTILINE)


@dataclass(frozen=True)
class ScreenReader:
    """A running screen reader: its name, its version where it could be read, and how it was found (in words)."""

    name: str
    version: str | None
    found_by: str

    @property
    def speaks_announcements(self) -> bool:
        """Whether it speaks the app's accessibility announcements: Orca from 46 on, NVDA, Narrator and VoiceOver.

        On Linux an unknown screen reader, or an unknown version, counts as no: speech-dispatcher reaches every Orca.
        """
        since = ANNOUNCEMENTS_SINCE.get(self.name)
        if since is None:
            return not sys.platform.startswith("linux")
        if self.version is None:
            return False
        major = re.match(r"\d+", self.version)
        return major is not None and int(major.group()) >= since

    @property
    def title(self) -> str:
        """"Orca 48.1", or the name alone."""
        return f"{self.name} {self.version}" if self.version else self.name

    def why(self) -> str:
        """Why the app thinks it runs, for the status line."""
        return messages.SCREEN_READER_FOUND.format(reader=self.title, found_by=self.found_by)


def process_name(pid: int) -> str | None:
    """The screen reader that process ``pid`` is ("Orca"), or None."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return PROCESS_NAMES.get(comm)


def orca_version(pid: int) -> str | None:
    """The version of the Orca that process ``pid`` runs, from its ``orca_platform.py`` as that process sees it."""
    root = Path(f"/proc/{pid}/root")
    for pattern in _ORCA_PLATFORM:
        try:
            for candidate in sorted(root.glob(pattern)):
                found = _VERSION.search(candidate.read_text(errors="replace"))
                if found:
                    return found.group(1)
        except OSError:
            return None  # not ours to read, or gone
    return None


def screen_reader_processes() -> list[int]:
    """PIDs of this user's screen-reader processes of this desktop session, as far as their environment tells.

    The last resort, for when there is no session bus to find the screen reader on: an environment that names
    another session bus or display is another session's; a blanked one (setproctitle) cannot be told apart, and counts.
    """
    uid = os.getuid()
    ours = {key.encode(): os.environ.get(key, "").encode() for key in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY")}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if entry.stat().st_uid != uid or process_name(int(entry.name)) is None:
                continue
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended while we looked
        theirs = dict(item.split(b"=", 1) for item in environment if b"=" in item)
        if all(theirs.get(key, value) == value for key, value in ours.items()):
            found.append(int(entry.name))
    return found


def orca_is_running() -> bool:
    """Whether a screen reader of this desktop session runs, by the process list alone (Linux)."""
    return bool(screen_reader_processes())


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


def find_now() -> ScreenReader | None:
    """The running screen reader, read once (the command line; makes the Qt core application if needed)."""
    from PySide6.QtCore import QCoreApplication

    application = QCoreApplication.instance() or QCoreApplication([])
    watcher = ScreenReaderWatcher(application)
    found = watcher.current
    watcher.stop()
    watcher.deleteLater()
    return found


def is_running_now() -> bool:
    """Whether a screen reader is running, read once."""
    return find_now() is not None


class ScreenReaderWatcher(QObject):
    """Knows which screen reader is running (``current``); ``changed(is_running)`` when that changes.

    Signals:
        changed(bool): a screen reader started (True), stopped (False), or the one running is another now.
    """

    changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status = None
        self._bus = None
        self._pids: dict[str, int | None] = {}  # unique bus name -> its process (names are never reused)
        self._versions: dict[int, str | None] = {}
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.refresh)
        if sys.platform.startswith("linux"):
            from PySide6.QtDBus import QDBusConnection, QDBusInterface

            bus = QDBusConnection.sessionBus()
            if bus.isConnected():
                self._bus = bus
                self._status = QDBusInterface(A11Y_SERVICE, A11Y_PATH, A11Y_STATUS, bus)
                # PySide6 takes the slot as SLOT()'s text; its type stubs say bytes, which it refuses at run time.
                bus.connect(A11Y_SERVICE, A11Y_PATH, "org.freedesktop.DBus.Properties",  # type: ignore[call-overload]
                            "PropertiesChanged", self, SLOT("_properties_changed(QString,QVariantMap,QStringList)"))
                bus.connect(DBUS_SERVICE, DBUS_PATH, DBUS_SERVICE,  # type: ignore[call-overload]
                            "NameOwnerChanged", self, SLOT("_name_owner_changed(QString,QString,QString)"))
        self.current: ScreenReader | None = self.look()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    @property
    def is_running(self) -> bool:
        """Whether a screen reader is running (as last looked)."""
        return self.current is not None

    def stop(self) -> None:
        """Stop looking."""
        self._timer.stop()
        self._settle.stop()

    def look(self) -> ScreenReader | None:
        """The screen reader running now (read afresh), or None."""
        if sys.platform == "win32":
            return ScreenReader(messages.A_SCREEN_READER, None, messages.FOUND_BY_WINDOWS) if _windows_flag() else None
        if sys.platform == "darwin":
            return ScreenReader("VoiceOver", None, messages.FOUND_BY_VOICEOVER) if _voiceover_flag() else None
        on_bus = self._on_bus()
        if on_bus is not None:
            return on_bus
        if self._status is not None and self._status.isValid() and self._status.property("ScreenReaderEnabled"):
            return ScreenReader(messages.A_SCREEN_READER, None, messages.FOUND_BY_SWITCH)
        if self._bus is not None:
            return None  # the bus is what tells: a process not on it belongs to another session
        for pid in screen_reader_processes():
            name = process_name(pid)
            if name is not None:
                return ScreenReader(name, self._version_of(name, pid), messages.FOUND_BY_PROCESS)
        return None

    def _on_bus(self) -> ScreenReader | None:
        """A screen reader connected to this session's bus, matched by its process."""
        if self._bus is None:
            return None
        reply = self._bus.interface().registeredServiceNames()
        if not reply.isValid():
            return None
        names = {name for name in reply.value() if name.startswith(":")}
        for gone in set(self._pids) - names:
            del self._pids[gone]
        own = os.getpid()
        for name in sorted(names):
            if name not in self._pids:
                pid_reply = self._bus.interface().servicePid(name)
                self._pids[name] = int(pid_reply.value()) if pid_reply.isValid() else None
            pid = self._pids[name]
            if pid is None or pid == own:
                continue
            reader = process_name(pid)
            if reader is not None:
                return ScreenReader(reader, self._version_of(reader, pid), messages.FOUND_BY_BUS)
        return None

    def _version_of(self, name: str, pid: int) -> str | None:
        if name != "Orca":
            return None
        if pid not in self._versions:
            self._versions[pid] = orca_version(pid)
        return self._versions[pid]

    @Slot()
    def refresh(self) -> None:
        """Look again; say so when a screen reader started or stopped, or another one runs now."""
        now = self.look()
        if now != self.current:
            self.current = now
            emit(self.changed, now is not None)

    @Slot(str, "QVariantMap", "QStringList")
    def _properties_changed(self, interface: str, changed: object, invalidated: object) -> None:
        self._settle.start()  # look again, once a burst of changes has passed

    @Slot(str, str, str)
    def _name_owner_changed(self, name: str, old_owner: str, new_owner: str) -> None:
        if name.startswith(":"):  # a connection came or went (well-known names follow their owners)
            self._settle.start()
