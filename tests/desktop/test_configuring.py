"""New settings from the dialog reach every part at once; failures to save or to speak are told, never silent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from seeing_assistant import speech
from seeing_assistant.core import messages, settings
from seeing_assistant.desktop.main_window import MainWindow
from tests.desktop.conftest import wait_done
from tests.support.fakes import ScriptedEngine, ScriptedFactory, picture

pytestmark = pytest.mark.display


def wait_ready(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready"), timeout=10000)


def test_settings_that_cannot_be_saved_are_still_used_and_the_user_is_told(
        make_window: Callable[..., MainWindow], qtbot: QtBot, config_dir: Path) -> None:
    factory = ScriptedFactory()
    loads = factory.loads
    window = make_window(factory=factory)
    window.save_settings = True
    config_dir.parent.mkdir(parents=True, exist_ok=True)
    config_dir.write_text("a file where the config folder should be")  # saving fails: not a folder
    heard: list[tuple[str, bool]] = []
    window.status.changed.connect(lambda text, is_error: heard.append((text, is_error)))
    chosen = settings.Settings(model="/models/other", hide_window_when_capturing=False, max_new_tokens=77)
    window.apply_settings(chosen)
    assert window.settings == chosen
    assert any(is_error and text.startswith("The settings are in use, but could not be saved") for text, is_error
               in heard), heard
    qtbot.waitUntil(lambda: loads[-1:] == ["/models/other"], timeout=10000)  # the new model is loaded all the same
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready: /models/other"), timeout=10000)


def test_a_voice_that_cannot_be_used_is_told_and_the_answer_still_shows(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(settings.Settings(hide_window_when_capturing=False, earcons=False),
                        factory=lambda _: ScriptedEngine(), save_settings=False)  # the real speaker
    qtbot.addWidget(window)
    window.show()
    wait_ready(qtbot, window)
    assert window.voice.speaking_now == "app"  # the app's own voice, behind the failover
    heard: list[tuple[str, bool]] = []
    window.status.changed.connect(lambda text, is_error: heard.append((text, is_error)))
    window.apply_settings(settings.Settings(voice="no-such-voice", hide_window_when_capturing=False, earcons=False))
    told = "Speech is off: There is no voice called no-such-voice"
    assert any(is_error and text.startswith(told) for text, is_error in heard), heard
    window.capturer.path(str(picture(tmp_path)))
    wait_done(qtbot, window)
    assert window.conversation.toPlainText().endswith("It says OK.")
    window.close()


class BreaksOnOk(speech.Synthesizer):
    """A voice that cannot say one word, like an engine that fails on a character it does not know."""

    def synthesize(self, text: str) -> speech.Pcm:
        if "OK" in text:
            raise RuntimeError("the engine crashed on this sentence")
        return speech.Pcm(b"\0\0" * 2205, 22050)

    def voices(self) -> list[speech.Voice]:
        return []


def test_a_sentence_that_cannot_be_spoken_is_shown_and_announced(
        make_window: Callable[..., MainWindow], qtbot: QtBot, tmp_path: Path) -> None:
    speaker = speech.VoiceSpeaker(speech.WavFileOutput(tmp_path / "answer.wav"), make_synthesizer=BreaksOnOk)
    window = MainWindow(settings.Settings(hide_window_when_capturing=False), factory=lambda _: ScriptedEngine(),
                        speaker=speaker, save_settings=False)
    qtbot.addWidget(window)
    window.show()
    wait_ready(qtbot, window)
    errors: list[str] = []
    window.status.changed.connect(lambda text, is_error: errors.append(text) if is_error else None)
    window.capturer.path(str(picture(tmp_path)))
    wait_done(qtbot, window)
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert errors == [messages.SPEECH_FAILED.format(reason="the engine crashed on this sentence")]
    window.close()
