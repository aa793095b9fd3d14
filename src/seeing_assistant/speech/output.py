"""The interface every audio output implements: play queued PCM, clear it at once, wait for the end, close."""

from __future__ import annotations

from abc import ABC, abstractmethod

from seeing_assistant.speech.voice import Pcm


class AudioOutput(ABC):
    """Where the audio goes. ``play`` queues, ``clear`` drops everything and silences at once."""

    def __init__(self) -> None:
        self.audio_started_at: float | None = None  # time.perf_counter() of the first sample since the last clear

    @abstractmethod
    def play(self, pcm: Pcm) -> None:
        """Queue ``pcm`` after whatever is already queued."""

    @abstractmethod
    def clear(self) -> None:
        """Drop everything queued and stop the sound now."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been played; False if ``timeout`` ran out first."""

    @abstractmethod
    def close(self) -> None:
        """Release the device or finish the file."""

