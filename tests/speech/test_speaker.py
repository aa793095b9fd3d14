"""Speech output: the speaker's logic, the real eSpeak NG voice, WAV files, the CLI, and real audio recorded from a
private PulseAudio server's virtual speaker."""

from __future__ import annotations

import array
import math
import os
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from seeing_assistant import speech
from seeing_assistant.core.errors import BadInputError, SpeechUnavailableError
from seeing_assistant.speech import espeak_ng
from tests.support.audio_lab import PrivatePulse, Recorder, speech_profile

RATE = 22050


def tone(seconds: float = 0.05, frequency: float = 440.0) -> speech.Pcm:
    samples = array.array("h", (int(8000 * math.sin(2 * math.pi * frequency * i / RATE))
                                for i in range(int(RATE * seconds))))
    return speech.Pcm(samples.tobytes(), RATE)


class ScriptedSynthesizer(speech.Synthesizer):
    """Returns a tone per sentence; ``gate`` (when given) holds each synthesis until the test opens it."""

    name = "scripted"

    def __init__(self, gate: threading.Event | None = None, fail_on: str | None = None) -> None:
        self.gate = gate
        self.fail_on = fail_on
        self.synthesized: list[str] = []
        self.entered = threading.Event()  # set when a synthesis has begun

    def synthesize(self, text: str) -> speech.Pcm:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if text == self.fail_on:
            raise RuntimeError("engine hiccup")
        self.synthesized.append(text)
        return tone()

    def voices(self) -> list[speech.Voice]:
        return [speech.Voice("test", "Test")]


class ListOutput(speech.AudioOutput):
    """Keeps what it is given to play, and counts clears."""

    def __init__(self) -> None:
        super().__init__()
        self.played: list[speech.Pcm] = []
        self.clears = 0
        self.closed = False

    def play(self, pcm: speech.Pcm, tag: str | None = None) -> None:
        self.played.append(pcm)

    def clear(self) -> None:
        self.clears += 1

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def feed_words(speaker: speech.Speaker, text: str) -> None:
    for word in text.split(" "):
        speaker.feed(word + " ")


# --- The speaker's logic ----------------------------------------------------------------------------------------


def test_each_sentence_is_handed_over_the_moment_it_is_complete() -> None:
    speaker = speech.SilentSpeaker()
    speaker.feed("The screen shows **a browser**")
    assert speaker.sentences == []
    speaker.feed(" at example.com, version 1.2. Below")
    assert speaker.sentences == ["The screen shows a browser at example.com, version 1.2."]
    speaker.feed(" it:\n- a search box\n- a button")
    assert speaker.sentences[1:] == ["Below it:", "a search box"]
    speaker.finish()
    assert speaker.sentences[-1] == "a button"


def test_stop_drops_the_unfinished_sentence_and_say_interrupts() -> None:
    speaker = speech.SilentSpeaker()
    speaker.feed("Half a sent")
    speaker.stop()
    speaker.feed("ence. ")
    assert speaker.sentences == ["ence."]
    speaker.feed("More to come")
    speaker.say("New answer.")
    assert speaker.sentences == ["ence.", "New answer."]
    assert speaker.stops == 2


def test_a_speaker_running_for_days_keeps_only_its_latest_sentences() -> None:
    speaker = speech.SilentSpeaker()
    for number in range(2000):
        speaker.feed(f"Sentence {number}. ")
    assert 200 <= len(speaker.sentences) <= 400  # bounded, and still enough for the end of a long answer
    assert speaker.sentences[-200:] == [f"Sentence {number}." for number in range(1800, 2000)]


def test_voice_speaker_synthesises_in_order_and_plays_each_sentence() -> None:
    synthesizer = ScriptedSynthesizer()
    output = ListOutput()
    speaker = speech.VoiceSpeaker(output, make_synthesizer=lambda: synthesizer)
    feed_words(speaker, "One. Two, e.g. three. Four")
    speaker.finish()
    assert speaker.wait(10)
    assert synthesizer.synthesized == ["One.", "Two, e.g. three.", "Four"]
    assert len(output.played) == 3
    speaker.close()
    assert output.closed


