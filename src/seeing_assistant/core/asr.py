"""Spoken questions: read or record audio, and turn it into text with Whisper through transformers.

The recogniser is transformers' ``automatic-speech-recognition`` pipeline over a Whisper model found on disk
(never downloaded here: ``seeing-assistant download --asr`` does that once). Audio is 16 kHz mono float32.
"""

from __future__ import annotations

import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seeing_assistant.core import devices, messages, model_store
from seeing_assistant.core.audio import resample
from seeing_assistant.core.errors import BadInputError, ModelUnavailableError, SeeingAssistantError, short_reason

RATE = 16000
MIN_SECONDS = 0.4  # shorter than this is a tap of the key, not a question
SILENCE_RMS = 0.01  # full scale is 1.0; a quiet room through a real microphone is well below this
MAX_SECONDS = 120.0


@dataclass(frozen=True)
class Audio:
    """Mono audio at 16 kHz, samples from -1 to 1."""

    samples: Any  # a float32 numpy array
    source: str

    @property
    def duration_s(self) -> float:
        """How long it lasts."""
        return len(self.samples) / RATE

    @property
    def level(self) -> float:
        """Its RMS level (0 to 1)."""
        import numpy as np

        return float(np.sqrt(np.mean(np.square(self.samples)))) if len(self.samples) else 0.0

    def checked(self) -> Audio:
        """Itself, or BadInputError when it is too short or silent to hold a question."""
        if self.duration_s < MIN_SECONDS:
            raise BadInputError(messages.RECORDING_TOO_SHORT.format(source=self.source))
        if self.level < SILENCE_RMS:
            raise BadInputError(messages.RECORDING_SILENT.format(source=self.source))
        return self


def from_pcm16(data: bytes, rate: int, channels: int, source: str) -> Audio:
    """Audio from signed 16-bit little-endian PCM, mixed to mono and resampled to 16 kHz."""
    import numpy as np

    samples = np.frombuffer(data[: len(data) - len(data) % (2 * channels)], dtype="<i2").astype(np.float32) / 32768
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return Audio(resample(samples, rate, RATE), source)


def load_wav(path: str | Path) -> Audio:
    """A WAV file (8, 16, 24 or 32-bit PCM, any rate, mono or stereo), or BadInputError with one sentence."""
    import numpy as np

    source = str(path)
    file = Path(path)
    if not file.exists():
        raise BadInputError(messages.FILE_NOT_FOUND.format(path=path))
    if not file.is_file():
        raise BadInputError(messages.AUDIO_NOT_A_FILE.format(path=path))
    try:
        with wave.open(str(file), "rb") as wav:
            channels, width, rate, count = wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()
            if count / max(rate, 1) > MAX_SECONDS:
                raise BadInputError(messages.AUDIO_TOO_LONG.format(source=source, limit=int(MAX_SECONDS)))
            data = wav.readframes(count)
    except (wave.Error, EOFError, ValueError) as error:
        raise BadInputError(messages.NOT_AUDIO.format(source=source)) from error
    except OSError as error:
        raise BadInputError(messages.FILE_NOT_READABLE.format(path=path, reason=error.strerror or error)) from error
    if not data or channels < 1 or rate < 1000:
        raise BadInputError(messages.NOT_AUDIO.format(source=source))
    if width == 2:
        return from_pcm16(data, rate, channels, source)
    if width == 1:
        samples = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128) / 128
    elif width == 3:
        raw = np.frombuffer(data[: len(data) - len(data) % 3], dtype=np.uint8).reshape(-1, 3)
        joined = raw[:, 0].astype(np.int32) | (raw[:, 1].astype(np.int32) << 8) | (raw[:, 2].astype(np.int32) << 16)
        samples = (np.where(joined >= 1 << 23, joined - (1 << 24), joined)).astype(np.float32) / (1 << 23)
    elif width == 4:
        samples = np.frombuffer(data[: len(data) - len(data) % 4], dtype="<i4").astype(np.float32) / (1 << 31)
    else:
        raise BadInputError(messages.NOT_AUDIO.format(source=source))
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels).mean(axis=1)
    return Audio(resample(samples, rate, RATE), source)


@dataclass(frozen=True)
class Transcript:
    """What was heard, and how long recognising it took."""

    text: str
    audio_s: float
    seconds: float

    @property
    def real_time_factor(self) -> float:
        """Recognition time divided by the audio's length (below 1: faster than real time)."""
        return self.seconds / self.audio_s if self.audio_s else 0.0


class Recognizer:
    """A Whisper model loaded for the automatic-speech-recognition pipeline."""

    def __init__(self, model: str, pipeline: Any, device: str, load_s: float) -> None:
        self.model = model
        self.pipeline = pipeline
        self.device = device
        self.load_s = load_s

    @classmethod
    def load(cls, model: str = model_store.DEFAULT_ASR_MODEL, device: str = "auto") -> Recognizer:
        """Load from disk only; a missing model says to run ``seeing-assistant download --asr``."""
        started = time.perf_counter()
        try:
            folder = model_store.locate(model)
        except ModelUnavailableError:
            raise ModelUnavailableError(messages.ASR_MODEL_NOT_DOWNLOADED.format(model=model)) from None
        placement = devices.resolve(device, "auto", 0)
        import torch
        from transformers import pipeline
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        dtype = torch.float16 if placement.device.startswith("cuda") else torch.float32
        try:
            recognizer = pipeline("automatic-speech-recognition", model=str(folder), device=placement.device,
                                  dtype=dtype)
        except Exception as error:  # noqa: BLE001 - broken or wrong files raise many kinds; all mean "cannot load"
            reason = short_reason(error)
            raise ModelUnavailableError(messages.ASR_MODEL_FAILED.format(model=model, reason=reason)) from None
        return cls(model, recognizer, placement.device, time.perf_counter() - started)

    def transcribe(self, audio: Audio, max_new_tokens: int = 120, min_new_tokens: int | None = None) -> Transcript:
        """The text of ``audio`` (checked first: too short or silent audio is refused)."""
        audio.checked()
        started = time.perf_counter()
        limits = {"max_new_tokens": max_new_tokens}
        if min_new_tokens is not None:
            limits["min_new_tokens"] = min_new_tokens
        try:
            result = self.pipeline({"raw": audio.samples, "sampling_rate": RATE}, generate_kwargs=limits)
        except SeeingAssistantError:
            raise
        except Exception as error:  # noqa: BLE001 - reported as one sentence
            raise SeeingAssistantError(messages.TRANSCRIPTION_FAILED.format(reason=short_reason(error))) from None
        text = " ".join(str(result.get("text", "")).split())
        return Transcript(text, audio.duration_s, time.perf_counter() - started)
