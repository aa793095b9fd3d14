"""Spoken questions in the app: the microphone, and a question that espeak-ng speaks into a private PulseAudio
virtual microphone while the key is held."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from seeing_assistant import speech
from seeing_assistant.core import asr, limits, messages, settings
from seeing_assistant.core.errors import BadInputError
from seeing_assistant.core.factories import load_engine, load_recognizer
from seeing_assistant.desktop import microphone
from seeing_assistant.desktop.main_window import MainWindow
from tests.support.audio_lab import PrivatePulse, write_wav


def test_microphone_problems_get_one_sentence(env: dict[str, str], tmp_path: Path) -> None:
    script = (
        "from PySide6.QtCore import QCoreApplication\n"
        "app = QCoreApplication([])\n"
        "from seeing_assistant.desktop.microphone import Microphone\n"
        "from seeing_assistant.core.errors import SeeingAssistantError\n"
        "try:\n    Microphone().start()\nexcept SeeingAssistantError as error:\n    print(error)\n"
    )
    config = tmp_path / "client.conf"
    config.write_text("autospawn = no\n")
    done = subprocess.run([sys.executable, "-c", script], env={**env, "PULSE_SERVER": f"unix:{tmp_path}/none",
                          "PULSE_CLIENTCONFIG": str(config), "QT_LOGGING_RULES": "qt.multimedia*=false"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == messages.NO_MICROPHONE


@pytest.mark.audio
def test_a_tap_is_too_short_and_a_quiet_room_is_silence(qtbot: QtBot, qapp: object, audio_server: PrivatePulse,
                                                        tmp_path: Path) -> None:
    from seeing_assistant.desktop.microphone import Microphone

    microphone = Microphone()
    microphone.start()
    with pytest.raises(BadInputError, match="too short"):
        microphone.stop().checked()
    quiet_room = write_wav(tmp_path / "quiet.wav", 0.001 * np.random.default_rng(0).standard_normal(24000), 16000, 2)
    microphone.start()
    player = subprocess.Popen(["paplay", "-d", "vmic_feed", str(quiet_room)], env={**os.environ, **audio_server.env})
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=30000)
    qtbot.waitUntil(lambda: len(microphone.data) > 16000, timeout=5000)  # about a second arrived, near silence
    with pytest.raises(BadInputError, match="Nothing was heard"):
        microphone.stop().checked()


@pytest.mark.audio
@pytest.mark.display
def test_holding_the_key_while_speaking_asks_the_question(qtbot: QtBot, tiny_whisper: Path, tiny_model: Path,
                                                          spoken: Path, audio_server: PrivatePulse,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.CONFIG_ENV, str(tmp_path / "config"))
    chosen = settings.Settings(model=str(tiny_model), asr_model=str(tiny_whisper), max_new_tokens=8,
                               hide_window_when_capturing=False)
    window = MainWindow(chosen, factory=load_engine, recognizer_factory=load_recognizer,
                        speaker=speech.SilentSpeaker(), save_settings=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready"), timeout=60000)
    heard_s = asr.load_wav(spoken).duration_s
    qtbot.keyPress(window, Qt.Key.Key_F2)
    assert window.listener.microphone.is_recording and window.speak_button.accessibleName() == "Finish speaking"
    player = subprocess.Popen(["paplay", "-d", "vmic_feed", str(spoken)], env={**os.environ, **audio_server.env})
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=60000)  # the window keeps running meanwhile
    assert player.returncode == 0

    def recorded_all() -> bool:  # the microphone's last buffers have arrived
        microphone = window.listener.microphone
        return len(microphone.data) / (2 * microphone.channels * microphone.rate) >= heard_s

    qtbot.waitUntil(recorded_all, timeout=5000)
    qtbot.keyRelease(window, Qt.Key.Key_F2)
    assert window.listener.last_recording is not None
    seconds, level = window.listener.last_recording
    assert seconds >= heard_s and level > 0.02, window.listener.last_recording  # the app captured the speech
    qtbot.waitUntil(lambda: window.listener.last_transcribe_wait_s is not None, timeout=60000)
    qtbot.waitUntil(lambda: window.answers.answering_id is None and window.status.text() == messages.ANSWER_DONE,
                    timeout=60000)
    text = window.conversation.toPlainText()
    heard = text.split("You:\n", 1)[1].split("\n", 1)[0]
    assert heard and set(heard) <= set("abcdefghijklmnopqrstuvwxyz ")  # the tiny Whisper's transcript
    assert text.split("Assistant:\n", 1)[1].strip()  # and an answer about the screen it captured first
    assert window.voice.speaker.sentences[0] == messages.YOU_ASKED.format(text=heard)
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 5


@pytest.mark.audio
@pytest.mark.display
def test_listening_stops_at_the_time_limit_says_so_and_still_transcribes_the_question(
        qtbot: QtBot, tiny_whisper: Path, tiny_model: Path, spoken: Path, audio_server: PrivatePulse,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.CONFIG_ENV, str(tmp_path / "config"))
    limit_s = int(limits.MICROPHONE_LIMIT_S.low)  # the shortest a user can set: 5 s
    chosen = settings.Settings(model=str(tiny_model), asr_model=str(tiny_whisper), max_new_tokens=8,
                               hide_window_when_capturing=False, microphone_limit_s=limit_s)
    window = MainWindow(chosen, factory=load_engine, recognizer_factory=load_recognizer,
                        speaker=speech.SilentSpeaker(), save_settings=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready"), timeout=60000)
    said: list[tuple[str, float]] = []
    window.status.changed.connect(lambda text, _error: said.append((text, time.perf_counter())))
    # A question that goes on longer than the limit: the spoken one four times over, about 8 s.
    question = asr.load_wav(spoken)
    long_question = write_wav(tmp_path / "long.wav", np.tile(question.samples, 4), asr.RATE, 2)
    assert asr.load_wav(long_question).duration_s > limit_s + 1
    reached = messages.MICROPHONE_LIMIT_REACHED.format(seconds=limit_s)
    player = subprocess.Popen(["paplay", "-d", "vmic_feed", str(long_question)],
                              env={**os.environ, **audio_server.env})
    try:
        pressed = time.perf_counter()
        qtbot.keyPress(window, Qt.Key.Key_F2)  # and held: the key is never let go while it speaks
        assert window.speak_button.accessibleName() == "Finish speaking"  # recording
        qtbot.waitUntil(lambda: any(text == reached for text, _ in said), timeout=(limit_s + 5) * 1000)
        stopped_after = next(at for text, at in said if text == reached) - pressed
        assert limit_s <= stopped_after < limit_s + microphone.BACKSTOP_S, stopped_after  # counted in sound heard
        assert player.poll() is None  # the speaker was still talking: the limit, not the end of speech, stopped it
        assert not window.listener.is_recording and window.speak_button.accessibleName() == "Speak question"
        assert window.listener.last_recording is not None
        seconds, level = window.listener.last_recording
        assert limit_s <= seconds <= limit_s + 0.3 and level > 0.02, window.listener.last_recording  # all of it
        # What was said so far became the question: transcribed and answered, nothing lost.
        qtbot.waitUntil(lambda: window.listener.last_transcribe_wait_s is not None, timeout=60000)
        qtbot.waitUntil(lambda: window.answers.answering_id is None and window.status.text() == messages.ANSWER_DONE,
                        timeout=60000)
        text = window.conversation.toPlainText()
        heard = text.split("You:\n", 1)[1].split("\n", 1)[0]
        assert heard and text.split("Assistant:\n", 1)[1].strip()
        qtbot.keyRelease(window, Qt.Key.Key_F2)  # letting go afterwards asks nothing more and says nothing
        assert [text for text, _ in said].count(reached) == 1 and said[-1][0] == messages.ANSWER_DONE
    finally:
        player.terminate()
        player.wait(timeout=10)
    window.close()


def test_the_time_limit_is_in_the_settings_dialog_with_its_name_and_bounds(qtbot: QtBot) -> None:
    from seeing_assistant.desktop.settings_dialog import SettingsDialog

    dialog = SettingsDialog(settings.Settings(microphone_limit_s=20))
    qtbot.addWidget(dialog)
    field = dialog.microphone_limit
    assert field.accessibleName() == "Longest spoken question" and "transcribed" in field.accessibleDescription()
    assert (field.value(), field.minimum(), field.maximum()) == (20, limits.MICROPHONE_LIMIT_S.low,
                                                                 limits.MICROPHONE_LIMIT_S.high)
    field.setValue(90)
    assert dialog.chosen().microphone_limit_s == 90
    field.setValue(1000)  # typed past the end: held at the longest allowed
    assert dialog.chosen().microphone_limit_s == limits.MICROPHONE_LIMIT_S.high
