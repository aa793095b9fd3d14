"""The engine's thread for the desktop app: a Qt adapter that turns the assistant session's work into signals.

The window talks to it only by signals (queued across threads). Each request is made by the session on the GUI
thread when the user presses (:meth:`AssistantSession.new_request`), which cancels the request before it at once,
wherever it is; a request cancelled before it starts is dropped, so ten quick presses of Describe give one answer,
not ten queued ones. The rules of answering live in :class:`~seeing_assistant.core.session.AssistantSession`, shared
with the command line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from seeing_assistant.core import messages
from seeing_assistant.core.asr import Audio
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.errors import SeeingAssistantError, short_reason, unexpected
from seeing_assistant.core.factories import load_engine, load_recognizer
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.core.seams import EngineFactory, RecognizerFactory, RecognizerLike, TextReaderLike
from seeing_assistant.core.session import AssistantSession, Reply, Ticket
from seeing_assistant.qt_signals import emit


@dataclass(frozen=True)
class Request:
    """One thing to answer: a new image with a question, or a follow-up question (``image`` None).

    The image is already the session's when the request is sent: it is carried here only to say what it is about.
    """

    ticket: Ticket
    question: str
    image: IntakeImage | None = None
    max_new_tokens: int | None = None

    @property
    def id(self) -> int:
        """The request's number, which the signals carry."""
        return self.ticket.id


class EngineWorker(QObject):
    """Loads the model and answers requests on its own thread.

    Signals:
        loading(model), loaded(sentence), load_failed(sentence): the model's state.
        started(request id), chunk(request id, piece), finished(request id, Reply), failed(request id, sentence).
        transcribed(request id, text, seconds), transcribe_failed(request id, sentence): spoken questions.
    """

    # Sent by the window (queued onto the worker's thread).
    load_requested = Signal(object)  # EngineSettings
    answer_requested = Signal(object)  # Request
    asr_load_requested = Signal(str)  # model
    transcribe_requested = Signal(int, object)  # request id, asr.Audio
    # Sent to the window.
    loading = Signal(str)
    loaded = Signal(str)
    load_failed = Signal(str)
    started = Signal(int)
    chunk = Signal(int, str)
    finished = Signal(int, object)  # request id, session.Reply
    failed = Signal(int, str)
    transcribed = Signal(int, str, float)
    transcribe_failed = Signal(int, str)

    def __init__(self, factory: EngineFactory = load_engine,
                 recognizer_factory: RecognizerFactory = load_recognizer, reader: TextReaderLike | None = None,
                 text_budget: int | None = None) -> None:
        super().__init__()
        self.session = AssistantSession(factory, reader=reader, text_budget=text_budget)
        self._recognizer_factory = recognizer_factory
        self._recognizer: RecognizerLike | None = None
        self._recognizer_model: str | None = None
        self._recognizer_error: str | None = None
        self.load_requested.connect(self._load)
        self.answer_requested.connect(self._answer)
        self.asr_load_requested.connect(self._load_asr)
        self.transcribe_requested.connect(self._transcribe)

    @Slot(object)
    def _load(self, settings: EngineSettings) -> None:
        server = settings.server
        try:  # an address the engine refuses (a key written into it) is one sentence, not a thread's traceback
            emit(self.loading, messages.SERVER_CONNECTING.format(url=server.base_url) if server is not None
                 else messages.MODEL_LOADING.format(model=settings.model))
            engine = self.session.load(settings)
        except SeeingAssistantError as error:
            emit(self.load_failed, str(error))
            return
        placement = engine.placement
        if server is not None:
            emit(self.loaded, messages.SERVER_READY.format(model=getattr(engine, "model_name", server.model),
                                                           url=server.base_url))
            return
        where = f"{placement.device}, {placement.dtype}" if placement is not None else "ready"
        emit(self.loaded, messages.MODEL_READY.format(model=settings.model, where=where))

    @Slot(object)
    def _answer(self, request: Request) -> None:
        serve(self, request, lambda on_text: self.session.ask(request.question, on_text, request.ticket,
                                                              request.max_new_tokens))

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
    def _transcribe(self, request_id: int, audio: Audio) -> None:
        if not self.session.is_current(request_id):
            return
        if self._recognizer is None:
            emit(self.transcribe_failed, request_id, self._recognizer_error or messages.TRANSCRIPTION_FAILED.format(
                reason="no speech recognition model is loaded"))
            return
        try:
            transcript = self._recognizer.transcribe(audio)
        except SeeingAssistantError as error:
            emit(self.transcribe_failed, request_id, str(error))
            return
        except Exception as error:  # noqa: BLE001 - one sentence; the app keeps running
            emit(self.transcribe_failed, request_id, messages.TRANSCRIPTION_FAILED.format(reason=short_reason(error)))
            return
        emit(self.transcribed, request_id, transcript.text, transcript.seconds)


class TextWorker(QObject):
    """Reads pictures' text on a thread of its own, so that Read screen text never waits for the model to load.

    It shares the engine worker's session: the text read here is the text the model's first question carries.
    Signals as :class:`EngineWorker`'s: started, chunk, finished, failed (each with the request id).
    """

    load_requested = Signal()
    read_requested = Signal(object)  # Request
    started = Signal(int)
    chunk = Signal(int, str)
    finished = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, session: AssistantSession) -> None:
        super().__init__()
        self.session = session
        self.load_requested.connect(self._load)
        self.read_requested.connect(self._read)

    @Slot()
    def _load(self) -> None:
        """Load the recogniser in the background at start; a failure is kept and told at the first read."""
        reader = self.session.reader
        if reader is None:
            return
        with contextlib.suppress(SeeingAssistantError):  # kept by the reader, and told when the text is asked for
            reader.load()

    @Slot(object)
    def _read(self, request: Request) -> None:
        serve(self, request, lambda on_text: self.session.read_text(on_text, request.ticket))


def serve(worker: EngineWorker | TextWorker, request: Request,
          work: Callable[[Callable[[str], None]], Reply]) -> None:
    """Carry out ``request`` on the worker's thread, signalling its pieces, its end or its failure with its id.

    A request stopped or superseded while it waited is dropped (its picture is the session's all the same).
    """
    if not worker.session.is_current(request.ticket):
        return  # stopped, or a newer request came in, while this one waited
    emit(worker.started, request.id)
    try:
        reply = work(lambda piece: emit(worker.chunk, request.id, piece))
    except SeeingAssistantError as error:
        emit(worker.failed, request.id, str(error))
        return
    emit(worker.finished, request.id, reply)
