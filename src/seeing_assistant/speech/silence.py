"""The silent speech engine: the last of the ordered list of drivers, taken when no engine with a voice starts.

Like NVDA's ``synthDrivers/silence.py``: a real driver that makes no sound, so that choosing an engine always ends
with one. It carries the sentence that says why there is no voice; a speaker that is given it tells the user that
sentence instead of falling silent without a word.
"""

from __future__ import annotations

from seeing_assistant.speech.synthesizer import Synthesizer
from seeing_assistant.speech.voice import Pcm, Voice, VoiceSettings


class SilentSynthesizer(Synthesizer):
    """Makes no sound; ``problem`` says why no engine with a voice could be started."""

    name = "silence"

    def __init__(self, settings: VoiceSettings | None = None, problem: str = "") -> None:
        self.problem = problem

    def synthesize(self, text: str) -> Pcm:
        """No audio at all."""
        return Pcm(b"", 22050)

    def voices(self) -> list[Voice]:
        """No voices."""
        return []
