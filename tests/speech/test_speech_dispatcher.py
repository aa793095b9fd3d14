"""Speaking through the screen reader's queue: a real speech-dispatcher (eSpeak NG) playing on its own virtual
speaker, with a stand-in screen reader that speaks through the same queue as Orca does (priority "message")."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SpeechUnavailableError
from seeing_assistant.speech import FailoverSpeaker, VoiceSettings, VoiceSpeaker, routes
from seeing_assistant.speech.speech_dispatcher import BEGIN, CANCELED, END, ScreenReaderSpeaker, SsipConnection
from tests.support.audio_lab import PrivatePulse, Recorder
from tests.support.polling import wait_for
from tests.support.speech_dispatcher import SINK, PrivateSpeechDispatcher

pytestmark = pytest.mark.audio

ANSWER = ("The window shows a settings page. There are three buttons at the bottom. The first one says Save. "
          "The second one says Cancel. The third one says Help.")


class Timeline:
    """Who spoke when, from speech-dispatcher's own BEGIN and END events (monotonic times)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, str, int]] = []
        self._lock = threading.Lock()

    def listener(self, who: str) -> Callable[[str, int], None]:
        def on_event(code: str, message_id: int) -> None:
            with self._lock:
                self.events.append((time.monotonic(), who, code, message_id))
        return on_event

    def spans(self, who: str) -> list[tuple[float, float]]:
        begun: dict[int, float] = {}
        spans = []
        for stamp, speaker, code, message_id in list(self.events):
            if speaker != who:
                continue
            if code == BEGIN:
                begun[message_id] = stamp
            elif code in (END, CANCELED) and message_id in begun:
                spans.append((begun.pop(message_id), stamp))
        return spans

    def codes(self, who: str) -> list[str]:
        return [code for _, speaker, code, _ in list(self.events) if speaker == who]


def overlap_s(first: list[tuple[float, float]], second: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(end_a, end_b) - max(start_a, start_b)) for start_a, end_a in first
               for start_b, end_b in second)


def test_an_answer_is_spoken_in_the_screen_readers_voice_and_not_by_the_app(speechd: PrivateSpeechDispatcher,
                                                                             audio_server: PrivatePulse) -> None:
    with Recorder(audio_server, SINK) as screen_reader, Recorder(audio_server) as app_speaker:
        speaker = ScreenReaderSpeaker()
        started = time.monotonic()
        for word in ANSWER.split():
            speaker.feed(word + " ")
        speaker.finish()
        assert speaker.wait(60)
        ended = time.monotonic()
        speaker.close()
        assert screen_reader.loud_seconds(started, ended) > 3.0  # five sentences of speech
        assert app_speaker.loud_seconds(started, ended) == 0
    assert speaker.sentences == [sentence.strip() + "." for sentence in ANSWER.split(".") if sentence.strip()]
    assert speaker.errors == []


def test_the_app_and_the_screen_reader_take_turns_and_never_cut_each_other_off(
        speechd: PrivateSpeechDispatcher) -> None:
    timeline = Timeline()
    screen_reader = SsipConnection(timeline.listener("screen reader"), client_name="user:orca:default")
    speaker = ScreenReaderSpeaker()
    speaker.on_event = timeline.listener("app")
    for word in ANSWER.split():
        speaker.feed(word + " ")
        if word == "bottom.":  # the user moves focus while the answer is read: Orca speaks at once
            screen_reader.speak("Cancel, push button.")
    speaker.finish()
    assert speaker.wait(60)
    screen_reader.speak("Help, push button.")
    deadline = time.monotonic() + 20
    while timeline.codes("screen reader").count(END) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    speaker.close()
    screen_reader.close()
    assert CANCELED not in timeline.codes("screen reader") and CANCELED not in timeline.codes("app")
    assert len(timeline.spans("app")) == 5 and len(timeline.spans("screen reader")) == 2
    # Both clients' times come from their own reader threads: a few milliseconds of jitter, not speech at once.
    assert overlap_s(timeline.spans("app"), timeline.spans("screen reader")) < 0.02
    # Orca's words came before the end of the answer: they waited for one sentence, not for the whole answer.
    assert timeline.spans("screen reader")[0][1] < timeline.spans("app")[-1][0]


def test_stop_silences_the_apps_speech_and_never_the_screen_readers(speechd: PrivateSpeechDispatcher,
                                                                     audio_server: PrivatePulse) -> None:
    timeline = Timeline()
    screen_reader = SsipConnection(timeline.listener("screen reader"), client_name="user:orca:default")
    speaker = ScreenReaderSpeaker()
    speaker.on_event = timeline.listener("app")
    with Recorder(audio_server, SINK) as recording:
        speaker.feed("A long sentence that goes on and on about the many things this screen shows, one by one. "
                     "Another sentence that should never be heard.")
        assert recording.first_loud(time.monotonic() - 0.01) is not None
        screen_reader.speak("Stop, push button.")
        stopped = time.monotonic()
        speaker.stop()
        assert speaker.wait(5)
        deadline = time.monotonic() + 20
        while END not in timeline.codes("screen reader") and time.monotonic() < deadline:
            time.sleep(0.05)
    assert timeline.codes("app").count(CANCELED) == 1 and timeline.codes("screen reader") == [BEGIN, END]
    assert timeline.spans("screen reader")[0][0] - stopped < 1.0  # Orca's words came at once, not after the answer
    assert timeline.codes("app").count(BEGIN) == 1  # the second sentence was never spoken
    speaker.close()
    screen_reader.close()


