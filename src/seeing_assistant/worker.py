"""The engine's thread for the desktop app: one long-lived worker object that owns the engine.

The window talks to it only by signals (queued across threads) and one direct call, :meth:`EngineWorker.supersede`,
which marks a newer request and cancels the running answer from the GUI thread. A request that has been superseded
before it starts is dropped, so ten quick presses of Describe give one answer, not ten queued ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from seeing_assistant import messages
from seeing_assistant.errors import SeeingAssistantError, short_reason, unexpected
from seeing_assistant.intake import IntakeImage


@dataclass(frozen=True)
class Request:
    """One thing to answer: a new image with a question, or a follow-up question (``image`` None)."""

    id: int
    question: str
    image: IntakeImage | None = None
    max_new_tokens: int | None = None


EngineFactory = Callable[[Any], Any]  # EngineSettings -> an object with start/ask/cancel, like engine.Engine
RecognizerFactory = Callable[[str], Any]  # model -> an object with transcribe(audio), like asr.Recognizer


def load_recognizer(model: str) -> Any:
    """The real speech recogniser (imported on the worker thread)."""
    from seeing_assistant.asr import Recognizer

    return Recognizer.load(model)


def load_engine(settings: Any) -> Any:
    """The real engine (imported here, on the worker thread, so that torch stays off the start-up path)."""
    from seeing_assistant.engine import Engine

    return Engine.load(settings)


class EngineWorker(QObject):
    """Loads the model and answers requests on its own thread."""

    # Sent by the window (queued onto the worker's thread).
    load_requested = Signal(object)  # EngineSettings
    answer_requested = Signal(object)  # Request
    # Sent to the window.
    loading = Signal(str)  # model name
    loaded = Signal(str)  # a sentence: where and how it runs
    load_failed = Signal(str)
    started = Signal(int)
    chunk = Signal(int, str)
    finished = Signal(int, object)  # request id, details (dict)
    failed = Signal(int, str)
    # Spoken questions.
    asr_load_requested = Signal(str)  # model
    transcribe_requested = Signal(int, object)  # request id, asr.Audio
    transcribed = Signal(int, str, float)  # request id, text, seconds it took
    transcribe_failed = Signal(int, str)

    def __init__(self, factory: EngineFactory = load_engine,
                 recognizer_factory: RecognizerFactory = load_recognizer) -> None:
        super().__init__()
        self._factory = factory
        self._recognizer_factory = recognizer_factory
        self._recognizer: Any = None
        self._recognizer_model: str | None = None
        self._recognizer_error: str | None = None
        self._lock = threading.Lock()
        self._latest = 0
        self._engine: Any = None
        self._load_error: str | None = messages.MODEL_STILL_LOADING
        self._conversation: Any = None
        self._blank: IntakeImage | None = None
        self.load_requested.connect(self._load)
        self.answer_requested.connect(self._answer)
        self.asr_load_requested.connect(self._load_asr)
        self.transcribe_requested.connect(self._transcribe)

    def supersede(self, request_id: int) -> None:
        """Called from the window's thread: ``request_id`` is now the one that matters; stop anything older."""
        with self._lock:
            self._latest = request_id
            engine = self._engine
        if engine is not None:
            engine.cancel()

    def _is_current(self, request_id: int) -> bool:
        with self._lock:
            return request_id == self._latest

    @Slot(object)
    def _load(self, settings: Any) -> None:
        self.loading.emit(settings.model)
        with self._lock:
            self._engine = None
            self._load_error = messages.MODEL_STILL_LOADING
        self._conversation = None
        try:
            engine = self._factory(settings)
        except SeeingAssistantError as error:
            self._set_load_error(str(error))
            return
        except Exception as error:  # noqa: BLE001 - the app keeps running; the user gets one sentence
            self._set_load_error(unexpected(error))
            return
        with self._lock:
            self._engine = engine
            self._load_error = None
        placement = getattr(engine, "placement", None)
        where = f"{placement.device}, {placement.dtype}" if placement is not None else "ready"
        self.loaded.emit(messages.MODEL_READY.format(model=settings.model, where=where))

    def _set_load_error(self, text: str) -> None:
        with self._lock:
            self._load_error = text
        self.load_failed.emit(text)

    @Slot(object)
    def _answer(self, request: Request) -> None:
        if not self._is_current(request.id):
            return  # a newer request came in while this one waited
        self.started.emit(request.id)
        if request.image is not None:
            self._blank = request.image if request.image.is_blank else None
        if self._blank is not None:
            # A single colour shows nothing: say so without the model, also to follow-ups, and invent nothing.
            text = self._blank.blank_answer()
            self._conversation = None
            self.chunk.emit(request.id, text)
            self.finished.emit(request.id, {"text": text, "is_cancelled": False, "is_blank": True})
            return
        with self._lock:
            engine, load_error = self._engine, self._load_error
        if engine is None:
            self.failed.emit(request.id, load_error or messages.MODEL_STILL_LOADING)
            return
        if request.image is not None:
            self._conversation = engine.start(request.image)
        elif self._conversation is None:
            self.failed.emit(request.id, messages.NO_IMAGE_YET)
            return

        def on_text(piece: str) -> None:
            if self._is_current(request.id):
                self.chunk.emit(request.id, piece)
            else:
                engine.cancel()

        try:
            answer = engine.ask(self._conversation, request.question, on_text=on_text,
                                max_new_tokens=request.max_new_tokens)
        except SeeingAssistantError as error:
            self.failed.emit(request.id, str(error))
            return
        except Exception as error:  # noqa: BLE001 - the app keeps running; the user gets one sentence
            self.failed.emit(request.id, unexpected(error))
            return
        self.finished.emit(request.id, {
            "text": answer.text,
            "is_cancelled": answer.is_cancelled,
            "time_to_first_token_s": answer.time_to_first_token_s,
            "new_tokens": answer.new_tokens,
            "tokens_per_s": answer.tokens_per_s,
        })

    @Slot(str)
    def _load_asr(self, model: str) -> None:
        """Load the speech recogniser in the background; a failure is kept and told when it is needed."""
        if self._recognizer is not None and self._recognizer_model == model:
            return
        self._recognizer, self._recognizer_model, self._recognizer_error = None, model, None
        try:
            self._recognizer = self._recognizer_factory(model)
        except SeeingAssistantError as error:
            self._recognizer_error = str(error)
        except Exception as error:  # noqa: BLE001 - kept as one sentence for when the user speaks
            self._recognizer_error = unexpected(error)

    @Slot(int, object)
    def _transcribe(self, request_id: int, audio: Any) -> None:
        if not self._is_current(request_id):
            return
        if self._recognizer is None:
            self.transcribe_failed.emit(request_id, self._recognizer_error or messages.TRANSCRIPTION_FAILED.format(
                reason="no speech recognition model is loaded"))
            return
        try:
            transcript = self._recognizer.transcribe(audio)
        except SeeingAssistantError as error:
            self.transcribe_failed.emit(request_id, str(error))
            return
        except Exception as error:  # noqa: BLE001 - one sentence; the app keeps running
            self.transcribe_failed.emit(request_id, messages.TRANSCRIPTION_FAILED.format(reason=short_reason(error)))
            return
        self.transcribed.emit(request_id, transcript.text, transcript.seconds)
