"""Who speaks in the window: the screen reader's queue or the app's own voice, each status heard exactly once."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from seeing_assistant import speech
from seeing_assistant.core import messages, settings
from seeing_assistant.desktop.main_window import MainWindow
from seeing_assistant.desktop.widgets import StatusLine
from seeing_assistant.speech import screen_reader
from tests.desktop.conftest import wait_done
from tests.support.audio_lab import PrivatePulse, Recorder
from tests.support.fakes import ScriptedEngine, picture
from tests.support.speech_dispatcher import SINK, PrivateSpeechDispatcher

pytestmark = [pytest.mark.display, pytest.mark.audio]


@pytest.fixture
def orca(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process called orca, as a screen reader started by hand looks to the app."""
    stand_in = tmp_path / "orca"
    shutil.copy("/bin/sleep", stand_in)
    process = subprocess.Popen([str(stand_in), "120"])
    # Popen returns once the child is forked, before it has become "orca": the app would see a second Python.
    comm = Path(f"/proc/{process.pid}/comm")
    deadline = time.monotonic() + 10
    while comm.read_text().strip() != "orca" and time.monotonic() < deadline:
        time.sleep(0.01)
    yield process
    process.kill()
    process.wait()


def speaking(window: MainWindow) -> speech.Speaker:
    """The speaker of the route that speaks now, inside the failover the window opened."""
    speaker = window.voice.speaker
    return speaker.current if isinstance(speaker, speech.FailoverSpeaker) else speaker


def app_voice_window(qtbot: QtBot, spoken: speech.Speaker) -> MainWindow:
    """A shown window whose answers the app's own voice speaks, through ``spoken``."""
    window = MainWindow(settings.Settings(spoken_by="app", hide_window_when_capturing=False),
                        factory=lambda _: ScriptedEngine(), speaker=spoken, save_settings=False)
    qtbot.addWidget(window)
    window.show()
    return window


