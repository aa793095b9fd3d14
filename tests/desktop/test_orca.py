"""The app with the real screen reader: Debian's Orca, run privately under Xvfb with speech-dispatcher, driven by the
keyboard as a blind user would, its speech read from its debug log.

This is what a user hears, not only what the accessibility tree says: each control is spoken once, by its label,
with no mnemonic marker; the Settings dialog's combo boxes are spoken by their labels; and describing the screen
makes Orca say at most one thing before the answer, which is spoken through speech-dispatcher (Orca's own queue).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from benchmarks.one_voice import intersect, loud_intervals, total

from tests.support.audio_lab import Recorder
from tests.support.cli import ARTIFACTS, COMMAND
from tests.support.orca_desktop import Desktop, orca_48_root, orca_speech, stop_process
from tests.support.polling import wait_for
from tests.support.speech_dispatcher import SINK

# The main window's controls in tab order, each by its name and its role as Orca says it (Orca 43: "push button",
# Orca 48: "button"); Orca says the name first, so each is found by the start of its first utterance.
MAIN_WINDOW = [("Describe screen", "button"), ("Describe window", "button"), ("Describe clipboard", "button"),
               ("Read screen text", "button"), ("Open image", "button"), ("Question:", "text"), ("Task:", "combo box"),
               ("Ask", "button"), ("Speak question", "button"), ("Conversation:", "read only text"),
               ("Settings", "button"), ("Save picture", "button")]
# The Settings dialog's fields, each spoken by its label and then its role (Orca 48 says a combo box's value between
# the two, and a spin box's value comes after). Answers come from this computer, so the server's fields are hidden
# and never reached.
SETTINGS = [("Answers come from:", "combo box"), ("Model:", "editable combo box"), ("Device:", "combo box"),
            ("Precision:", "combo box"),
            ("Voice:", "editable combo box"), ("Speech rate:", "spin button"), ("Volume:", "spin button"),
            ("Answers are spoken by:", "combo box"), ("Default task:", "combo box"),
            ("Maximum answer length:", "spin button"), ("Hotkey, describe screen:", "text")]
STATUSES = ("Describing", "Answer complete")


@pytest.fixture(params=["43", "48"], ids=["orca-43", "orca-48"])
def desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    """The private desktop with Debian 12's Orca 43 (the host's) or Debian 13's Orca 48 (from its own root)."""
    for tool in ("orca", "xdotool", "Xvfb", "dbus-run-session", "speech-dispatcher", "pulseaudio"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/install --test"
    root = None
    if request.param == "48":
        if os.getuid() != 0:
            pytest.skip("Debian 13's Orca runs in a root built with mmdebstrap and entered with chroot: needs root")
        root = orca_48_root()
    folder = tmp_path / "desktop"
    folder.mkdir()
    session = Desktop(folder, orca_root=root)
    try:
        session.start()
        session.start_orca()
        yield session
    finally:
        session.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        if session.orca_debug.exists():
            shutil.copy(session.orca_debug, ARTIFACTS / f"orca-{request.param}-debug.log")


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
    stack = contextlib.ExitStack()
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

        main = report["main_window"] = press(desktop, app_env, ["Tab"] * 15)
        opened = time.monotonic()
        settings = report["settings"] = press(desktop, app_env, ["ctrl+comma"], pause=3.0)  # the voices are listed
        settings += press(desktop, app_env, ["Tab"] * 28)  # every field, and round to the first again
        report["settings"] = settings
        press(desktop, app_env, ["Escape"])

        # Describe the screen (the window leaves the picture) and wait for the answer to be spoken, recording the
        # app's own voice and the screen reader's (speech-dispatcher's) on their own virtual speakers.
        assert quiet(desktop, 1.5)
        relay = desktop.relay
        assert relay is not None and desktop.pulse is not None
        own_voice = stack.enter_context(Recorder(desktop.pulse, "vspeaker"))
        reader_voice = stack.enter_context(Recorder(desktop.pulse, SINK))
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
        report["orca_after_describe"] = [text for stamp, text in orca_speech(desktop.orca_debug) if stamp >= asked]
        report["settings_opened_after_s"] = round(opened - asked, 2)
        over = time.monotonic()
        report["app_voice_during_describe_s"] = own_voice.loud_seconds(asked, over)
        report["two_voices_s"] = round(total(intersect(loud_intervals(own_voice, asked, over),
                                                       loud_intervals(reader_voice, asked, over))), 3)

        # Orca quits; the app follows within a bus signal (it lets go of speech-dispatcher: its connection says
        # QUIT), and Repeat says the answer again in its own voice.
        quit_at = time.monotonic()
        stop_process(desktop.orca, grace=3)
        assert wait_for(lambda: any(entry["kind"] == "command" and entry["text"].upper() == "QUIT"
                                    and "seeing-assistant" in entry["client"] and entry["t"] > quit_at
                                    for entry in relay.entries()), 15, step=0.1), "the app did not follow Orca"
        gone = time.monotonic()
        subprocess.run([str(COMMAND), "trigger", "repeat"], env=app_env, check=True, timeout=30)
        wait_for(lambda: own_voice.loud_seconds(gone, time.monotonic()) > 0.3, 15, step=0.1)
        report["after_orca_quit"] = {"own_voice_s": own_voice.loud_seconds(gone, time.monotonic()),
                                     "through_speech_dispatcher": [entry["text"] for entry in app_said(gone)]}
    finally:
        stack.close()
        stop_process(app)
        ARTIFACTS.mkdir(exist_ok=True)
        version = "43" if desktop.orca_root is None else "48"
        (ARTIFACTS / f"orca-{version}-report.json").write_text(json.dumps(report, indent=2))

    everything = [text for utterances in main + settings for text in utterances]
    assert not [text for text in everything if "&" in text], "a mnemonic marker was read out"
    for start, role in MAIN_WINDOW:
        said = spoken_for(main, start)
        assert said, f"Orca never said {start!r} while tabbing: {main}"
        assert f" {role}" in said[0], said
        # Each thing once: no utterance is said twice for one control.
        assert len(said) == len(set(said)), said
    task = spoken_for(main, "Task:")
    assert any("Describe a photo or scene" in text for text in task), task
    for label, role in SETTINGS:
        said = spoken_for(settings, label)
        assert said and f" {role}" in said[0], f"Orca never said {label!r} ... {role!r} in Settings: {settings}"
        assert len(said) == len(set(said)), said
    assert not spoken_for(settings, "Server address:"), "a hidden server field was reached"
    assert len(during) <= 1, f"Orca spoke while the screen was captured: {during}"
    # Each status heard once: through speech-dispatcher, in order with the answer, and not also by Orca itself
    # (Orca 48 speaks AT-SPI announcements; Orca 43 does not).
    queued = report["app_through_speech_dispatcher"]
    for status in STATUSES:
        assert sum(1 for text in queued if text.startswith(status)) == 1, queued
        assert not [text for text in report["orca_after_describe"] if text.startswith(status)], report
    answer = [text for text in queued if not text.startswith(STATUSES)]
    assert answer and len(answer) == len(set(answer)), queued  # the answer heard once, a sentence at a time
    assert report["app_voice_during_describe_s"] == 0 and report["two_voices_s"] == 0, report
    # Orca quit: the app noticed (its bus connection went), and its own voice repeats the answer.
    assert report["after_orca_quit"]["own_voice_s"] > 0.3, report
    assert report["after_orca_quit"]["through_speech_dispatcher"] == [], report
