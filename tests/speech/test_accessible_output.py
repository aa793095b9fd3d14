"""The Windows and macOS screen-reader route (accessible_output2), tested here around a recording stand-in for the
library's output objects: this machine has no NVDA, JAWS or VoiceOver. What is tested is our side: which output is
chosen, what is handed over and when, stopping, and the one sentence a failure becomes."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SpeechUnavailableError
from seeing_assistant.speech import Pcm, VoiceSpeaker, WavFileOutput
from seeing_assistant.speech.accessible_output import AccessibleOutputSpeaker, running_screen_reader
from seeing_assistant.speech.failover import FailoverSpeaker, Route
from tests.support.audio_lab import speech_profile


class Output:
    """Records what an accessible_output2 output is asked to do, as its NVDA output would be."""

    name = "NVDA"
    system_output = False

    def __init__(self, active: bool = True) -> None:
        self.active = active
        self.calls: list[tuple[str, Any]] = []

    def is_system_output(self) -> bool:
        return self.system_output

    def is_active(self) -> bool:
        return self.active

    def speak(self, text: str, interrupt: bool = False) -> None:
        self.calls.append(("speak", (text, interrupt)))

    def braille(self, text: str) -> None:
        self.calls.append(("braille", text))

    def silence(self) -> None:
        self.calls.append(("silence", None))


def test_each_sentence_goes_to_the_screen_reader_and_its_braille_as_it_streams_queued_not_interrupting() -> None:
    output = Output()
    speaker = AccessibleOutputSpeaker(output)
    speaker.feed("A red square on a white")
    assert output.calls == []  # half a sentence waits for its end
    speaker.feed(" page. Below it, ")
    assert output.calls == [("speak", ("A red square on a white page.", False)),
                            ("braille", "A red square on a white page.")]
    speaker.feed("a blue circle")
    speaker.finish()
    assert output.calls[-2:] == [("speak", ("Below it, a blue circle", False)), ("braille", "Below it, a blue circle")]
    assert speaker.wait(0) is True


def test_stop_silences_the_screen_reader_and_drops_the_half_sentence() -> None:
    output = Output()
    speaker = AccessibleOutputSpeaker(output)
    speaker.feed("One. Two is not fini")
    speaker.stop()
    speaker.finish()
    assert [call for call, _ in output.calls] == ["speak", "braille", "silence"]


def test_a_screen_reader_that_fails_is_told_once_and_the_rest_is_not_sent() -> None:
    class Broken(Output):
        def speak(self, text: str, interrupt: bool = False) -> None:
            raise OSError("nvdaController_speakText returned 1717")

    told: list[str] = []
    speaker = AccessibleOutputSpeaker(Broken())
    speaker.on_error = told.append
    speaker.feed("One. Two. Three. ")
    speaker.stop()
    assert told == ["The screen reader stopped taking speech (nvdaController_speakText returned 1717): the answer is "
                    "still shown as text."]
    assert speaker.errors == told


def fake_library(monkeypatch: pytest.MonkeyPatch, *outputs: Output) -> None:
    library = types.ModuleType("accessible_output2")
    classes = []
    for output in outputs:
        classes.append(lambda made=output: made)
    library.get_output_classes = lambda: classes  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "accessible_output2", library)


def test_the_first_running_screen_reader_is_chosen_never_a_system_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    sapi = Output()
    sapi.name, sapi.system_output = "SAPI5", True
    jaws = Output(active=False)
    jaws.name = "JAWS"
    nvda = Output()
    fake_library(monkeypatch, sapi, jaws, nvda)
    assert running_screen_reader() is nvda
    assert AccessibleOutputSpeaker().name == "NVDA"


def test_no_running_screen_reader_is_one_sentence_that_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    sapi = Output()
    sapi.system_output = True
    fake_library(monkeypatch, sapi, Output(active=False))
    with pytest.raises(SpeechUnavailableError, match=r"^No screen reader could be reached \(none is running\): start "
                                                     r"NVDA, JAWS or VoiceOver"):
        AccessibleOutputSpeaker()


def test_without_the_library_the_sentence_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "accessible_output2", None)  # importing it fails, as on a Linux install
    with pytest.raises(SpeechUnavailableError, match="accessible_output2 is not installed"):
        running_screen_reader()


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_on_windows_and_macos_automatic_speaks_through_the_running_screen_reader(
        monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    from seeing_assistant.speech import routes
    from seeing_assistant.speech.voice import VoiceSettings

    nvda = Output()
    fake_library(monkeypatch, nvda)
    monkeypatch.setattr(routes.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(sys, "platform", platform)
    route = routes.resolve(routes.AUTOMATIC, is_screen_reader_running=True)
    speaker, taken, problem = routes.open_route(route, VoiceSettings(), earcons=False, fall_back=True)
    assert (route, taken, problem) == (routes.SCREEN_READER, routes.SCREEN_READER, None)
    assert isinstance(speaker, FailoverSpeaker)
    assert isinstance(speaker.current, AccessibleOutputSpeaker) and speaker.current.output is nvda
    speaker.close()


def test_a_screen_reader_that_fails_mid_answer_is_told_in_the_apps_voice_which_goes_on_from_that_sentence(
        tmp_path: Path) -> None:
    class QuitsAfterOne(Output):
        def speak(self, text: str, interrupt: bool = False) -> None:
            if any(call == "speak" for call, _ in self.calls):
                raise OSError("nvdaController_speakText returned 1717")
            super().speak(text, interrupt)

    nvda = QuitsAfterOne()
    app_voices: list[VoiceSpeaker] = []

    def app_voice() -> VoiceSpeaker:  # the real eSpeak NG voice, into a WAV file: this machine has no NVDA
        app_voices.append(VoiceSpeaker(WavFileOutput(tmp_path / f"app-{len(app_voices)}.wav")))
        return app_voices[-1]

    speaker = FailoverSpeaker(AccessibleOutputSpeaker(nvda), [Route("screen-reader", lambda: AccessibleOutputSpeaker(
        nvda)), Route("app", app_voice)])
    told: list[str] = []
    speaker.on_route_changed = told.append
    speaker.feed("One is said by NVDA. Two is refused. Three follows. ")
    speaker.finish()
    assert speaker.wait(30)
    assert [text for call, text in nvda.calls if call == "speak"] == [("One is said by NVDA.", False)]
    notice = messages.SPEECH_ROUTE_LOST.format(lost="the screen reader", now="the app's own voice",
                                               reason="nvdaController_speakText returned 1717")
    assert told == [notice]
    # NVDA is tried again first (it still refuses), so the app's voice took over: the notice, then from the cut one.
    assert app_voices and app_voices[-1].sentences == [notice, "Two is refused.", "Three follows."]
    speaker.close()
    assert speech_profile(Pcm.from_wav(tmp_path / f"app-{len(app_voices) - 1}.wav").data)[0] > 3.0
