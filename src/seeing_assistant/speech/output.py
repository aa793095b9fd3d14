"""The interface every audio output implements: play queued PCM, clear it at once, wait for the end, close."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from seeing_assistant.speech.voice import Pcm


class AudioOutput(ABC):
    """Where the audio goes. ``play`` queues, ``clear`` drops everything and silences at once.

    An output that breaks for good (the sound system went away, the device would not open) sets ``failure`` to a
    short phrase saying why, calls ``on_failed`` with it once, and from then on ``wait`` returns at once: nothing
    waits for sound that cannot come.
    """

    def __init__(self) -> None:
        self.audio_started_at: float | None = None  # time.perf_counter() of the first sample since the last clear
        self.failure: str | None = None
        self.on_failed: Callable[[str], None] | None = None

    @abstractmethod
    def play(self, pcm: Pcm, tag: str | None = None) -> None:
        """Queue ``pcm`` after whatever is already queued; ``tag`` (its sentence) comes back from ``unplayed``."""

    @abstractmethod
    def clear(self) -> None:
        """Drop everything queued and stop the sound now."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been played; False if ``timeout`` ran out first."""

    @abstractmethod
    def close(self) -> None:
        """Release the device or finish the file."""

    def unplayed(self) -> list[str]:
        """The tags of what was queued and not yet heard in full, oldest first (after a failure: what was lost)."""
        return []
