"""The server engine: answers from a model server the user chose, over the OpenAI-compatible chat-completions API.

What is sent and how the stream is read back is :mod:`~seeing_assistant.core.server_protocol`; the sentence for each
failure is :mod:`~seeing_assistant.core.server_failures`. This module holds the connection and the engine.

The stream is read by a task on this engine's own event loop, run on a thread of its own by anyio's blocking portal;
the pieces reach :meth:`ServerEngine.ask` on the caller's thread through a queue. Each ``ask`` carries its request's
:class:`~seeing_assistant.core.cancel.CancelToken`: cancelled before the request is sent, nothing is sent; cancelled
while the server thinks or streams, the token's callback cancels the task (which closes the connection, so the
server stops generating) and frees ``ask`` at once (under a millisecond): closing a stream from another thread does
not free a reader blocked in it, cancelling its task does. :meth:`ServerEngine.close` closes the connections, the
event loop and its thread. The engine talks only to the configured address: no proxy from the environment, no
redirects followed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from seeing_assistant.core import messages
from seeing_assistant.core.cancel import CancelToken
from seeing_assistant.core.engine_settings import ServerSettings
from seeing_assistant.core.errors import ServerError
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.core.rates import decode_rate
from seeing_assistant.core.seams import TextCallback
from seeing_assistant.core.server_failures import error_text, failure_sentence, ssl_context, status_sentence
from seeing_assistant.core.server_protocol import (
    PROBE_SIDE,
    AnswerStream,
    ServerConversation,
    chat_body,
    data_url,
    events,
    sized_picture,
)

if TYPE_CHECKING:
    from seeing_assistant.core.engine_settings import EngineSettings

T = TypeVar("T")

CONNECT_TIMEOUT_S = 10
_DONE = object()  # the end of a stream, in the queue between the loop's thread and ask()


@dataclass
class ServerAnswer:
    """One answer from the server, with the figures it reported."""

    text: str
    new_tokens: int
    prompt_tokens: int
    time_to_first_token_s: float | None
    total_s: float
    is_cancelled: bool
    request_sent_s: float | None = None  # from ask() to the response's headers (the request was sent and read)
    first_piece_read_s: float | None = None  # from ask() to the first piece parsed from the stream (loop thread)
    reused_tokens: int = 0

    @property
    def tokens_per_s(self) -> float | None:
        """Decode rate after the first piece, or None when too few tokens came to measure it."""
        return decode_rate(self.new_tokens, self.time_to_first_token_s, self.total_s)


@dataclass(frozen=True)
class ServerCheck:
    """What ``doctor --server`` and Test connection found."""

    url: str
    models: list[str]
    model: str
    sees_images: bool | None  # None: the server reports no token counts, so it cannot be told
    prompt_tokens_with_image: int | None
    prompt_tokens_without_image: int | None
    first_token_s: float | None

    def summary(self) -> str:
        """Whether the served model sees pictures, and its first-token time, in one sentence."""
        if self.sees_images is None:
            seen = "it reports no token counts, so whether it sees pictures cannot be told"
        elif self.sees_images:
            seen = (f"it sees pictures ({self.prompt_tokens_with_image} prompt tokens with a small one, "
                    f"{self.prompt_tokens_without_image} without)")
        else:
            seen = "it does not see pictures"
        first = f"; first token after {self.first_token_s * 1000:.0f} ms" if self.first_token_s is not None else ""
        return f"{self.model}: {seen}{first}."


class ServerEngine:
    """A model server, reached over HTTP(S); satisfies :class:`~seeing_assistant.core.seams.EngineLike`."""

    placement = None  # the model runs elsewhere
    is_remote = True
    text_tokens_per_s = None  # the server's own

    def __init__(self, settings: EngineSettings, server: ServerSettings, model: str, models: list[str],
                 connection: _Connection, load_s: float) -> None:
        self.settings = settings
        self.server = server
        self.served_model = model
        self.models = models
        self.load_s = load_s
        self._connection = connection
        self._lock = threading.Lock()
        self._streaming: set[concurrent.futures.Future[None]] = set()
        self.last_check: ServerCheck | None = None

    @property
    def model_name(self) -> str:
        """The served model, as the server names it."""
        return self.served_model

    @classmethod
    def load(cls, settings: EngineSettings) -> ServerEngine:
        """Reach the server and find the model: one sentence when the address, the key or the model is wrong."""
        assert settings.server is not None
        server = settings.server
        started = time.perf_counter()
        server.base_url  # noqa: B018 - a malformed address (or one with a key in it) is refused before a thread starts
        connection = _Connection(server)
        try:
            models = connection.run(_list_models, connection, server)
            engine = cls(settings, server, _chosen_model(server, models), models, connection, 0.0)
            # Two one-token answers: a server that drops pictures would otherwise answer about nothing, confidently.
            engine.last_check = engine.check()
            if engine.last_check.sees_images is False:
                raise ServerError(messages.SERVER_IGNORES_IMAGES.format(model=engine.served_model))
        except BaseException:
            connection.close()
            raise
        engine.load_s = time.perf_counter() - started
        return engine

    def close(self) -> None:
        """End any answer still streaming, close the connections, the event loop and its thread (once is enough)."""
        with self._lock:
            streaming = list(self._streaming)
        for task in streaming:
            task.cancel()
        self._connection.close()

    def start(self, image: IntakeImage) -> ServerConversation:
        """A new conversation: the picture is sized and encoded once here."""
        picture = sized_picture(image.image, self.served_model, self.settings.image_fit)
        return ServerConversation(image=image, picture_url=data_url(picture))

    def ask(self, conversation: ServerConversation, question: str, on_text: TextCallback | None = None,
            max_new_tokens: int | None = None, cancel: CancelToken | None = None) -> ServerAnswer:
        """Answer ``question``, calling ``on_text`` with each piece on this thread as it streams in.

        ``cancel`` is the request's own token: cancelled before the request is sent, nothing is sent; cancelled
        later (from any thread), the connection is closed and what was written is returned with ``is_cancelled``.
        """
        started = time.perf_counter()
        if cancel is not None and cancel.is_cancelled:  # Stop came before the engine was reached: nothing is sent
            return ServerAnswer(text="", new_tokens=0, prompt_tokens=0, time_to_first_token_s=None,
                                total_s=time.perf_counter() - started, is_cancelled=True)
        token = cancel or CancelToken()
        body = chat_body(self.served_model, conversation, question, max_new_tokens or self.settings.max_new_tokens)
        pieces: queue.SimpleQueue[Any] = queue.SimpleQueue()
        stream = AnswerStream(started)
        task = self._connection.submit(_chat, self._connection, self.server, body, stream, pieces)
        with self._lock:
            self._streaming.add(task)

        def stop() -> None:
            task.cancel()  # the portal cancels the task on the loop's thread, which closes the connection
            pieces.put(_DONE)  # and ask() is free now, not once the connection has closed

        forget = token.on_cancel(stop)
        written: list[str] = []
        first_piece_s: float | None = None
        ended_by_close = False
        try:
            while (item := pieces.get()) is not _DONE:
                if token.is_cancelled:  # pieces already queued when Stop came are not said after it
                    break
                if first_piece_s is None:
                    first_piece_s = time.perf_counter() - started
                written.append(item)
                if on_text is not None:
                    on_text(item)
            if not token.is_cancelled:
                try:
                    task.result()  # raises the stream's failure as its sentence
                except concurrent.futures.CancelledError:
                    ended_by_close = True  # close() ended it (the engine was replaced mid-answer)
                except ServerError:
                    if not token.is_cancelled:  # a failure that comes after Stop is not news to the user
                        raise
        finally:
            forget()
            task.cancel()  # nothing is left streaming when on_text raised (does nothing once the task is done)
            with self._lock:
                self._streaming.discard(task)
        is_cancelled = token.is_cancelled or ended_by_close
        text = "".join(written).strip()
        if text or not is_cancelled:
            conversation.turns.append((question, text))
        return ServerAnswer(
            text=text,
            new_tokens=stream.completion_tokens if stream.completion_tokens is not None else len(written),
            prompt_tokens=stream.prompt_tokens or 0,
            time_to_first_token_s=first_piece_s,
            total_s=time.perf_counter() - started,
            is_cancelled=is_cancelled,
            request_sent_s=stream.request_sent_s,
            first_piece_read_s=stream.first_piece_read_s,
        )

    def check(self) -> ServerCheck:
        """Whether the model sees pictures (its prompt tokens with and without a small one) and its first-token time."""
        from PIL import Image

        probe = ServerConversation(image=None, picture_url=data_url(Image.new("RGB", (PROBE_SIDE,) * 2, "white")))
        # Each probe is a request of its own, with its own token: nothing a user's Stop could reach.
        with_image = self.ask(probe, "What colour is this?", max_new_tokens=1, cancel=CancelToken())
        text_only = self.ask(ServerConversation(image=None, picture_url=""), "What colour is this?",
                             max_new_tokens=1, cancel=CancelToken())
        sees: bool | None = None
        if with_image.prompt_tokens and text_only.prompt_tokens:
            sees = with_image.prompt_tokens > text_only.prompt_tokens
        return ServerCheck(url=self.server.base_url, models=self.models, model=self.served_model, sees_images=sees,
                           prompt_tokens_with_image=with_image.prompt_tokens or None,
                           prompt_tokens_without_image=text_only.prompt_tokens or None,
                           first_token_s=with_image.time_to_first_token_s)


def _chosen_model(server: ServerSettings, models: list[str]) -> str:
    if not models:
        raise ServerError(messages.SERVER_NO_MODELS.format(url=server.base_url))
    if not server.model:
        return models[0]
    if server.model in models:
        return server.model
    raise ServerError(messages.SERVER_MODEL_NOT_SERVED.format(model=server.model, served=", ".join(models[:8])))


# --- The connection, on the engine's own event loop ---------------------------------------------------------------

class _Connection:
    """An event loop on a thread of its own (anyio's blocking portal), with one HTTP client for the engine's life."""

    def __init__(self, server: ServerSettings) -> None:
        from anyio.from_thread import start_blocking_portal

        self.server = server
        self._portal_context = start_blocking_portal()
        self.portal = self._portal_context.__enter__()
        # Named as the old thread was, for a debugger's list (start_blocking_portal's own name= is recent).
        self.portal.call(_name_this_thread, "model-server")
        self.client: Any = None
        self._closed = False

    def run(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``function(*args)`` on the loop, waited for."""
        return self.portal.call(function, *args)

    def submit(self, function: Callable[..., Awaitable[T]], *args: Any) -> concurrent.futures.Future[T]:
        """``function(*args)`` started on the loop; cancelling the future cancels the task."""
        return self.portal.start_task_soon(function, *args)

    async def http(self) -> Any:
        """The client, made on the loop's thread at first use."""
        if self.client is None:
            import httpx2

            self.client = httpx2.AsyncClient(
                verify=ssl_context(self.server.ca_file),
                timeout=httpx2.Timeout(CONNECT_TIMEOUT_S, read=self.server.read_timeout_s),
                trust_env=False,  # only the address the user chose: no proxy from the environment
                follow_redirects=False,
                headers={"Authorization": f"Bearer {self.server.api_key}"} if self.server.api_key else None,
            )
        return self.client

    async def _close_client(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    def close(self) -> None:
        """Close the client's connections, cancel what still runs, end the loop (its descriptors) and its thread."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # closing a connection that already failed is not news
            self.portal.call(self._close_client)
        with contextlib.suppress(RuntimeError):  # already stopped
            self.portal.call(self.portal.stop, True)
        self._portal_context.__exit__(None, None, None)  # joins the thread once the loop is closed


def _name_this_thread(name: str) -> None:
    threading.current_thread().name = name


async def _list_models(connection: _Connection, server: ServerSettings) -> list[str]:
    url = server.base_url
    try:
        client = await connection.http()
        response = await client.get(url + "/models")
        if response.status_code != 200:
            raise ServerError(status_sentence(response.status_code, error_text(response.content), server))
        data = response.json()
        return [str(entry["id"]) for entry in data.get("data", []) if isinstance(entry, dict) and "id" in entry]
    except ServerError:
        raise
    except (ValueError, KeyError, AttributeError):
        raise ServerError(messages.SERVER_NOT_OPENAI.format(url=url)) from None
    except Exception as error:  # noqa: BLE001 - every transport failure is told as its own sentence
        raise ServerError(failure_sentence(error, server)) from None


async def _chat(connection: _Connection, server: ServerSettings, body: dict[str, Any], stream: AnswerStream,
                pieces: queue.SimpleQueue[Any]) -> None:
    """POST the chat and put each piece into ``pieces``; always ends the queue, also on cancel or failure.

    Cancellation is not an ``Exception``: it passes through untouched, closing the response on its way out.
    """
    try:
        client = await connection.http()
        async with client.stream("POST", server.base_url + "/chat/completions", json=body) as response:
            stream.request_sent_s = time.perf_counter() - stream.started
            if response.status_code != 200:
                raise ServerError(status_sentence(response.status_code, error_text(await response.aread()),
                                                  server, model=str(body.get("model", ""))))
            async for event in events(response.aiter_lines()):
                for piece in stream.take(event):
                    pieces.put(piece)
        stream.end()
    except ServerError:
        raise
    except Exception as error:  # noqa: BLE001 - every transport failure is told as its own sentence
        raise ServerError(failure_sentence(error, server)) from None
    finally:
        pieces.put(_DONE)
