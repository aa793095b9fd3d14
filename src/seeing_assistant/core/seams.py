"""The narrow interfaces the front ends rely on: an engine, a text reader, a speech recogniser (Protocols only).

The real classes (:class:`~seeing_assistant.core.engine.Engine`, :class:`~seeing_assistant.core.asr.Recognizer`)
and the tests' scripted doubles both satisfy them, which mypy checks; :mod:`~seeing_assistant.core.factories` makes
the real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from seeing_assistant.core.asr import Audio, Transcript
    from seeing_assistant.core.cancel import CancelToken
    from seeing_assistant.core.devices import Placement
    from seeing_assistant.core.engine_settings import EngineSettings
    from seeing_assistant.core.intake import IntakeImage
    from seeing_assistant.core.ocr import ScreenText, TextBlock

TextCallback = Callable[[str], None]


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
    """Answers questions about one image at a time, streaming text; an answer stops when its own token is cancelled."""

    @property
    def placement(self) -> Placement | None:
        """Where the model runs (None for an engine with no model)."""

    @property
    def load_s(self) -> float:
        """How long loading took."""

    def start(self, image: IntakeImage) -> Any:
        """A new conversation about ``image`` (opaque to the caller, handed back to ``ask``)."""

    def ask(self, conversation: Any, question: str, on_text: TextCallback | None = None,
            max_new_tokens: int | None = None, cancel: CancelToken | None = None) -> AnswerLike:
        """Answer ``question``, calling ``on_text`` with each new piece; returns within 100 ms of ``cancel``."""

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
