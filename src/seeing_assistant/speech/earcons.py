"""Earcons: the short sounds at an answer's start and end and at an error, shipped as package data."""

from __future__ import annotations

import functools
import logging
import wave
from importlib import resources

from seeing_assistant.speech.voice import Pcm

log = logging.getLogger(__name__)

EARCONS = ("start", "done", "error")


@functools.cache  # read once (Pcm is frozen): it is played from the GUI thread at every answer
def load_earcon(name: str) -> Pcm | None:
    """The sound named ``name`` from the package's ``resources/sounds``, or None when it is missing or unreadable."""
    sound = resources.files("seeing_assistant") / "resources" / "sounds" / f"{name}.wav"
    try:
        with resources.as_file(sound) as path:
            return Pcm.from_wav(path)
    except (OSError, wave.Error, EOFError) as error:
        log.info("No earcon %s: %s", name, error)
        return None