def announced_statuses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What goes out as AT-SPI announcements (what Orca 46 and later would speak itself)."""
    heard: list[str] = []
    original = StatusLine.announce

    def announce(line: StatusLine, text: str, is_error: bool = False) -> None:
        heard.append(text)
        original(line, text, is_error)

    monkeypatch.setattr(StatusLine, "announce", announce)
    return heard


def test_answers_and_statuses_go_through_the_screen_reader_once_and_the_app_stays_silent(
        qtbot: QtBot, tmp_path: Path, speechd: PrivateSpeechDispatcher, audio_server: PrivatePulse,
        monkeypatch: pytest.MonkeyPatch) -> None:
    announced = announced_statuses(monkeypatch)
    window = MainWindow(settings.Settings(spoken_by="screen-reader", hide_window_when_capturing=False),
                        factory=lambda _: ScriptedEngine(), save_settings=False)
    qtbot.addWidget(window)
    window.show()
    assert isinstance(speaking(window), speech.ScreenReaderSpeaker)
    assert window.voice.spoken_by.text() == "Answers are spoken by the screen reader, as chosen in Settings."
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready"), timeout=10000)
    path = picture(tmp_path)
    with Recorder(audio_server, SINK) as screen_reader, Recorder(audio_server) as app_voice:
        started = time.monotonic()
        window.capturer.path(str(path))
        wait_done(qtbot, window)
        assert window.voice.speaker.wait(60)
        ended = time.monotonic()
        assert screen_reader.loud_seconds(started, ended) > 1.0 and app_voice.loud_seconds(started, ended) == 0
    said = window.voice.speaker.sentences
    describing = messages.DESCRIBING.format(source=path)
    assert said[-4:] == [describing, "A window with a button.", "It says OK.", messages.ANSWER_DONE]
    for status in (describing, messages.ANSWER_DONE):
        assert said.count(status) == 1 and status not in announced  # heard once, from the screen reader only
    window.listener.start()  # "Listening" is never put into the speech queue: the microphone would hear it
    assert window.status.text() == messages.LISTENING and messages.LISTENING in announced
    assert messages.LISTENING not in window.voice.speaker.sentences
    window.listener.cancel()
    window.close()


def test_with_the_apps_voice_an_error_is_said_once_while_a_screen_reader_runs(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, orca: subprocess.Popen[bytes]) -> None:
    announced = announced_statuses(monkeypatch)
    spoken = speech.SilentSpeaker()
    window = app_voice_window(qtbot, spoken)
    assert window.voice.screen_reader.is_running
    window.ask()  # no image yet: an error
    assert spoken.sentences[-1] == messages.NO_IMAGE_YET
    assert messages.NO_IMAGE_YET not in announced  # said by the app's voice: not also handed to the screen reader
    assert window.status.text() == messages.NO_IMAGE_YET
    window.close()


def test_with_the_apps_voice_every_status_is_said_by_it_and_none_announced_while_a_screen_reader_runs(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orca: subprocess.Popen[bytes]) -> None:
    # Orca 46 and later speak announcements: "Answer complete." announced would be said over the app's voice.
    announced = announced_statuses(monkeypatch)
    spoken = speech.SilentSpeaker()
    window = app_voice_window(qtbot, spoken)
    assert window.voice.screen_reader.is_running
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready"), timeout=10000)
    announced.clear()  # news the app never says aloud (the model loading) goes to the screen reader: not this
    window.capturer.path(str(picture(tmp_path)))
    wait_done(qtbot, window)
    describing = messages.DESCRIBING.format(source=picture(tmp_path))
    assert spoken.sentences[-4:] == [describing, "A window with a button.", "It says OK.", messages.ANSWER_DONE]
    assert spoken.sentences.count(messages.ANSWER_DONE) == 1
    assert announced == []
    window.close()


def test_with_answers_not_spoken_statuses_reach_orca_43_through_its_queue_and_newer_orcas_by_announcement(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orca: subprocess.Popen[bytes],
        speechd: PrivateSpeechDispatcher) -> None:
    announced = announced_statuses(monkeypatch)
    window = MainWindow(settings.Settings(spoken_by="none", hide_window_when_capturing=False),
                        factory=lambda _: ScriptedEngine(), save_settings=False)
    qtbot.addWidget(window)
    window.show()
    reader = window.voice.screen_reader.current
    assert reader is not None and reader.name == "Orca" and not reader.speaks_announcements  # this machine's 43
    window.voice.announce(messages.ANSWER_DONE)
    queue = window.voice._status_queue
    assert isinstance(queue, speech.ScreenReaderSpeaker)
    assert queue.wait(30) and queue.sentences == [messages.ANSWER_DONE]
    assert messages.ANSWER_DONE not in announced  # once: Orca 43 would not speak the announcement anyway
    # The same Orca said to be 48 (the real one is tested in test_orca.py): the announcement, and nothing queued.
    monkeypatch.setattr(screen_reader, "orca_version", lambda pid: "48.1")
    window.voice.screen_reader._versions.clear()
    window.voice.screen_reader.refresh()
    current = window.voice.screen_reader.current
    assert current is not None and current.speaks_announcements
    window.voice.announce(messages.NEW_CONVERSATION)
    assert messages.NEW_CONVERSATION in announced and messages.NEW_CONVERSATION not in queue.sentences
    window.close()


def test_without_a_screen_reader_the_same_error_is_also_announced(qtbot: QtBot,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    announced = announced_statuses(monkeypatch)
    window = app_voice_window(qtbot, speech.SilentSpeaker())
    assert not window.voice.screen_reader.is_running
    window.ask()
    assert messages.NO_IMAGE_YET in announced  # braille and magnifier users still get it
    window.close()


def test_automatic_follows_the_screen_reader_as_it_starts_and_stops(
        qtbot: QtBot, tmp_path: Path, speechd: PrivateSpeechDispatcher) -> None:
    window = MainWindow(settings.Settings(hide_window_when_capturing=False, earcons=False),
                        factory=lambda _: ScriptedEngine(), save_settings=False)
    qtbot.addWidget(window)
    window.show()
    alone = "Answers are spoken by the app's own voice: no screen reader is running."
    assert window.voice.spoken_by.text() == alone
    told: list[str] = []
    window.status.changed.connect(lambda text, _is_error: told.append(text))
    stand_in = tmp_path / "orca"
    shutil.copy("/bin/sleep", stand_in)
    orca = subprocess.Popen([str(stand_in), "120"])
    try:
        qtbot.waitUntil(lambda: isinstance(speaking(window), speech.ScreenReaderSpeaker), timeout=10000)
        # No session bus here: found by its process; its version is the Orca installed on this machine's.
        version = screen_reader.orca_version(orca.pid)
        assert version and version.startswith("43.")
        with_reader = f"Answers are spoken by the screen reader: Orca {version} is running."
        assert window.voice.spoken_by.text() == with_reader
    finally:
        orca.kill()
        orca.wait()
    qtbot.waitUntil(lambda: isinstance(speaking(window), speech.VoiceSpeaker), timeout=10000)
    assert window.voice.spoken_by.text() == alone
    # Each change was told in the status line too (a later status, such as Model ready, may have followed it).
    assert told.count(with_reader) == 1
    assert told.count(alone) == 1
    window.close()


def test_choosing_who_speaks_in_settings_takes_effect_at_once(qtbot: QtBot) -> None:
    window = MainWindow(settings.Settings(spoken_by="app", hide_window_when_capturing=False, earcons=False),
                        factory=lambda _: ScriptedEngine(), save_settings=False)
    qtbot.addWidget(window)
    window.show()
    assert isinstance(speaking(window), speech.VoiceSpeaker) and window.voice.route == "app"
    window.apply_settings(settings.Settings(spoken_by="none", hide_window_when_capturing=False, earcons=False))
    after: speech.Speaker = window.voice.speaker
    assert isinstance(after, speech.SilentSpeaker) and window.voice.route == "none"
    assert window.voice.spoken_by.text() == messages.ANSWERS_NOT_SPOKEN
    window.close()
