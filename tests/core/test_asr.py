"""Spoken questions: reading audio files, the real Whisper pipeline on a tiny random model, the CLI, and the app
recording a question that espeak-ng speaks into a private PulseAudio virtual microphone."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from seeing_assistant import speech
from seeing_assistant.core import asr, messages, settings
from seeing_assistant.core.errors import BadInputError, ModelUnavailableError
from seeing_assistant.core.seams import load_engine, load_recognizer
from seeing_assistant.desktop.main_window import MainWindow
from tests.support.audio_lab import PrivatePulse
from tests.support.cli import run_cli

QUESTION = "What colour is the big button?"


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A question spoken by eSpeak NG (22,050 Hz mono WAV)."""
    path = tmp_path_factory.mktemp("audio") / "question.wav"
    subprocess.run(["espeak-ng", "-w", str(path), QUESTION], check=True, timeout=60)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int, width: int, channels: int = 1) -> Path:
    scaled = {1: lambda x: (x * 127 + 128).astype(np.uint8).tobytes(),
              2: lambda x: (x * 32767).astype("<i2").tobytes(),
              3: lambda x: b"".join(struct.pack("<i", int(v * 8388607))[:3] for v in x),
              4: lambda x: (x * 2147483647).astype("<i4").tobytes()}[width]
    interleaved = np.repeat(samples, channels) if channels > 1 else samples
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(scaled(interleaved))
    return path


@pytest.mark.parametrize(("rate", "width", "channels"), [(16000, 2, 1), (44100, 2, 2), (8000, 1, 1), (48000, 3, 1),
                                                         (22050, 4, 2)])
def test_wav_files_of_any_common_kind_become_16_khz_mono(tmp_path: Path, rate: int, width: int,
                                                         channels: int) -> None:
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(int(rate * 1.5)) / rate)
    audio = asr.load_wav(write_wav(tmp_path / "a.wav", tone, rate, width, channels))
    assert audio.duration_s == pytest.approx(1.5, abs=0.01)
    assert audio.level == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    assert audio.samples.dtype == np.float32


def test_bad_audio_gets_one_sentence(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(BadInputError, match="is not audio this app can read"):
        asr.load_wav(corrupt)
    with pytest.raises(BadInputError, match="There is no file"):
        asr.load_wav(tmp_path / "missing.wav")
    short = write_wav(tmp_path / "short.wav", 0.5 * np.ones(1600), 16000, 2)
    with pytest.raises(BadInputError, match="too short to hold a question"):
        asr.load_wav(short).checked()
    silent = write_wav(tmp_path / "silent.wav", np.zeros(32000), 16000, 2)
    with pytest.raises(BadInputError, match="Nothing was heard"):
        asr.load_wav(silent).checked()


def test_the_tiny_whisper_runs_the_real_pipeline(tiny_whisper: Path, spoken: Path) -> None:
    recognizer = asr.Recognizer.load(str(tiny_whisper))
    assert type(recognizer.pipeline.model).__name__ == "WhisperForConditionalGeneration"
    transcript = recognizer.transcribe(asr.load_wav(spoken))
    assert transcript.text and set(transcript.text) <= set("abcdefghijklmnopqrstuvwxyz ")
    assert transcript.audio_s == pytest.approx(asr.load_wav(spoken).duration_s)
    assert 0 < transcript.real_time_factor < 5
    with pytest.raises(ModelUnavailableError, match="download --asr"):
        asr.Recognizer.load("someone/no-such-whisper")


def test_transcribe_command(tiny_whisper: Path, spoken: Path, tmp_path: Path, env: dict[str, str]) -> None:
    done = run_cli(["transcribe", str(spoken), "--asr-model", str(tiny_whisper), "--json"], env)
    assert done.returncode == 0, done.stderr
    import json

    result = json.loads(done.stdout)
    assert result["text"] and result["audio_s"] == pytest.approx(1.9, abs=0.5) and result["real_time_factor"] > 0
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(os.urandom(300))
    bad = run_cli(["transcribe", str(corrupt), "--asr-model", str(tiny_whisper)], env)
    assert bad.returncode == 2
    assert bad.stderr == f"seeing-assistant: error: {messages.NOT_AUDIO.format(source=corrupt)}\n"
    missing = run_cli(["transcribe", str(spoken)], env)
    assert missing.returncode == 3 and "seeing-assistant download --asr" in missing.stderr


def test_describe_with_a_spoken_question(tiny_whisper: Path, tiny_model: Path, spoken: Path, photo: Path,
                                         env: dict[str, str]) -> None:
    done = run_cli(["describe", str(photo), "--model", str(tiny_model), "--question-audio", str(spoken),
                    "--asr-model", str(tiny_whisper), "--max-new-tokens", "6", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("You asked: ")
    import json

    assert json.loads(done.stdout)["question"] == done.stderr.removeprefix("You asked: ").strip()


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
    assert window.listener.microphone.is_recording and window.speak_button.isChecked()
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