def test_speech_dispatcher_killed_mid_answer_is_told_in_the_apps_voice_which_goes_on_and_hands_back(
        speechd: PrivateSpeechDispatcher, audio_server: PrivatePulse, qapp: object) -> None:
    speaker, taken, problem = routes.open_route(routes.SCREEN_READER, VoiceSettings(), earcons=False, fall_back=False)
    assert isinstance(speaker, FailoverSpeaker) and (taken, problem) == (routes.SCREEN_READER, None)
    timeline = Timeline()
    first = speaker.current
    assert isinstance(first, ScreenReaderSpeaker)
    first.on_event = timeline.listener("app")
    told: list[str] = []
    speaker.on_route_changed = told.append
    try:
        heard_the_fault_and_the_rest(speaker, speechd, audio_server, timeline, told)
    finally:
        speaker.close()  # its audio thread must not outlive the test


def heard_the_fault_and_the_rest(speaker: FailoverSpeaker, speechd: PrivateSpeechDispatcher,
                                 audio_server: PrivatePulse, timeline: Timeline, told: list[str]) -> None:
    sentences = [sentence.strip() + "." for sentence in ANSWER.split(".") if sentence.strip()]
    with Recorder(audio_server, SINK) as screen_reader, Recorder(audio_server) as app_voice:
        speaker.feed(ANSWER)
        speaker.finish()
        assert wait_for(lambda: timeline.codes("app").count(BEGIN) == 2, 30, step=0.01)  # into the second sentence
        assert screen_reader.wait_until_loud_now()
        killed = time.monotonic()
        speechd.kill()  # the screen reader's speech server crashed mid-sentence
        heard = app_voice.first_loud(killed, timeout=15)
        assert heard is not None, "nothing was heard after speech-dispatcher died"
        print(f"\nspeech-dispatcher killed: the notice was heard in the app's voice after {heard - killed:.3f} s")
        assert heard - killed < 3.0
        assert speaker.route == routes.APP_VOICE and isinstance(speaker.current, VoiceSpeaker)
        notice = messages.SPEECH_ROUTE_LOST.format(lost="the screen reader", now="the app's own voice",
                                                   reason="speech-dispatcher closed the connection")
        assert told == [notice]
        # Nothing lost: the notice, then the answer again from the sentence that was cut (the second one).
        assert speaker.current.sentences == [notice, *sentences[1:]]
        speechd.start()  # and started again
        assert speaker.wait(60)
        assert app_voice.loud_seconds(killed, time.monotonic()) > 4.0  # four sentences and the notice were said
        assert wait_for(lambda: len(told) == 2, 30, step=0.01), "speech never went back"
        back = time.monotonic()
        print(f"speech-dispatcher restarted: speech went back to it {back - killed:.3f} s after the kill")
        assert told[-1] == messages.SPEECH_ROUTE_BACK.format(now="the screen reader")
        assert speaker.route == routes.SCREEN_READER
        speaker.feed("More text. ")
        speaker.finish()
        assert speaker.wait(30)
        ended = time.monotonic()
        assert screen_reader.loud_seconds(back, ended) > 0.5  # said by the screen reader's voice again
        assert app_voice.loud_seconds(back, ended) == 0
    assert isinstance(speaker.current, ScreenReaderSpeaker) and speaker.current.sentences[-1] == "More text."
    assert speaker.errors == []


def test_a_screen_reader_speaker_on_its_own_tells_the_failure_and_keeps_what_it_could_not_say(
        speechd: PrivateSpeechDispatcher, audio_server: PrivatePulse) -> None:
    speaker = ScreenReaderSpeaker()
    problems: list[str] = []
    speaker.on_error = problems.append
    with Recorder(audio_server, SINK) as recording:
        speaker.feed(ANSWER + " ")
        assert recording.first_loud(time.monotonic() - 0.01) is not None
        speechd.stop()
        assert speaker.wait(10)  # the command line's "wait for the speech" must not hang
    speaker.feed("More text. ")
    speaker.finish()
    assert speaker.wait(1)
    assert problems == [messages.NO_SPEECH_DISPATCHER.format(reason="speech-dispatcher closed the connection")]
    assert speaker.lost == "speech-dispatcher closed the connection"
    # What was cut and what came later is kept for a failover, not dropped.
    assert speaker.unspoken()[-2:] == ["The third one says Help.", "More text."]
    assert speaker.unspoken()[0] in ANSWER
    speaker.close()


def test_without_speech_dispatcher_there_is_one_sentence_saying_what_to_do(
        monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("SPEECHD_ADDRESS", f"unix_socket:{tmp_path}/none.sock")
    with pytest.raises(SpeechUnavailableError, match=r"speech-dispatcher\) could not be reached .*own voice"):
        ScreenReaderSpeaker()
