"""What speech is made of: voice settings, a voice an engine offers, and PCM audio."""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from typing import Any, BinaryIO


@dataclass(frozen=True)
class VoiceSettings:
    """How the voice sounds.

    ``voice`` is an engine voice id, name or language code; ``rate`` is in words per minute; ``volume`` runs from
    0 to 1. ``None`` keeps the engine's default.
    """

    voice: str | None = None
    rate: int | None = None
    volume: float = 1.0

    @classmethod
    def of(cls, chosen: Any) -> VoiceSettings:
        """The voice part of the app's settings or of the command line's options (the same three names)."""
        return cls(voice=chosen.voice, rate=chosen.rate, volume=chosen.volume)


@dataclass(frozen=True)
class Voice:
    """One voice an engine offers."""

    id: str
    name: str
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pcm:
    """Signed little-endian PCM audio."""

    data: bytes
    rate: int
    channels: int = 1
    width: int = 2

    @property
    def duration_s(self) -> float:
        """How long it plays for."""
        return len(self.data) / (self.rate * self.channels * self.width)

    @property
    def format(self) -> tuple[int, int, int]:
        """What an output needs to know to play it: rate, channels, bytes per sample."""
        return (self.rate, self.channels, self.width)

    @classmethod
    def from_wav(cls, source: str | os.PathLike[str] | BinaryIO) -> Pcm:
        """Read a WAV file or stream (16-bit PCM, the format every speech engine here writes)."""
        target = os.fspath(source) if isinstance(source, (str, os.PathLike)) else source
        with wave.open(target, "rb") as wav:
            return cls(wav.readframes(wav.getnframes()), wav.getframerate(), wav.getnchannels(), wav.getsampwidth())

    def converted(self, wanted: tuple[int, int, int]) -> Pcm:
        """The same audio at another rate or channel count (an earcon recorded differently from the voice), 16-bit."""
        import numpy as np

        from seeing_assistant.core.audio import resample

        rate, channels, width = wanted
        if width != 2 or self.width != 2:
            raise ValueError("only 16-bit audio can be converted")
        mono = np.frombuffer(self.data, dtype="<i2")[:: self.channels].astype(np.float32)  # the first channel
        samples = np.round(resample(mono, self.rate, rate)).astype("<i2")
        if channels > 1:
            samples = np.repeat(samples, channels)
        return Pcm(samples.tobytes(), rate, channels, width)

