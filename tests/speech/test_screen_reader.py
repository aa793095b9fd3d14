"""Finding the running screen reader, and choosing who speaks the answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seeing_assistant import speech
from seeing_assistant.core import messages
from seeing_assistant.speech import routes, screen_reader
from seeing_assistant.speech.screen_reader import orca_is_running

WATCH = """
import subprocess
from PySide6.QtCore import QCoreApplication, QTimer
from seeing_assistant.speech.screen_reader import ScreenReaderWatcher
app = QCoreApplication([])
watcher = ScreenReaderWatcher()
seen = [watcher.is_running]
watcher.changed.connect(seen.append)
def turn(value):
    subprocess.run(["busctl", "--user", "set-property", "org.a11y.Bus", "/org/a11y/bus", "org.a11y.Status",
                    "ScreenReaderEnabled", "b", value], check=True)
QTimer.singleShot(200, lambda: turn("true"))  # as GNOME's screen-reader switch does when Orca starts
QTimer.singleShot(800, lambda: turn("false"))
QTimer.singleShot(1400, app.quit)
app.exec()
print(seen)
"""


def test_a_screen_reader_starting_and_stopping_is_noticed_on_the_accessibility_bus() -> None:
    assert shutil.which("dbus-run-session") and shutil.which("busctl"), "run scripts/install --test"
    done = subprocess.run(["dbus-run-session", "--", sys.executable, "-c", WATCH], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[False, True, False]"


# A stand-in for Orca 46 and later: a process named "orca" (as setproctitle names it) whose environment does not name
# this session's bus (setproctitle blanks it), connected to the bus all the same.
STAND_IN = """
import ctypes, sys
ctypes.CDLL(None).prctl(15, b"orca", 0, 0, 0)  # PR_SET_NAME
from PySide6.QtCore import QCoreApplication
from PySide6.QtDBus import QDBusConnection
app = QCoreApplication([])
bus = QDBusConnection.connectToBus(sys.argv[1], "stand-in")
print("connected" if bus.isConnected() else "not connected", flush=True)
app.exec()
"""
BUS_WATCH = """
import json, os, subprocess, sys, time
from PySide6.QtCore import QCoreApplication, QTimer
from seeing_assistant.speech.screen_reader import ScreenReaderWatcher
app = QCoreApplication([])
watcher = ScreenReaderWatcher()
report = {"before": repr(watcher.current)}
stand_in = subprocess.Popen(["env", "-i", sys.executable, "-c", sys.argv[1], os.environ["DBUS_SESSION_BUS_ADDRESS"]],
                            stdout=subprocess.PIPE, text=True)
try:
    assert stand_in.stdout.readline().strip() == "connected"
    marks = {"connected": time.monotonic()}
    def check():  # on a timer in the event loop (a tight processEvents() loop crashes PySide)
        if "found" not in report and watcher.current is not None:
            report["found_s"] = round(time.monotonic() - marks["connected"], 3)
            report["found"] = [watcher.current.name, watcher.current.version, watcher.current.found_by]
            stand_in.kill()
            stand_in.wait()
            marks["killed"] = time.monotonic()
        elif "found" in report and watcher.current is None:
            report["gone_s"] = round(time.monotonic() - marks["killed"], 3)
            app.quit()
    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(10)
    QTimer.singleShot(10000, app.quit)
    app.exec()
finally:
    stand_in.kill()
    stand_in.wait()
report["after"] = repr(watcher.current)
print(json.dumps(report))
"""


def test_an_orca_with_a_blanked_environment_is_found_by_its_connection_to_the_session_bus(tmp_path: Path) -> None:
    # Debian 13's Orca 48 sets only IsEnabled and blanks its environment: its bus connection is what tells, both
    # ways, and an "orca" process not on this session's bus (another session's) does not count.
    assert shutil.which("dbus-run-session"), "run scripts/install --test"
    elsewhere = tmp_path / "orca"
    shutil.copy("/bin/sleep", elsewhere)
    other_session = subprocess.Popen([str(elsewhere), "60"])
    try:
        done = subprocess.run(["dbus-run-session", "--", sys.executable, "-c", BUS_WATCH, STAND_IN],
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        other_session.kill()
        other_session.wait()
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["before"] == "None"  # the other session's "orca" is not this session's screen reader
    host_version = screen_reader.orca_version(os.getpid())  # the stand-in sees this machine's files: its Orca
    assert report["found"] == ["Orca", host_version, messages.FOUND_BY_BUS]
    assert report["after"] == "None"
    assert report["found_s"] < 1.5 and report["gone_s"] < 1.5, report  # signalled: not left to the 2 s poll


def test_orca_46_and_later_speak_announcements_and_orca_43_does_not() -> None:
    def orca(version: str | None) -> screen_reader.ScreenReader:
        return screen_reader.ScreenReader("Orca", version, messages.FOUND_BY_BUS)

    assert not orca("43.1").speaks_announcements
    assert not orca("45.2").speaks_announcements
    assert all(orca(version).speaks_announcements for version in ("46.0", "48.1", "50.alpha"))
    assert not orca(None).speaks_announcements  # unknown: speech-dispatcher, which every Orca speaks
    assert orca("48.1").title == "Orca 48.1"
    assert orca("48.1").why() == "Orca 48.1 is running in this desktop session"


def test_an_orca_started_by_hand_is_found_by_its_process(tmp_path: Path) -> None:
    # Orca started from a terminal sets only IsEnabled, not ScreenReaderEnabled: its process is what tells.
    stand_in = tmp_path / "orca"
    shutil.copy("/bin/sleep", stand_in)
    assert not orca_is_running()
    process = subprocess.Popen([str(stand_in), "30"])
    try:
        deadline = time.monotonic() + 5
        while not orca_is_running() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert orca_is_running()
    finally:
        process.kill()
        process.wait()
    assert not orca_is_running()


def test_automatic_means_the_screen_reader_when_one_runs_and_the_apps_voice_otherwise() -> None:
    assert routes.resolve("auto", is_screen_reader_running=True) == routes.SCREEN_READER
    assert routes.resolve("auto", is_screen_reader_running=False) == routes.APP_VOICE
    for chosen in ("screen-reader", "app", "none"):
        assert routes.resolve(chosen, is_screen_reader_running=True) == chosen
        assert routes.resolve(chosen, is_screen_reader_running=False) == chosen


@pytest.mark.audio
def test_an_unreachable_screen_reader_is_told_and_automatic_falls_back_to_the_apps_voice(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, qapp: object) -> None:
    monkeypatch.setenv("SPEECHD_ADDRESS", f"unix_socket:{tmp_path}/none.sock")
    chosen, taken, problem = routes.open_route(routes.SCREEN_READER, speech.VoiceSettings(), False, fall_back=False)
    assert isinstance(chosen, speech.SilentSpeaker) and taken == routes.NO_ONE
    assert problem is not None and "speech-dispatcher" in problem
    fallback, taken, problem = routes.open_route(routes.SCREEN_READER, speech.VoiceSettings(), False, fall_back=True)
    try:
        assert isinstance(fallback, speech.FailoverSpeaker) and taken == routes.APP_VOICE and problem is None
        assert isinstance(fallback.current, speech.VoiceSpeaker) and fallback.route == routes.APP_VOICE
    finally:
        fallback.close()
