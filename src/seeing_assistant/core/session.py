"""The assistant's rules, shared by the command line and the desktop app: one conversation about one image.

Both front ends hand their image and questions to an :class:`AssistantSession`; only the presentation differs. The
rules live here and nowhere else: a blank image is answered without a model (also its follow-ups), the engine is
loaded once and its failure is told to every later question, an empty answer becomes a sentence that says so, the
last answer is kept for Repeat and Copy, and a newer request supersedes (cancels) an older one.

The session is the one owner of the conversation's picture and of the request numbering. A request is made
(:meth:`AssistantSession.new_request`) on the thread where the user pressed, at the moment they pressed: a picture
given with it becomes the conversation's picture there and then, so a question typed after a Stop goes to the
picture the user last saw and heard announced, even when the request for it never reached the model (the model then
reads the picture with that question). Each request carries its own cancel token; Stop and a newer request cancel
exactly that token, wherever the request is (waiting, reading the text, encoding, prefill, decode).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from seeing_assistant.core import grounding, messages
from seeing_assistant.core.cancel import Cancelled, CancelToken, run_cancellable
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.errors import BadInputError, SeeingAssistantError, unexpected
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.core.ocr import OcrUnavailableError, ScreenText, TextBlock, spoken_block
from seeing_assistant.core.seams import AnswerLike, EngineFactory, EngineLike, TextCallback, TextReaderLike


@dataclass(frozen=True)
class Ticket:
    """One request's identity: its number and its own cancel token, from the press to the last sound."""

    id: int
    token: CancelToken = field(default_factory=CancelToken, compare=False)


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
        self._latest = Ticket(0)
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

    def close(self) -> None:
        """Stop the request under way and let go of the engine (its connections and thread): the app is quitting."""
        self.stop()
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

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

    def new_request(self, image: IntakeImage | None = None) -> Ticket:
        """A request that supersedes (cancels) every earlier one, at once; ``image`` begins a new conversation.

        Called where the user pressed, when they pressed: the picture is the conversation's from this moment, and the
        number and the picture change together, under one lock.
        """
        with self._lock:
            old = self._latest
            self._latest = ticket = Ticket(old.id + 1)
            self._keep_stopped_answer()
            if image is not None:
                self._image, self._conversation, self._screen_text = image, None, None
                self._last_answer = self._answer_so_far = ""
        old.token.cancel()
        return ticket

    def stop(self) -> None:
        """Cancel the request under way, wherever it is (Ctrl+C, Stop); the picture and the turns stay."""
        with self._lock:
            latest = self._latest
            self._keep_stopped_answer()
        latest.token.cancel()

    def _keep_stopped_answer(self) -> None:
        if self._answer_so_far:  # what was written of a stopped answer is now the last answer
            self._last_answer, self._answer_so_far = self._answer_so_far, ""

    def is_current(self, request: int | Ticket) -> bool:
        """Whether ``request`` (or the request with that number) is the latest and has not been stopped."""
        request_id = request.id if isinstance(request, Ticket) else request
        with self._lock:
            return request_id == self._latest.id and not self._latest.token.is_cancelled

    @property
    def current(self) -> Ticket:
        """The latest request."""
        with self._lock:
            return self._latest

    # --- The conversation ----------------------------------------------------------------------------------------

    def begin(self, image: IntakeImage) -> Ticket:
        """Start a new conversation about ``image`` (the model reads it at the first question): a new request."""
        return self.new_request(image)

    @property
    def image(self) -> IntakeImage | None:
        """The conversation's picture: the one the user last saw and heard announced."""
        with self._lock:
            return self._image

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

    def _remember(self, text: str, is_done: bool, request: Ticket | None = None) -> None:
        with self._lock:
            if request is not None and (request is not self._latest or request.token.is_cancelled):
                return  # a piece of a stopped answer, come after the Stop: the Stop kept what was said before it
            if is_done:
                self._last_answer, self._answer_so_far = text, ""
            else:
                self._answer_so_far = text

    def _start(self, request: Ticket | None, on_text: TextCallback | None) -> tuple[_Writer, IntakeImage]:
        """A writer for the request, and the conversation's image (one sentence when there is none)."""
        if request is None:  # the command line: the request begun with the picture (a Ctrl+C before it still counts)
            request = self.current
        with self._lock:
            image = self._image
        if image is None:
            raise BadInputError(messages.NO_IMAGE_YET)
        return _Writer(self, request, on_text), image

    def ask(self, question: str, on_text: TextCallback | None = None, request: Ticket | None = None,
            max_new_tokens: int | None = None) -> Reply:
        """Answer ``question`` about the conversation's image, streaming each piece to ``on_text``.

        ``request`` (default: the current one) ends within 100 ms of its token's
        cancelling, wherever it is, and what was written is returned with ``is_cancelled``.
        The first question about a screen, a window or a picture full of text carries the picture's OCR text (see
        :mod:`~seeing_assistant.core.grounding`). Raises :class:`SeeingAssistantError` with one sentence; anything
        unforeseen becomes one too.
        """
        writer, image = self._start(request, on_text)
        if image.is_blank:
            return writer.blank(image)
        try:
            return self._ask(writer, image, question, max_new_tokens)
        except Cancelled:
            return Reply(writer.written.strip(), is_cancelled=True)

    def _ask(self, writer: _Writer, image: IntakeImage, question: str, max_new_tokens: int | None) -> Reply:
        notes: list[str] = []
        token = writer.request.token
        with writer.failing():
            engine = self._ready_engine()
            if token.is_cancelled:
                return Reply("", is_cancelled=True)
            with self._lock:
                conversation = self._conversation
            if conversation is None:
                question = self._grounded(image, question, engine, notes, token)
                conversation = engine.start(image)
                with self._lock:
                    if self._image is image:
                        self._conversation = conversation

            def on_piece(piece: str) -> None:
                if not token.is_cancelled:
                    writer.send(piece)

            answer = engine.ask(conversation, question, on_text=on_piece, max_new_tokens=max_new_tokens,
                                cancel=token)
        if not writer.written.strip() and not answer.is_cancelled:
            writer.send(messages.EMPTY_ANSWER)
        return writer.done(Reply(answer.text or writer.written.strip(), answer.is_cancelled, answer=answer,
                                 notes=tuple(notes)))

    # --- The picture's text ----------------------------------------------------------------------------------------

    @property
    def reader(self) -> TextReaderLike | None:
        """The text recogniser, if there is one."""
        return self._reader

    def _grounded(self, image: IntakeImage, question: str, engine: EngineLike, notes: list[str],
                  token: CancelToken) -> str:
        """The first question with the picture's OCR text before it, when there is a reader and the picture has text.

        A failing reader becomes one note (told once per session); the model then answers from the picture alone.
        Raises :class:`Cancelled` as soon as ``token`` is, even in the middle of one of the recogniser's passes.
        """
        if self._reader is None or self._text_budget == 0:
            return question
        is_screen = image.source in (messages.THE_SCREEN, messages.THE_ACTIVE_WINDOW)
        try:
            screen = run_cancellable(token, lambda: self.screen_text(should_stop=lambda: token.is_cancelled),
                                     name="seeing-assistant-ocr")
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

    def read_text(self, on_text: TextCallback | None = None, request: Ticket | None = None) -> Reply:
        """Read the picture's text aloud in reading order, without the model: each block streamed as it is read.

        A Stop frees the caller at once, even in the middle of one of the recogniser's passes (which then ends in the
        background, and what it read is dropped).
        """
        writer, image = self._start(request, on_text)
        if image.is_blank:
            return writer.blank(image)
        token = writer.request.token

        def on_block(block: TextBlock, previous: TextBlock | None) -> None:
            if not token.is_cancelled:
                writer.send(spoken_block(block, previous))

        with writer.failing():
            try:
                screen = run_cancellable(
                    token, lambda: self.screen_text(on_block, should_stop=lambda: token.is_cancelled),
                    name="seeing-assistant-ocr")
            except Cancelled:
                screen = None
        if screen is None or token.is_cancelled:
            return Reply(writer.written.strip(), is_cancelled=True)
        if screen.is_empty:
            writer.send(messages.NO_TEXT_FOUND.format(source=image.source))
        return writer.done(Reply(writer.written.strip()))


class _Writer:
    """One request's answer as it is written: streamed on, kept for Repeat and Copy unless a newer one came."""

    def __init__(self, session: AssistantSession, request: Ticket, on_text: TextCallback | None) -> None:
        self.session, self.request, self.on_text = session, request, on_text
        self.written = ""

    def send(self, piece: str) -> None:
        self.written += piece
        self.session._remember(self.written, is_done=False, request=self.request)
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
        except Cancelled:
            raise
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
