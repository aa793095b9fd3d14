"""The app with the real screen reader: Debian's Orca, run privately under Xvfb with speech-dispatcher, driven by the
keyboard as a blind user would, its speech read from its debug log.

This is what a user hears, not only what the accessibility tree says: each control is spoken once, by its label,
with no mnemonic marker; the Settings dialog's combo boxes are spoken by their labels; and describing the screen
makes Orca say at most one thing before the answer, which is spoken through speech-dispatcher (Orca's own queue).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import ARTIFACTS, COMMAND
from tests.support.orca_desktop import Desktop, orca_speech, stop_process
from tests.support.polling import wait_for

# What Orca 43 says when each control of the main window gets the focus (the start of its first utterance).
MAIN_WINDOW = ["Describe screen push button", "Describe window push button", "Describe clipboard push button",
               "Read screen text push button", "Open image push button", "Question: text", "Task: combo box",
               "Ask push button", "Speak question push button", "Conversation: read only text", "Settings push button"]
# The Settings dialog's fields, each spoken by its label and then its role (a spin box's value comes between).
# Answers come from this computer, so the server's fields are hidden and never reached.
SETTINGS = [("Answers come from:", "combo box"), ("Model:", "editable combo box"), ("Device:", "combo box"),
            ("Precision:", "combo box"),
            ("Voice:", "editable combo box"), ("Speech rate:", "spin button"), ("Volume:", "spin button"),
            ("Answers are spoken by:", "combo box"), ("Default task:", "combo box"),
            ("Maximum answer length:", "spin button"), ("Hotkey, describe screen:", "text")]


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[Desktop]:
    for tool in ("orca", "xdotool", "Xvfb", "dbus-run-session", "speech-dispatcher", "pulseaudio"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/install --test"
    folder = tmp_path / "desktop"
    folder.mkdir()
    session = Desktop(folder)
    try:
        session.start()
        session.start_orca()
        yield session
    finally:
        session.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        if session.orca_debug.exists():
            shutil.copy(session.orca_debug, ARTIFACTS / "orca-debug.log")


def quiet(desktop: Desktop, seconds: float = 1.5, timeout: float = 30) -> bool:
    """Until Orca has said nothing for ``seconds``."""
    return wait_for(lambda: all(stamp < time.monotonic() - seconds for stamp, _ in orca_speech(desktop.orca_debug)),
                    timeout, step=0.2)


def settled(desktop: Desktop, seconds: float = 1.0, timeout: float = 15) -> bool:
    """Until Orca's debug log has not grown for ``seconds`` (Orca may still be working through its event queue), and
    Orca has said nothing for as long."""
    sizes: list[int] = []

    def still() -> bool:
        sizes.append(desktop.orca_debug.stat().st_size if desktop.orca_debug.exists() else 0)
        window = int(seconds / 0.2)
        return len(sizes) > window and len(set(sizes[-window - 1:])) == 1

    return wait_for(still, timeout, step=0.2) and quiet(desktop, seconds, timeout)


def press(desktop: Desktop, env: dict[str, str], keys: list[str], pause: float = 0.9) -> list[list[str]]:
    """Press each key in turn; what Orca said after each (its log is read once Orca has settled)."""
    stamps = []
    for key in keys:
        stamps.append(time.monotonic())
        subprocess.run(["xdotool", "key", "--clearmodifiers", key], env=env, check=True, timeout=10)
        time.sleep(pause)
    settled(desktop)
    spoken = orca_speech(desktop.orca_debug)
    bounds = [*stamps, float("inf")]
    return [[text for stamp, text in spoken if bounds[index] <= stamp < bounds[index + 1]]
            for index in range(len(keys))]


def spoken_for(heard: list[list[str]], start: str) -> list[str]:
    """What Orca said after a key press from the utterance that starts with ``start`` on (a window's title and the
    key echo come before it)."""
    for utterances in heard:
        for index, text in enumerate(utterances):
            if text.startswith(start):
                return utterances[index:]
    return []


@pytest.mark.display
def test_orca_reads_each_control_once_by_its_label_and_stays_quiet_while_the_screen_is_captured(
        desktop: Desktop, tiny_model: Path, tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"model": str(tiny_model), "spoken_by": "auto",
                                                      "max_new_tokens": 12, "hide_window_when_capturing": True}))
    app_env = {**env, **desktop.env(), "SEEING_ASSISTANT_CONFIG_DIR": str(config),
               "SEEING_ASSISTANT_REPORT_STARTUP": "1", "QT_QPA_PLATFORM": "xcb",
               "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1"}
    app = subprocess.Popen([str(COMMAND), "app"], env=app_env, stdout=subprocess.PIPE,
                           stderr=(tmp_path / "app.err").open("wb"), text=True)
    report: dict[str, Any] = {}
    try:
        assert app.stdout is not None
        assert app.stdout.readline().startswith("window shown"), (tmp_path / "app.err").read_text()
        windows: list[str] = []

        def find_window() -> bool:
            windows[:] = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(app.pid)], env=app_env,
                                        capture_output=True, text=True, timeout=10).stdout.split()
            return bool(windows)

        assert wait_for(find_window, 10, step=0.2)
        subprocess.run(["xdotool", "windowfocus", windows[-1]], env=app_env, check=True, timeout=10)
        assert quiet(desktop, 2.0), "Orca did not stop talking after the window was focused"

        main = report["main_window"] = press(desktop, app_env, ["Tab"] * 14)
        opened = time.monotonic()
        settings = report["settings"] = press(desktop, app_env, ["ctrl+comma"], pause=3.0)  # the voices are listed
        settings += press(desktop, app_env, ["Tab"] * 28)  # every field, and round to the first again
        report["settings"] = settings
        press(desktop, app_env, ["Escape"])

        # Describe the screen (the window leaves the picture) and wait for the answer to be spoken.
        assert quiet(desktop, 1.5)
        relay = desktop.relay
        assert relay is not None
        asked = time.monotonic()
        subprocess.run([str(COMMAND), "trigger", "describe-screen"], env=app_env, check=True, timeout=30)

        def app_said(after: float) -> list[dict[str, Any]]:
            return [entry for entry in relay.entries() if "seeing-assistant" in entry["client"]
                    and entry["kind"] == "begin" and entry["t"] > after]

        assert wait_for(lambda: any((entry["text"] or "").startswith("Answer complete") for entry in app_said(asked)),
                        60, step=0.2), f"the answer was not spoken: {relay.entries()[-10:]}"
        answer_begun = min(entry["t"] for entry in app_said(asked)
                           if not (entry["text"] or "").startswith(("Describing", "Answer complete")))
        settled(desktop)
        during = report["orca_during_capture"] = [text for stamp, text in orca_speech(desktop.orca_debug)
                                                  if asked <= stamp < answer_begun]
        report["app_through_speech_dispatcher"] = [entry["text"] for entry in app_said(asked)]
        report["settings_opened_after_s"] = round(opened - asked, 2)
    finally:
        stop_process(app)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "orca-report.json").write_text(json.dumps(report, indent=2))

    everything = [text for utterances in main + settings for text in utterances]
    assert not [text for text in everything if "&" in text], "a mnemonic marker was read out"
    for start in MAIN_WINDOW:
        said = spoken_for(main, start)
        assert said, f"Orca never said {start!r} while tabbing: {main}"
        # Each thing once: the combo box's value is not said a second time as its name.
        assert len(said) == len(set(said)), said
    assert spoken_for(main, "Task: combo box")[1].startswith("Describe a photo or scene")
    for label, role in SETTINGS:
        said = spoken_for(settings, label)
        assert said and said[0].endswith(f"{role}."), f"Orca never said {label!r} ... {role!r} in Settings: {settings}"
        assert len(said) == len(set(said)), said
    assert not spoken_for(settings, "Server address:"), "a hidden server field was reached"
    assert len(during) <= 1, f"Orca spoke while the screen was captured: {during}"
