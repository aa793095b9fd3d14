"""Answering: send requests to the engine's thread and stream the answers into the conversation and the voice.

One request at a time: a new one supersedes (cancels) the one being answered, and Stop ends it at once.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QProgressBar

from seeing_assistant.core import messages, servers, settings
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.core.seams import EngineFactory, RecognizerFactory, TextReaderLike
from seeing_assistant.core.session import AssistantSession, Reply
from seeing_assistant.desktop.voice import Voice
from seeing_assistant.desktop.widgets import ConversationView
from seeing_assistant.desktop.worker import EngineWorker, Request, TextWorker
from seeing_assistant.qt_signals import emit

TEXT_LOAD_DELAY_MS = 1000


class Answerer(QObject):
    """Owns the engine's thread and the request numbering; writes each answer where the user reads and hears it.

    Signals:
        started(is_quiet): the engine began an answer asked from the window (False) or from outside it (True).
    """

    started = Signal(bool)

    def __init__(self, factory: EngineFactory, recognizer_factory: RecognizerFactory, voice: Voice,
                 conversation: ConversationView, progress: QProgressBar, parent: QObject | None = None,
                 reader: TextReaderLike | None = None, text_budget: int | None = None) -> None:
        super().__init__(parent)
        self.voice = voice
        self.conversation = conversation
        self.progress = progress
        self.answering_id: int | None = None
        self.engine_settings: EngineSettings | None = None  # what the engine was last loaded from
        self.asr_model: str | None = None
        self.is_quiet_answer = False
        self.engine_thread = QThread(self)
        self.engine_thread.setObjectName("seeing-assistant-engine")
        self.worker = EngineWorker(factory, recognizer_factory, reader, text_budget)
        self.worker.moveToThread(self.engine_thread)
        self.engine_thread.finished.connect(self.worker.deleteLater)  # deleted on its own thread, not by the GC
        self.worker.loading.connect(self._on_loading)
        self.worker.loaded.connect(self._on_loaded)
        self.worker.load_failed.connect(self._on_load_failed)
        # The picture's text is read on a thread of its own: Read screen text never waits for the model to load.
        self.text_thread = QThread(self)
        self.text_thread.setObjectName("seeing-assistant-text")
        self.text_worker = TextWorker(self.worker.session)
        self.text_worker.moveToThread(self.text_thread)
        self.text_thread.finished.connect(self.text_worker.deleteLater)
        for worker in (self.worker, self.text_worker):
            worker.started.connect(self._on_started)
            worker.chunk.connect(self._on_chunk)
            worker.finished.connect(self._on_finished)
            worker.failed.connect(self._on_failed)
        self.engine_thread.start()
        self.text_thread.start()

    def load(self, chosen: settings.Settings) -> None:
        """Load the model (and the speech recogniser) in the background, once the event loop runs."""
        # The worker is the timers' context: a window closed before they fire takes them with it.
        engine_settings = self.engine_settings = EngineSettings.of(chosen, servers.of_settings(chosen))
        self.asr_model = chosen.asr_model
        QTimer.singleShot(0, self.worker, lambda: emit(self.worker.load_requested, engine_settings))
        QTimer.singleShot(0, self.worker, lambda: emit(self.worker.asr_load_requested, chosen.asr_model))
        # The text recogniser a moment later: importing it (OpenCV, ONNX Runtime) holds the interpreter long enough
        # to hold up the window's first paint (0.25 s became 0.5 s); a second later it is still loaded long before
        # a user's first press could need it.
        QTimer.singleShot(TEXT_LOAD_DELAY_MS, self.text_worker, lambda: emit(self.text_worker.load_requested))

    def apply(self, chosen: settings.Settings, is_key_changed: bool = False) -> None:
        """Use new settings: the model (or server) is loaded again only when what it is made from changed.

        The engine's settings are compared as the engine is made from them, so no list of fields is kept here.
        """
        engine_settings = EngineSettings.of(chosen, servers.of_settings(chosen))
        if is_key_changed or engine_settings != self.engine_settings:
            self.stop()
            self.engine_settings = engine_settings
            emit(self.worker.load_requested, engine_settings)
        if chosen.asr_model != self.asr_model:
            self.asr_model = chosen.asr_model
            emit(self.worker.asr_load_requested, chosen.asr_model)

    @property
    def is_busy(self) -> bool:
        """Whether an answer is being written."""
        return self.answering_id is not None

    @property
    def last_answer(self) -> str:
        """The last answer (the session keeps it)."""
        return self.worker.session.last_answer

    @property
    def session(self) -> AssistantSession:
        """The assistant's session: the one owner of the conversation's picture and of the request numbering."""
        return self.worker.session

    def next_request(self) -> int:
        """A new request number that supersedes (cancels) every earlier one (answers and transcriptions)."""
        return self.session.new_request().id

    def send(self, question: str, shown: str, status: str, image: IntakeImage | None, max_new_tokens: int,
             quiet: bool = False, echo: str | None = None) -> None:
        """Ask ``question`` (about ``image``, or a follow-up); ``shown`` is what the conversation shows under You."""
        self.stop_current()
        if echo and self.voice.is_speaking_answers:
            self.voice.speaker.say(echo)  # "You asked: ...", then the answer, in order
        ticket = self.session.new_request(image)
        request = self._begin(Request(ticket, question, image, max_new_tokens), shown, status, quiet)
        emit(self.worker.answer_requested, request)

    def read_text(self, image: IntakeImage | None, shown: str, status: str, quiet: bool = False) -> None:
        """Read the text of ``image`` (or of the conversation's picture) aloud in reading order, without the model."""
        self.stop_current()
        request = self._begin(Request(self.session.new_request(image), "", image), shown, status, quiet)
        emit(self.text_worker.read_requested, request)

    def _begin(self, request: Request, shown: str, status: str, quiet: bool) -> Request:
        if request.image is not None:
            self.conversation.clear()
        self.conversation.add_turn(shown)
        self.answering_id = request.id
        self.is_quiet_answer = quiet
        self.progress.show()
        self.voice.announce(status)
        self.voice.speaker.earcon("start")
        return request

    def stop_current(self) -> None:
        """Cancel the answer in progress and silence the speech (a new request interrupts the previous one)."""
        if self.answering_id is not None:
            self.session.stop()
            self._end(messages.ANSWER_STOPPED, announce=False)
        self.voice.speaker.stop()

    def stop(self) -> None:
        """Stop the answer and the speech at once (Stop, Escape)."""
        was_busy = self.is_busy
        self.session.stop()
        self.voice.speaker.stop()
        if was_busy:
            self._end(messages.ANSWER_STOPPED)

    def repeat(self) -> None:
        """Say the last answer again (the tray's and the hotkey's Repeat)."""
        if self.last_answer:
            self.voice.speaker.say(self.last_answer)
        else:
            self.voice.announce(messages.NOTHING_TO_REPEAT, is_error=True)

    def copy(self) -> None:
        """Put the last answer (or what is written of this one) on the clipboard."""
        text = self.worker.session.latest_text
        if not text:
            self.voice.announce(messages.NOTHING_TO_COPY, is_error=True)
            return
        QGuiApplication.clipboard().setText(text)
        self.voice.announce(messages.ANSWER_COPIED)

    def forget(self) -> None:
        """A new conversation: no image, no turns, no last answer."""
        self.conversation.clear()
        self.worker.session.forget()

    def shut_down(self) -> None:
        """Cancel everything and end the engine's thread (the window is closing)."""
        self.session.stop()
        for thread in (self.engine_thread, self.text_thread):
            thread.quit()
        for thread in (self.engine_thread, self.text_thread):
            thread.wait()

    def _end(self, status: str, announce: bool = True) -> None:
        self.conversation.flush()
        self.answering_id = None
        self.progress.hide()
        if announce:
            self.voice.announce(status)

    def _on_loading(self, text: str) -> None:
        self.progress.show()
        # Background news, not an answer to anything the user did: announced, never put before the screen
        # reader's own speech (a model path read aloud held Orca's words back for 6 s at start-up).
        self.voice.announce(text, is_quiet=True)

    def _on_loaded(self, text: str) -> None:
        if not self.is_busy:
            self.progress.hide()
        self.voice.announce(text, is_quiet=True)

    def _on_load_failed(self, text: str) -> None:
        if not self.is_busy:
            self.progress.hide()
        self.voice.announce(text, is_error=True)

    def _on_started(self, request_id: int) -> None:
        if request_id == self.answering_id:
            emit(self.started, self.is_quiet_answer)

    def _on_chunk(self, request_id: int, piece: str) -> None:
        if request_id != self.answering_id:
            return
        self.conversation.stream(piece)
        if self.voice.is_speaking_answers:
            self.voice.speaker.feed(piece)

    def _on_finished(self, request_id: int, reply: Reply) -> None:
        if request_id != self.answering_id:
            return
        if self.voice.is_speaking_answers:
            self.voice.speaker.finish()
            self.voice.speaker.earcon("done")
        self._end(messages.ANSWER_STOPPED if reply.is_cancelled else messages.ANSWER_DONE)
        for note in reply.notes:  # the model answered without the screen's text: told once
            self.voice.announce(note, speak=True)

    def _on_failed(self, request_id: int, text: str) -> None:
        if request_id != self.answering_id:
            return
        self.conversation.flush()
        self.conversation.append_text(text)
        self._end(text, announce=False)
        self.voice.announce(text, is_error=True)
