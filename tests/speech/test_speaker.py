"""Speech output: the speaker's logic, the real eSpeak NG voice, WAV files, the CLI, and real audio recorded from a
private PulseAudio server's virtual speaker."""

from __future__ import annotations

import array
import math
import os
import signal
import subprocess
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
from tests.support.cli import COMMAND, run_cli

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

    def play(self, pcm: speech.Pcm) -> None:
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


def test_say_writes_speech_to_a_wav_file(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "say.wav"
    text = "Seeing Assistant reads the screen aloud."
    done = run_cli(["say", text, "--audio-out", str(path)], env)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    duration, loud_share = speech_profile(speech.Pcm.from_wav(path).data)
    assert 0.15 * 6 < duration < 6.0 and loud_share > 0.4
    piped = run_cli(["say", "-", "--audio-out", str(tmp_path / "piped.wav")], env, stdin=text.encode())
    assert piped.returncode == 0
    assert speech.Pcm.from_wav(tmp_path / "piped.wav").data == speech.Pcm.from_wav(path).data


def test_describe_audio_out_speaks_the_printed_answer(tiny_model: Path, photo: Path, env: dict[str, str],
                                                      tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    done = run_cli(["describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "30",
                    "--audio-out", str(path)], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    answer = done.stdout.strip()
    assert answer
    duration, loud_share = speech_profile(speech.Pcm.from_wav(path).data)
    assert duration > 0.5 and loud_share > 0.3
    # The file holds the answer that was printed: saying the same text gives the same length of audio.
    said = tmp_path / "said.wav"
    said_run = run_cli(["say", "-", "--audio-out", str(said)], env, stdin=answer.encode())
    assert (said_run.returncode, said_run.stderr) == (0, "")
    assert duration == pytest.approx(speech.Pcm.from_wav(said).duration_s, rel=0.15)


def test_speak_without_an_audio_device_prints_the_answer_and_one_warning(
        tiny_model: Path, photo: Path, no_audio_env: dict[str, str]) -> None:
    done = run_cli(["describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "10", "--speak"],
                   no_audio_env)
    assert done.returncode == 0
    assert done.stdout.strip()
    assert done.stderr.splitlines() == [
        "seeing-assistant: warning: No audio output device was found, so nothing can be spoken: connect speakers "
        "or headphones, or check that the sound system (PulseAudio or PipeWire) is running."
    ]
    said = run_cli(["say", "Hello."], no_audio_env)
    assert said.returncode == 1
    assert said.stderr.startswith("seeing-assistant: error: No audio output device was found")
    assert len(said.stderr.splitlines()) == 1


@pytest.mark.parametrize(("args", "expected"), [
    (["say"], "There is no text to say"),
    (["say", "hi", "--rate", "5"], "The speech rate 5 is not a whole number"),
    (["say", "hi", "--volume", "2"], "The volume 2 is not a number from 0 to 1"),
    (["say", "hi", "--voice", "no-such-voice", "--audio-out", "x.wav"], "There is no voice called no-such-voice"),
    (["describe", "PHOTO", "--model", "MODEL", "--audio-out", "/no/such/folder/a.wav"], "The folder /no/such/folder"),
])
def test_bad_speech_options_give_one_line_and_exit_2(args: list[str], expected: str, photo: Path, tiny_model: Path,
                                                     env: dict[str, str], tmp_path: Path) -> None:
    args = [str(photo) if arg == "PHOTO" else str(tiny_model) if arg == "MODEL" else arg for arg in args]
    done = subprocess.run([str(COMMAND), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert done.stderr.startswith(f"seeing-assistant: error: {expected}") and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "x.wav").exists()


# --- Real audio, recorded from the virtual speaker --------------------------------------------------------------


@pytest.fixture
def recorder(audio_server: PrivatePulse) -> Iterator[Recorder]:
    with Recorder(audio_server) as recording:
        yield recording


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


@pytest.mark.audio
def test_describe_speak_plays_the_answer(recorder: Recorder, tiny_model: Path, photo: Path,
                                         env: dict[str, str]) -> None:
    started = time.monotonic()
    done = run_cli(["describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "20", "--speak",
                    "--earcons"], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert recorder.loud_seconds(started, time.monotonic()) > 0.5


@pytest.mark.audio
def test_ctrl_c_silences_say_at_once(recorder: Recorder, env: dict[str, str]) -> None:
    process = subprocess.Popen([str(COMMAND), "say", "A long text that is interrupted by the user pressing Control C "
                                "in the middle of it, long before it has been read to the end."],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if recorder.first_loud(time.monotonic(), timeout=30) is None:
        process.kill()
        pytest.fail(f"nothing was heard: {process.communicate()}")
    time.sleep(0.5)
    assert recorder.wait_until_loud_now()
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and stderr == "seeing-assistant: error: Stopped.\n"
    time.sleep(0.5)
    last = recorder.last_loud(interrupted - 1, time.monotonic())
    assert last is not None and last - interrupted < 0.1


def test_doctor_lists_the_speech_engine_voices_and_outputs(audio_server: PrivatePulse, env: dict[str, str],
                                                           no_audio_env: dict[str, str]) -> None:
    report = run_cli(["doctor"], env).stdout
    assert "Speech:" in report and "engine: eSpeak NG" in report
    assert "English (America) [gmw/en-US]" in report
    assert "audio outputs: VirtualSpeaker (default)" in report
    assert "audio outputs: none: No audio output device was found" in run_cli(["doctor"], no_audio_env).stdout
