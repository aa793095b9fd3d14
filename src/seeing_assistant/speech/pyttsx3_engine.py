"""pyttsx3 as a speech engine: SAPI5 on Windows, NSSpeechSynthesizer on macOS, one sentence at a time."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SpeechUnavailableError, short_reason
from seeing_assistant.speech.synthesizer import Synthesizer
from seeing_assistant.speech.voice import Pcm, Voice, VoiceSettings


class Pyttsx3Synthesizer(Synthesizer):
    """pyttsx3's engine for Windows (SAPI5) and macOS (NSSpeechSynthesizer), one sentence at a time.

    Each sentence is saved to a private WAV file, read back and deleted. Not tested on those platforms yet (no such
    machine here); on Linux :class:`EspeakNgSynthesizer` is used.
    """

    name = "pyttsx3"

    def __init__(self, settings: VoiceSettings | None = None) -> None:
        try:
            import pyttsx3

            self._engine = pyttsx3.init()
        except Exception as error:
            raise SpeechUnavailableError(messages.NO_SPEECH_ENGINE.format(reason=short_reason(error))) from error
        self.driver = type(self._engine.proxy._driver).__module__.rsplit(".", 1)[-1]
        _quieten_driver()
        self._folder = tempfile.TemporaryDirectory(prefix="seeing-assistant-speech-")
        self._count = 0
        self.apply(settings or VoiceSettings())

    def apply(self, settings: VoiceSettings) -> None:
        """Use these voice settings from the next sentence on."""
        if settings.voice:
            self._engine.setProperty("voice", self._voice_id(settings.voice))
        if settings.rate:
            self._engine.setProperty("rate", int(settings.rate))
        self._engine.setProperty("volume", min(max(float(settings.volume), 0.0), 1.0))

    def voices(self) -> list[Voice]:
        """The engine's voices, with their language codes where the engine gives them."""
        found = []
        for voice in self._engine.getProperty("voices") or []:
            languages = tuple(
                language.decode(errors="replace").lstrip("\x05") if isinstance(language, bytes) else str(language)
                for language in (getattr(voice, "languages", None) or [])
            )
            found.append(Voice(str(voice.id), str(voice.name or voice.id), languages))
        return found

    def synthesize(self, text: str) -> Pcm:
        """Save ``text`` to a private WAV file with the engine, and return its audio."""
        self._count += 1
        path = Path(self._folder.name) / f"{self._count}.wav"
        try:
            self._engine.save_to_file(text, os.fspath(path))
            self._engine.runAndWait()
            return Pcm.from_wav(path)
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the private folder."""
        self._folder.cleanup()


def _quieten_driver() -> None:
    """pyttsx3's eSpeak driver prints "Audio saved to ..." after every save: that would land in the answer."""
    module = sys.modules.get("pyttsx3.drivers.espeak")
    if module is not None:
        module.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]  # shadows the builtin there only

