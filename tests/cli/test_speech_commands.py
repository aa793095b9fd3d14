"""The speech commands as a user runs them: `say`, `describe --speak` and `--audio-out`, Ctrl+C, and `doctor`."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from seeing_assistant import speech
from tests.support.audio_lab import PrivatePulse, Recorder, speech_profile
from tests.support.cli import COMMAND, run_cli
from tests.support.speech_dispatcher import SINK, PrivateSpeechDispatcher


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


@pytest.mark.audio
def test_describe_speak_through_the_screen_reader_is_heard_in_its_voice_only(
        speechd: PrivateSpeechDispatcher, audio_server: PrivatePulse, tiny_model: Path, photo: Path,
        env: dict[str, str]) -> None:
    with Recorder(audio_server, SINK) as screen_reader, Recorder(audio_server) as app_voice:
        started = time.monotonic()
        done = run_cli(["describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "20", "--speak",
                        "screen-reader", "--earcons"], {**env, **speechd.env})
        ended = time.monotonic()
        assert (done.returncode, done.stderr) == (0, "")
        assert screen_reader.loud_seconds(started, ended) > 0.5 and app_voice.loud_seconds(started, ended) == 0


def test_speak_through_an_unreachable_screen_reader_prints_the_answer_and_one_warning(
        tiny_model: Path, photo: Path, env: dict[str, str], tmp_path: Path) -> None:
    done = run_cli(["describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "10", "--speak",
                    "screen-reader"], {**env, "SPEECHD_ADDRESS": f"unix_socket:{tmp_path}/none.sock"})
    assert done.returncode == 0 and done.stdout.strip()
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("seeing-assistant: warning: The screen reader's speech (speech-dispatcher) could "
                                  "not be reached")
