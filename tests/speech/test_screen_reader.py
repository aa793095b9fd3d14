"""Finding the running screen reader, and choosing who speaks the answers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seeing_assistant import speech
from seeing_assistant.speech import routes
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