def test_stop_drops_queued_sentences_and_what_was_being_synthesised() -> None:
    gate = threading.Event()
    synthesizer = ScriptedSynthesizer(gate)
    output = ListOutput()
    speaker = speech.VoiceSpeaker(output, make_synthesizer=lambda: synthesizer)
    feed_words(speaker, "First. Second. Third.")
    assert synthesizer.entered.wait(10)  # the first sentence is now inside synthesize(), held by the gate
    speaker.stop()
    gate.set()
    speaker.feed("After the stop. ")
    assert speaker.wait(10)
    assert synthesizer.synthesized == ["First.", "After the stop."]  # Second and Third were dropped unsynthesised
    assert len(output.played) == 1  # First was synthesised after the stop and thrown away
    assert output.clears == 1
    speaker.close()


def test_a_sentence_that_fails_is_reported_and_the_rest_is_spoken() -> None:
    output = ListOutput()
    speaker = speech.VoiceSpeaker(output, make_synthesizer=lambda: ScriptedSynthesizer(fail_on="Bad one."))
    feed_words(speaker, "Good. Bad one. Good again.")
    assert speaker.wait(10)
    assert len(output.played) == 2
    assert len(speaker.errors) == 1 and "engine hiccup" in speaker.errors[0]
    speaker.close()


def test_an_engine_that_cannot_start_gives_one_clear_error() -> None:
    def broken() -> speech.Synthesizer:
        raise OSError("libespeak-ng.so.1: cannot open shared object file")

    with pytest.raises(SpeechUnavailableError, match=r"No speech engine could be started \(libespeak-ng"):
        speech.VoiceSpeaker(ListOutput(), make_synthesizer=broken)


# --- The real voice, WAV files, earcons -------------------------------------------------------------------------


def test_the_real_voice_makes_speech_of_a_plausible_length() -> None:
    synthesizer = speech.default_synthesizer()
    assert isinstance(synthesizer, speech.EspeakNgSynthesizer)
    text = "The dialog asks whether to save the changes to the document."
    pcm = synthesizer.synthesize(text)
    duration, loud_share = speech_profile(pcm.data, pcm.rate)
    words = len(text.split())
    assert 0.15 * words < duration < 1.0 * words, duration
    assert loud_share > 0.4, loud_share
    faster = speech.default_synthesizer(speech.VoiceSettings(rate=350)).synthesize(text)
    assert faster.duration_s < 0.8 * pcm.duration_s
    assert any("en" in code for voice in synthesizer.voices() for code in voice.languages)
    synthesizer.close()


def test_voices_are_chosen_by_id_name_or_language_and_a_missing_engine_is_explained(
        monkeypatch: pytest.MonkeyPatch) -> None:
    plain = speech.default_synthesizer().synthesize("Hello.")
    for wanted in ("gmw/en-US", "English (America)", "en-us"):
        american = speech.default_synthesizer(speech.VoiceSettings(voice=wanted)).synthesize("Hello.")
        assert american.data != plain.data
    quiet = speech.default_synthesizer(speech.VoiceSettings(volume=0.2)).synthesize("Hello.")
    assert max(array.array("h", quiet.data)) < 0.5 * max(array.array("h", plain.data))
    monkeypatch.setattr(espeak_ng.shutil, "which", lambda name: None)  # as on a system without eSpeak NG
    with pytest.raises(SpeechUnavailableError, match=r"espeak-ng is not installed.*apt install espeak-ng"):
        speech.EspeakNgSynthesizer()


def test_an_unknown_voice_is_refused_with_the_way_to_list_them() -> None:
    with pytest.raises(BadInputError, match=r"There is no voice called no-such-voice: choose one .*doctor"):
        speech.default_synthesizer(speech.VoiceSettings(voice="no-such-voice"))


