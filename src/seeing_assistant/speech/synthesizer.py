"""The interface every speech engine implements (one module per engine beside this one; ``drivers`` orders them)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from seeing_assistant.core import messages
from seeing_assistant.core.errors import BadInputError
from seeing_assistant.speech.voice import Pcm, Voice


class Synthesizer(ABC):
    """Turns text into audio. Used from one thread only: the one that created it."""

    name = "synthesizer"

    @abstractmethod
    def synthesize(self, text: str) -> Pcm:
        """The audio for ``text``."""

    @abstractmethod
    def voices(self) -> list[Voice]:
        """The voices this engine offers."""

    def close(self) -> None:  # noqa: B027 - most engines hold nothing
        """Release what the engine holds."""

    def _voice_id(self, wanted: str) -> str:
        lowered = wanted.lower()
        voices = self.voices()
        for matches in (
            lambda voice: voice.id == wanted,
            lambda voice: voice.name.lower() == lowered,
            lambda voice: lowered in (language.lower() for language in voice.languages),
        ):
            for voice in voices:
                if matches(voice):
                    return voice.id
        names = ", ".join(sorted({voice.name for voice in voices})[:12])
        raise BadInputError(messages.UNKNOWN_VOICE.format(voice=wanted, names=names))

