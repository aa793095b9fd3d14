"""The real engine and speech recogniser, made from settings; imported where they are needed.

Kept apart from :mod:`~seeing_assistant.core.seams` (the interfaces) so that the interfaces import no engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seeing_assistant.core.engine_settings import EngineSettings
    from seeing_assistant.core.seams import EngineLike, RecognizerLike


def load_engine(settings: EngineSettings) -> EngineLike:
    """The real engine: the model server when one is chosen, else the local model.

    Imported here, where it is needed, so that torch stays off the window's start-up path.
    """
    if settings.server is not None:
        from seeing_assistant.core.server_engine import ServerEngine

        return ServerEngine.load(settings)
    from seeing_assistant.core.engine import Engine

    return Engine.load(settings)


def load_recognizer(model: str) -> RecognizerLike:
    """The real speech recogniser."""
    from seeing_assistant.core.asr import Recognizer

    return Recognizer.load(model)