def test_a_wav_file_appears_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "answer.wav"
    output = speech.WavFileOutput(path)
    speaker = speech.VoiceSpeaker(output)
    feed_words(speaker, "A short answer. With two sentences.")
    speaker.finish()
    assert speaker.wait(30)
    assert not path.exists() and os.listdir(tmp_path) == []  # nothing half-written while it is being made
    speaker.close()
    assert os.listdir(tmp_path) == ["answer.wav"]
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)
        duration, loud_share = speech_profile(wav.readframes(wav.getnframes()))
    assert 1.0 < duration < 6.0 and loud_share > 0.4


def test_audio_file_paths_that_cannot_be_written_are_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="does not exist"):
        speech.WavFileOutput(tmp_path / "missing" / "a.wav")
    with pytest.raises(BadInputError, match="is a folder"):
        speech.WavFileOutput(tmp_path)


def test_earcons_are_short_sounds_played_in_order_with_speech(tmp_path: Path) -> None:
    for name in speech.EARCONS:
        pcm = speech.load_earcon(name)
        assert pcm is not None and 0.1 < pcm.duration_s < 0.5
        assert speech_profile(pcm.data, pcm.rate)[1] > 0.5
    assert speech.load_earcon("no-such-sound") is None
    plain, with_earcons = tmp_path / "plain.wav", tmp_path / "earcons.wav"
    for path, earcons in ((plain, False), (with_earcons, True)):
        speaker = speech.VoiceSpeaker(speech.WavFileOutput(path), earcons=earcons)
        speaker.earcon("start")
        speaker.feed("Done.")
        speaker.earcon("done")
        speaker.finish()
        speaker.wait(30)
        speaker.close()
    extra = speech.Pcm.from_wav(with_earcons).duration_s - speech.Pcm.from_wav(plain).duration_s
    earcons_s = sum(pcm.duration_s for pcm in map(speech.load_earcon, ("start", "done")) if pcm is not None)
    assert extra == pytest.approx(earcons_s, abs=0.03)


# --- The command line -------------------------------------------------------------------------------------------


# --- Real audio, recorded from the virtual speaker --------------------------------------------------------------


@pytest.fixture
def voice(audio_server: PrivatePulse, qapp: object) -> Iterator[speech.VoiceSpeaker]:
    speaker = speech.open_speaker()
    yield speaker
    speaker.close()


@pytest.mark.audio
def test_first_sentence_is_heard_while_the_rest_is_still_streaming(recorder: Recorder,
                                                                    voice: speech.VoiceSpeaker) -> None:
    feed_words(voice, "The window shows a settings page.")
    first_complete = time.monotonic()
    for word in "Then it goes on slowly, one word at a time, as a slow model would write it.".split():
        time.sleep(0.15)
        voice.feed(word + " ")
    stream_end = time.monotonic()
    voice.finish()
    first_sound = recorder.first_loud(first_complete)
    assert first_sound is not None, "nothing was heard"
    assert first_sound < stream_end, "the first sentence was not heard before the stream ended"
    assert voice.wait(30)
    assert recorder.loud_seconds(first_complete, time.monotonic()) > 2.0  # both sentences were played


@pytest.mark.audio
def test_stop_silences_the_speaker_within_100_ms(recorder: Recorder, voice: speech.VoiceSpeaker) -> None:
    voice.say("This sentence is long enough to be cut off in the middle, and it goes on and on for a while.")
    assert recorder.first_loud(time.monotonic() - 1) is not None
    time.sleep(0.8)
    assert recorder.wait_until_loud_now(), "the speech paused for too long"
    stopped = time.monotonic()
    voice.stop()
    assert voice.wait(1)
    time.sleep(0.8)
    last = recorder.last_loud(stopped - 1, time.monotonic())
    assert last is not None
    assert last - stopped < 0.1, f"sound went on {last - stopped:.3f} s after stop()"
    assert recorder.loud_seconds(stopped + 0.1, time.monotonic()) == 0
    voice.say("A new answer after the stop.")  # the speaker still works
    assert recorder.first_loud(time.monotonic() - 0.01) is not None
