"""The assistant's rules, shared by the command line and the desktop app: one conversation about one image.

Both front ends hand their image and questions to an :class:`AssistantSession`; only the presentation differs. The
rules live here and nowhere else: a blank image is answered without a model (also its follow-ups), the engine is
loaded once and its failure is told to every later question, an empty answer becomes a sentence that says so, the
last answer is kept for Repeat and Copy, and a newer request supersedes (cancels) an older one.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from seeing_assistant.core import grounding, messages
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.errors import BadInputError, SeeingAssistantError, unexpected
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.core.ocr import OcrUnavailableError, ScreenText, TextBlock, spoken_block
from seeing_assistant.core.seams import AnswerLike, EngineFactory, EngineLike, TextCallback, TextReaderLike


@dataclass(frozen=True)
class Reply:
    """What the assistant answered: the whole text, and the engine's figures (None for a blank image)."""

    text: str
    is_cancelled: bool = False
    is_blank: bool = False
    answer: AnswerLike | None = None
    notes: tuple[str, ...] = ()  # sentences to tell once besides the answer (the model answered without OCR text)


class AssistantSession:
    """One conversation at a time; ``ask`` runs on one thread, ``supersede`` and ``stop`` may come from any other.

    ``settings``, when given, are loaded at the first question that needs a model (so a blank image never loads
    one); :meth:`load` loads ahead of time (the desktop app does, at start).
    """

    def __init__(self, factory: EngineFactory, settings: EngineSettings | None = None,
                 reader: TextReaderLike | None = None, text_budget: int | None = None) -> None:
        self._factory = factory
        self._settings = settings
        self._reader = reader
        self._text_budget = text_budget  # tokens of OCR text in a first question; None: by device; 0: none
        self._screen_text: ScreenText | None = None
        self._reading = threading.Lock()  # held while the picture's text is read
        self._ocr_note_told = False
        self._lock = threading.Lock()
        self._engine: EngineLike | None = None
        self._load_error: str | None = None
        self._latest = 0
        self._image: IntakeImage | None = None
        self._conversation: Any = None
        self._answer_so_far = ""
        self._last_answer = ""

    # --- The model -----------------------------------------------------------------------------------------------

    @property
    def engine(self) -> EngineLike | None:
        """The loaded engine, if any."""
        with self._lock:
            return self._engine

    def load(self, settings: EngineSettings) -> EngineLike:
        """Load (or replace) the engine; a failure is raised as one sentence and kept for later questions."""
        with self._lock:
            old, self._engine, self._settings = self._engine, None, settings
            self._load_error = messages.MODEL_STILL_LOADING
            self._conversation = None  # the next question reads the image afresh, with the new model
        if old is not None:
            old.close()  # a server engine's connections and thread
        try:
            engine = self._factory(settings)
        except SeeingAssistantError as error:
            self._set_load_error(str(error))
            raise
        except Exception as error:
            self._set_load_error(unexpected(error))
            raise SeeingAssistantError(unexpected(error)) from error
        with self._lock:
            self._engine, self._load_error = engine, None
        return engine

    def _set_load_error(self, text: str) -> None:
        with self._lock:
            self._load_error = text

    def _ready_engine(self) -> EngineLike:
        with self._lock:
            engine, load_error, settings = self._engine, self._load_error, self._settings
        if engine is not None:
            return engine
        if load_error is not None or settings is None:
            raise SeeingAssistantError(load_error or messages.MODEL_STILL_LOADING)
        return self.load(settings)

    # --- Requests ------------------------------------------------------------------------------------------------

    def supersede(self, request_id: int) -> None:
        """``request_id`` is now the one that matters: stop anything older at once (from any thread)."""
        with self._lock:
            self._latest = request_id
            if self._answer_so_far:  # what was written of a stopped answer is now the last answer
                self._last_answer, self._answer_so_far = self._answer_so_far, ""
            engine = self._engine
        if engine is not None:
            engine.cancel()

    def stop(self) -> None:
        """Cancel the answer being written (Ctrl+C, Stop)."""
        with self._lock:
            latest = self._latest
        self.supersede(latest + 1)

    def is_current(self, request_id: int) -> bool:
        """Whether no newer request has come in since ``request_id``."""
        with self._lock:
            return request_id == self._latest

    # --- The conversation ----------------------------------------------------------------------------------------

    def begin(self, image: IntakeImage) -> None:
        """Start a new conversation about ``image`` (the model reads it at the first question)."""
        with self._lock:
            self._image, self._conversation, self._screen_text = image, None, None
            self._last_answer = self._answer_so_far = ""

    def forget(self) -> None:
        """Forget the image and the turns (New conversation; may come from any thread)."""
        with self._lock:
            self._image, self._conversation, self._screen_text = None, None, None
            self._last_answer = self._answer_so_far = ""

    @property
    def last_answer(self) -> str:
        """The last answer written to the end (or stopped part-way): what Repeat says."""
        with self._lock:
            return self._last_answer

    @property
    def latest_text(self) -> str:
        """What is written of the answer under way, else the last answer: what Copy copies."""
        with self._lock:
            return self._answer_so_far or self._last_answer

    def prepare(self) -> bool:
        """Load the model now if the conversation's image needs one; False when it does not (a blank image).

        Loading ahead lets a front end tell loading apart from answering (the command line's Ctrl+C ends a load).
        """
        with self._lock:
            image = self._image
        if image is None or image.is_blank:
            return False
        self._ready_engine()
        return True

    def _remember(self, text: str, is_done: bool) -> None:
        with self._lock:
            if is_done:
                self._last_answer, self._answer_so_far = text, ""
            else:
                self._answer_so_far = text

    def _start(self, request_id: int | None, on_text: TextCallback | None) -> tuple[_Writer, IntakeImage]:
        """A writer for the request, and the conversation's image (one sentence when there is none)."""
        with self._lock:
            request = self._latest if request_id is None else request_id
            image = self._image
        if image is None:
            raise BadInputError(messages.NO_IMAGE_YET)
        return _Writer(self, request, on_text), image

    def ask(self, question: str, on_text: TextCallback | None = None, request_id: int | None = None,
            max_new_tokens: int | None = None) -> Reply:
        """Answer ``question`` about the conversation's image, streaming each piece to ``on_text``.

        ``request_id`` (default: the current one) stops being streamed as soon as a newer request supersedes it.
        The first question about a screen, a window or a picture full of text carries the picture's OCR text (see
        :mod:`~seeing_assistant.core.grounding`). Raises :class:`SeeingAssistantError` with one sentence; anything
        unforeseen becomes one too.
        """
        writer, image = self._start(request_id, on_text)
        if image.is_blank:
            return writer.blank(image)
        notes: list[str] = []
        with writer.failing():
            engine = self._ready_engine()
            if not self.is_current(writer.request):
                return Reply("", is_cancelled=True)
            with self._lock:
                conversation = self._conversation
            if conversation is None:
                question = self._grounded(image, question, engine, notes)
                conversation = engine.start(image)
                with self._lock:
                    if self._image is image:
                        self._conversation = conversation

            def on_piece(piece: str) -> None:
                if self.is_current(writer.request):
                    writer.send(piece)
                else:
                    engine.cancel()

            answer = engine.ask(conversation, question, on_text=on_piece, max_new_tokens=max_new_tokens)
        if not writer.written.strip() and not answer.is_cancelled:
            writer.send(messages.EMPTY_ANSWER)
        return writer.done(Reply(answer.text or writer.written.strip(), answer.is_cancelled, answer=answer,
                                 notes=tuple(notes)))

    # --- The picture's text ----------------------------------------------------------------------------------------

    @property
    def reader(self) -> TextReaderLike | None:
        """The text recogniser, if there is one."""
        return self._reader

    def _grounded(self, image: IntakeImage, question: str, engine: EngineLike, notes: list[str]) -> str:
        """The first question with the picture's OCR text before it, when there is a reader and the picture has text.

        A failing reader becomes one note (told once per session); the model then answers from the picture alone.
        """
        if self._reader is None or self._text_budget == 0:
            return question
        is_screen = image.source in (messages.THE_SCREEN, messages.THE_ACTIVE_WINDOW)
        try:
            screen = self.screen_text()
        except SeeingAssistantError as error:
            with self._lock:
                is_new, self._ocr_note_told = not self._ocr_note_told, True
            if is_new:
                notes.append(messages.OCR_FALLBACK.format(reason=str(error)))
            return question
        if not is_screen and len(screen.lines) < grounding.TEXT_HEAVY_LINES:
            return question
        placement = engine.placement
        device = "server" if engine.is_remote else placement.device if placement else None
        budget = (self._text_budget if self._text_budget is not None
                  else grounding.budget_for(device, engine.text_tokens_per_s))
        return grounding.grounded(question, screen, budget, image.focus)

    def screen_text(self, on_block: Callable[[TextBlock, TextBlock | None], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> ScreenText:
        """The conversation's picture's text, read once per conversation (later calls hand the same back).

        ``on_block`` hears each block as it is read (or, once read, each block at once).
        """
        if self._reader is None:
            raise OcrUnavailableError(messages.OCR_UNAVAILABLE.format(reason="is not set up"))
        with self._reading:  # Read screen text and a first question at once: one reads, the other gets its text
            return self._screen_text_once(self._reader, on_block, should_stop)

    def _screen_text_once(self, reader: TextReaderLike,
                          on_block: Callable[[TextBlock, TextBlock | None], None] | None,
                          should_stop: Callable[[], bool] | None) -> ScreenText:
        with self._lock:
            image, screen = self._image, self._screen_text
        if image is None:
            raise BadInputError(messages.NO_IMAGE_YET)
        if screen is None:
            stopped = False

            def stop_here() -> bool:
                nonlocal stopped
                stopped = stopped or (should_stop is not None and should_stop())
                return stopped

            screen = reader.read(image.image, on_block=on_block, should_stop=stop_here)
            if not stopped:
                with self._lock:
                    if self._image is image:
                        self._screen_text = screen
            return screen
        if on_block is not None:
            for block, previous in screen.with_previous():
                on_block(block, previous)
        return screen

    def read_text(self, on_text: TextCallback | None = None, request_id: int | None = None) -> Reply:
        """Read the picture's text aloud in reading order, without the model: each block streamed as it is read."""
        writer, image = self._start(request_id, on_text)
        if image.is_blank:
            return writer.blank(image)

        def on_block(block: TextBlock, previous: TextBlock | None) -> None:
            if self.is_current(writer.request):
                writer.send(spoken_block(block, previous))

        with writer.failing():
            screen = self.screen_text(on_block, should_stop=lambda: not self.is_current(writer.request))
        if not self.is_current(writer.request):
            return Reply(writer.written.strip(), is_cancelled=True)
        if screen.is_empty:
            writer.send(messages.NO_TEXT_FOUND.format(source=image.source))
        return writer.done(Reply(writer.written.strip()))


class _Writer:
    """One request's answer as it is written: streamed on, kept for Repeat and Copy unless a newer one came."""

    def __init__(self, session: AssistantSession, request: int, on_text: TextCallback | None) -> None:
        self.session, self.request, self.on_text = session, request, on_text
        self.written = ""

    def send(self, piece: str) -> None:
        self.written += piece
        self.session._remember(self.written, is_done=False)
        if self.on_text is not None:
            self.on_text(piece)

    def blank(self, image: IntakeImage) -> Reply:
        # A single colour shows nothing: say so without the model, also to follow-ups, and invent nothing.
        self.send(image.blank_answer())
        return self.done(Reply(self.written, is_blank=True))

    @contextlib.contextmanager
    def failing(self) -> Iterator[None]:
        """A failure inside becomes one sentence (anything unforeseen too), neither repeated nor copied."""
        try:
            yield
        except Exception as error:
            if self.session.is_current(self.request):
                self.session._remember("", is_done=False)
            if isinstance(error, SeeingAssistantError):
                raise
            raise SeeingAssistantError(unexpected(error)) from error

    def done(self, reply: Reply) -> Reply:
        # A superseded answer was kept when it was superseded; it never replaces a newer one.
        if self.session.is_current(self.request):
            self.session._remember(reply.text, is_done=True)
        return reply
