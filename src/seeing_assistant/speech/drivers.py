"""The speech engines in the order they are tried on this platform, ending with the silent one.

The base class :class:`~seeing_assistant.speech.synthesizer.Synthesizer` knows none of its drivers; this module is
the one place that lists them (as NVDA's synthesizer priority list does), so no driver imports its chooser.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from seeing_assistant.core.errors import SpeechUnavailableError
from seeing_assistant.speech.espeak_ng import EspeakNgSynthesizer
from seeing_assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer
from seeing_assistant.speech.silence import SilentSynthesizer
from seeing_assistant.speech.synthesizer import Synthesizer
from seeing_assistant.speech.voice import VoiceSettings

Driver = Callable[[VoiceSettings | None], Synthesizer]


def drivers() -> list[Driver]:
    """The engines to try, best first, ending with the silent one.

    pyttsx3 first on Windows and macOS (SAPI5, NSSpeechSynthesizer); eSpeak NG first elsewhere, where pyttsx3
    would only drive eSpeak NG less well (see :mod:`seeing_assistant.speech.espeak_ng`).
    """
    platform: str = sys.platform  # a plain string: this decides at run time, whatever platform mypy checks for
    if platform in ("win32", "darwin"):
        return [Pyttsx3Synthesizer, EspeakNgSynthesizer, SilentSynthesizer]
    return [EspeakNgSynthesizer, SilentSynthesizer]


def open_synthesizer(settings: VoiceSettings | None = None) -> Synthesizer:
    """The first driver that starts; the silent one (last) carries the first failure's sentence.

    An unknown voice is the user's mistake, not an engine's failure: it is raised, never passed over.
    """
    problem = ""
    for driver in drivers():
        if driver is SilentSynthesizer:
            return SilentSynthesizer(settings, problem=problem)
        try:
            return driver(settings)
        except SpeechUnavailableError as error:
            problem = problem or str(error)
    return SilentSynthesizer(settings, problem=problem)


def default_synthesizer(settings: VoiceSettings | None = None) -> Synthesizer:
    """The first engine with a voice; SpeechUnavailableError with the reason when only the silent one is left."""
    synthesizer = open_synthesizer(settings)
    if isinstance(synthesizer, SilentSynthesizer):
        raise SpeechUnavailableError(synthesizer.problem)
    return synthesizer
