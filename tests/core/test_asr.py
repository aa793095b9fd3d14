"""Spoken questions in the core: reading audio files, and the real Whisper pipeline on a tiny random model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seeing_assistant.core import asr
from seeing_assistant.core.errors import BadInputError, ModelUnavailableError
from tests.support.audio_lab import write_wav


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


