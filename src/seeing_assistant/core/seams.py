"""The narrow interfaces the front ends rely on: an engine, a speech recogniser, and the factories that make them.

The real classes (:class:`~seeing_assistant.core.engine.Engine`, :class:`~seeing_assistant.core.asr.Recognizer`)
and the tests' scripted doubles both satisfy them, which mypy checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from seeing_assistant.core.asr import Audio, Transcript
    from seeing_assistant.core.devices import Placement
    from seeing_assistant.core.engine import EngineSettings
    from seeing_assistant.core.intake import IntakeImage
    from seeing_assistant.core.ocr import ScreenText, TextBlock

TextCallback = Callable[[str], None]


def decode_rate(new_tokens: int, time_to_first_token_s: float | None, total_s: float) -> float | None:
    """Tokens a second after the first one, or None when too few tokens came to measure it (both engines' answers)."""
    if time_to_first_token_s is None or new_tokens < 2:
        return None
    decode_s = total_s - time_to_first_token_s
    return (new_tokens - 1) / decode_s if decode_s > 0 else None


class AnswerLike(Protocol):
    """An engine's answer and its figures."""

    @property
    def text(self) -> str: ...  # noqa: D102 - named by the class
    @property
    def is_cancelled(self) -> bool: ...  # noqa: D102
    @property
    def new_tokens(self) -> int: ...  # noqa: D102
    @property
    def prompt_tokens(self) -> int: ...  # noqa: D102
    @property
    def time_to_first_token_s(self) -> float | None: ...  # noqa: D102
    @property
    def tokens_per_s(self) -> float | None: ...  # noqa: D102
    @property
    def total_s(self) -> float: ...  # noqa: D102


class EngineLike(Protocol):
    """Answers questions about one image at a time, streaming text; ``cancel`` may come from any thread."""

    @property
    def placement(self) -> Placement | None:
        """Where the model runs (None for an engine with no model)."""

    @property
    def load_s(self) -> float:
        """How long loading took."""

    def start(self, image: IntakeImage) -> Any:
        """A new conversation about ``image`` (opaque to the caller, handed back to ``ask``)."""

    def ask(self, conversation: Any, question: str, on_text: TextCallback | None = None,
            max_new_tokens: int | None = None) -> AnswerLike:
        """Answer ``question``, calling ``on_text`` with each new piece."""

    def cancel(self) -> None:
        """Stop the answer being written."""

    @property
    def text_tokens_per_s(self) -> float | None:
        """How fast the model reads a prompt's text on its device (timed at load), or None when unknown."""

    @property
    def is_remote(self) -> bool:
        """Whether the model runs on another computer (a model server), so pictures leave this one."""

    def close(self) -> None:
        """Let go of what the engine holds open (a server engine's connections and thread), when it is replaced."""


class TextReaderLike(Protocol):
    """What the session needs of the text recogniser (:class:`~seeing_assistant.core.ocr.TextReader`)."""

    def load(self) -> None: ...  # noqa: D102 - named by the class

    def read(self, picture: Any, on_block: Callable[[TextBlock, TextBlock | None], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> ScreenText:
        """The picture's text in reading order, each block told to ``on_block`` as it is read."""


class RecognizerLike(Protocol):
    """Turns a spoken question into text."""

    def transcribe(self, audio: Audio) -> Transcript:
        """The text of ``audio``."""


EngineFactory = Callable[["EngineSettings"], EngineLike]
RecognizerFactory = Callable[[str], RecognizerLike]  # the model id or folder -> a recogniser


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
