"""The server engine: answers from a model server the user chose, over the OpenAI-compatible chat-completions API.

vLLM, Ollama, llama.cpp's ``llama-server`` and ``transformers serve`` all speak it: ``GET {base}/models`` lists what
is served, ``POST {base}/chat/completions`` with ``"stream": true`` answers as server-sent events, one text piece per
``data:`` line, the last one carrying ``finish_reason`` (and ``usage``, when asked for). The picture goes in the
first user turn as a ``data:`` URL, padded to a square and sized for the model by :func:`sized_picture`; follow-ups
send the whole conversation again (the server may keep its own prefix cache).

The stream is read by an asyncio task on a thread of this engine's own. ``cancel`` cancels that task from any
thread, which closes the connection (the server then stops generating) and frees :meth:`ServerEngine.ask` at once:
closing a stream from another thread does not free a reader blocked in it, cancelling the task does (0.3 ms).
The engine talks only to the configured address: no proxy from the environment, no redirects followed.

Every failure becomes one sentence that says what to do (:func:`failure_sentence`), raised as
:class:`ServerError`, which the command line turns into exit code 3.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import io
import json
import queue
import ssl
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from seeing_assistant.core import intake, messages
from seeing_assistant.core.engine_settings import ServerSettings
from seeing_assistant.core.errors import ServerError, short_reason
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.core.rates import decode_rate
from seeing_assistant.core.seams import TextCallback

if TYPE_CHECKING:
    from PIL import Image

    from seeing_assistant.core.engine_settings import EngineSettings

CONNECT_TIMEOUT_S = 10
# LLaVA-1.5 sees 336 px; the other vision models served today (Qwen2-VL, Gemma 3, SmolVLM, LLaVA-NeXT) read 768 to
# 1024 px. A bigger picture only makes the request larger (and risks a 413), so send what the model can use.
LLAVA_15_SIDE = 336
DEFAULT_SIDE = 1024
PROBE_SIDE = 64  # the small picture of the "does it see images" probe


def sized_picture(picture: Image.Image, model: str, fit: str = "pad") -> Image.Image:
    """The picture as the server's model should get it: padded to a square (or centre-cropped) at the model's size.

    Padding uses CLIP's mean colour, LLaVA-1.5's own ``expand2square``; other models take it as a plain border.
    """
    from PIL import Image

    side = LLAVA_15_SIDE if "llava-1.5" in model.lower() or "llava-v1.5" in model.lower() else DEFAULT_SIDE
    if fit == "crop":
        width, height = picture.size
        short = min(width, height)
        left, top = (width - short) // 2, (height - short) // 2
        picture = picture.crop((left, top, left + short, top + short))
    # An area average: a 1080p screenshot brought to 1024 px in about 13 ms where bicubic took 30 ms.
    return intake.padded_square(picture, side, resample=Image.Resampling.BOX)


def data_url(picture: Image.Image) -> str:
    """The picture as a ``data:`` URL: PNG (exact text) up to 512 px, JPEG at quality 90 above (a quarter the bytes).

    Ollama's API accepts only JPEG, PNG and WebP.
    """
    buffer = io.BytesIO()
    if max(picture.size) <= 512:
        picture.save(buffer, "PNG", optimize=False)
        kind = "png"
    else:
        picture.save(buffer, "JPEG", quality=90)
        kind = "jpeg"
    return f"data:image/{kind};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class ServerConversation:
    """The picture (encoded once) and the turns so far; the server is sent all of it with every question."""

    image: IntakeImage | None  # None for the connection check's probes
    picture_url: str  # empty for the connection check's probe without a picture
    turns: list[tuple[str, str]] = field(default_factory=list)

    def messages(self, question: str) -> list[dict[str, Any]]:
        """Chat messages for the next question; the picture goes in the first user turn only."""
        chat: list[dict[str, Any]] = []
        for index, (asked, answered) in enumerate([*self.turns, (question, "")]):
            content: list[dict[str, Any]] = [{"type": "text", "text": asked}]
            if index == 0 and self.picture_url:
                content.insert(0, {"type": "image_url", "image_url": {"url": self.picture_url}})
            chat.append({"role": "user", "content": content})
            if index < len(self.turns):
                chat.append({"role": "assistant", "content": answered})
        return chat


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


_DONE = object()  # the end of a stream, in the queue between the loop's thread and ask()


class ServerEngine:
    """A model server, reached over HTTP(S); satisfies :class:`~seeing_assistant.core.seams.EngineLike`."""

    placement = None  # the model runs elsewhere
    is_remote = True
    text_tokens_per_s = None  # the server's own

    def __init__(self, settings: EngineSettings, server: ServerSettings, model: str, models: list[str],
                 loop: _Loop, load_s: float) -> None:
        self.settings = settings
        self.server = server
        self.served_model = model
        self.models = models
        self.load_s = load_s
        self._loop = loop
        self._lock = threading.Lock()
        self._task: concurrent.futures.Future[Any] | None = None
        self._pieces: queue.Queue[Any] | None = None
        self._cancelled = threading.Event()
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
        loop = _Loop(server)
        try:
            models = loop.run(_list_models(loop, server))
            engine = cls(settings, server, _chosen_model(server, models), models, loop, 0.0)
            # Two one-token answers: a server that drops pictures would otherwise answer about nothing, confidently.
            engine.last_check = engine.check()
        except BaseException:
            loop.close()
            raise
        if engine.last_check.sees_images is False:
            loop.close()
            raise ServerError(messages.SERVER_IGNORES_IMAGES.format(model=engine.served_model))
        engine.load_s = time.perf_counter() - started
        return engine

    def close(self) -> None:
        """Close the connections and stop the engine's thread."""
        self._loop.close()

    def start(self, image: IntakeImage) -> ServerConversation:
        """A new conversation: the picture is sized and encoded once here."""
        picture = sized_picture(image.image, self.served_model, self.settings.image_fit)
        return ServerConversation(image=image, picture_url=data_url(picture))

    def cancel(self) -> None:
        """End the answer now, from any thread: the connection is closed and ``ask`` returns at once."""
        self._cancelled.set()
        with self._lock:
            task, pieces = self._task, self._pieces
        if task is not None:
            task.cancel()  # run_coroutine_threadsafe's future cancels the asyncio task on the loop's thread
        if pieces is not None:
            pieces.put(_DONE)

    def ask(self, conversation: ServerConversation, question: str, on_text: TextCallback | None = None,
            max_new_tokens: int | None = None) -> ServerAnswer:
        """Answer ``question``, calling ``on_text`` with each piece on this thread as it streams in."""
        started = time.perf_counter()
        self._cancelled.clear()
        body = {
            "model": self.served_model,
            "messages": conversation.messages(question),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": max_new_tokens or self.settings.max_new_tokens,
            "temperature": 0,
        }
        pieces: queue.Queue[Any] = queue.Queue()
        stream = _Stream(pieces, started)
        task = self._loop.submit(_chat(self._loop, self.server, body, stream))
        with self._lock:
            self._task, self._pieces = task, pieces
        if self._cancelled.is_set():  # cancelled before the task could be
            self.cancel()
        written: list[str] = []
        first_piece_s: float | None = None
        try:
            while True:
                item = pieces.get()
                if item is _DONE:
                    break
                if first_piece_s is None:
                    first_piece_s = time.perf_counter() - started
                written.append(item)
                if on_text is not None:
                    on_text(item)
            is_cancelled = self._cancelled.is_set()
            if not is_cancelled:
                task.result()  # raises the stream's failure as its sentence
        finally:
            with self._lock:
                self._task = self._pieces = None
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
        with_image = self.ask(probe, "What colour is this?", max_new_tokens=1)
        text_only = self.ask(ServerConversation(image=None, picture_url=""), "What colour is this?", max_new_tokens=1)
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

class _Loop:
    """An asyncio loop on a daemon thread, with one HTTP client for the engine's life."""

    def __init__(self, server: ServerSettings) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="model-server", daemon=True)
        self.thread.start()
        self.client: Any = None

    def submit(self, coroutine: Any) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Any) -> Any:
        return self.submit(coroutine).result()

    async def http(self) -> Any:
        """The client, made on the loop's thread at first use."""
        if self.client is None:
            import httpx2

            self.client = httpx2.AsyncClient(
                verify=_ssl_context(self.server.ca_file),
                timeout=httpx2.Timeout(CONNECT_TIMEOUT_S, read=self.server.read_timeout_s),
                trust_env=False,  # only the address the user chose: no proxy from the environment
                follow_redirects=False,
                headers={"Authorization": f"Bearer {self.server.api_key}"} if self.server.api_key else None,
            )
        return self.client

    def close(self) -> None:
        async def shut() -> None:
            if self.client is not None:
                await self.client.aclose()

        if self.loop.is_running():
            with contextlib.suppress(Exception):  # closing a connection that already failed is not news
                self.submit(shut()).result(timeout=2)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=2)


def _ssl_context(ca_file: str) -> ssl.SSLContext:
    """The system's trusted certificates, plus the user's certificate authority when one is chosen."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError):
            raise ServerError(messages.SERVER_CA_FILE_UNREADABLE.format(path=ca_file)) from None
    return context


async def _list_models(loop: _Loop, server: ServerSettings) -> list[str]:
    url = server.base_url
    try:
        client = await loop.http()
        response = await client.get(url + "/models")
        if response.status_code != 200:
            raise ServerError(status_sentence(response.status_code, _error_text(response.content), server))
        data = response.json()
        return [str(entry["id"]) for entry in data.get("data", []) if isinstance(entry, dict) and "id" in entry]
    except ServerError:
        raise
    except (ValueError, KeyError, AttributeError):
        raise ServerError(messages.SERVER_NOT_OPENAI.format(url=url)) from None
    except Exception as error:  # noqa: BLE001 - every transport failure is told as its own sentence
        raise ServerError(failure_sentence(error, server)) from None


@dataclass
class _Stream:
    """What one streamed answer told: pieces go to ``pieces``; token counts and the request's timing are kept."""

    pieces: queue.Queue[Any]
    started: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    request_sent_s: float | None = None
    first_piece_read_s: float | None = None


async def _chat(loop: _Loop, server: ServerSettings, body: dict[str, Any], stream: _Stream) -> None:
    """POST the chat and put each piece into the stream's queue; always ends the queue, also on cancel or failure."""
    try:
        client = await loop.http()
        async with client.stream("POST", server.base_url + "/chat/completions", json=body) as response:
            stream.request_sent_s = time.perf_counter() - stream.started
            if response.status_code != 200:
                raise ServerError(status_sentence(response.status_code, _error_text(await response.aread()),
                                                  server, model=str(body.get("model", ""))))
            async for event in _events(response.aiter_lines()):
                _take(event, stream)
        if stream.finish_reason is None:
            raise ServerError(messages.SERVER_STREAM_BROKEN)
    except (ServerError, asyncio.CancelledError):
        raise
    except Exception as error:  # noqa: BLE001 - every transport failure is told as its own sentence
        raise ServerError(failure_sentence(error, server)) from None
    finally:
        stream.pieces.put(_DONE)


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of a server-sent event stream (``data:`` lines; ``[DONE]`` ends it)."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except ValueError:  # an event cut off in the middle
            raise ServerError(messages.SERVER_STREAM_BROKEN) from None
        if isinstance(event, dict):
            yield event


def _take(event: dict[str, Any], stream: _Stream) -> None:
    if "error" in event:
        error = event["error"]
        reason = error.get("message") if isinstance(error, dict) else error
        raise ServerError(messages.SERVER_STREAM_ERROR.format(reason=str(reason)[:160]))
    usage = event.get("usage")
    if isinstance(usage, dict):
        stream.prompt_tokens = usage.get("prompt_tokens", stream.prompt_tokens)
        stream.completion_tokens = usage.get("completion_tokens", stream.completion_tokens)
    for choice in event.get("choices") or []:
        piece = (choice.get("delta") or {}).get("content")
        if piece:
            if stream.first_piece_read_s is None:
                stream.first_piece_read_s = time.perf_counter() - stream.started
            stream.pieces.put(piece)
        if choice.get("finish_reason"):
            stream.finish_reason = choice["finish_reason"]


def _error_text(content: bytes) -> str:
    """The server's own words about an error: OpenAI's ``error.message``, FastAPI's ``detail``, or the text."""
    text = content.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:160]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:160]
        for key in ("detail", "message", "error"):
            if data.get(key):
                return str(data[key])[:160]
    return text[:160]


# --- One sentence per failure -------------------------------------------------------------------------------------

def status_sentence(status: int, reason: str, server: ServerSettings, model: str = "") -> str:
    """The sentence for an HTTP error status from the server."""
    url = server.base_url
    if status in (401, 403):
        return messages.SERVER_UNAUTHORISED.format(url=url, status=status)
    if status == 404:
        if "model" in reason.lower() and model:
            return messages.SERVER_MODEL_NOT_SERVED.format(model=model, served=reason)
        suggestion = url if url.endswith("/v1") else url + "/v1"
        return messages.SERVER_NO_API.format(url=url, suggestion=suggestion)
    if status == 413:
        return messages.SERVER_PICTURE_TOO_LARGE
    if status in (502, 503, 504):  # a proxy in front of a server that is down, starting or too slow
        return messages.SERVER_BEHIND_PROXY_UNAVAILABLE.format(status=status)
    if status == 400 and "model" in reason.lower() and model and model in reason:
        return messages.SERVER_MODEL_NOT_SERVED.format(model=model, served=reason)
    if status == 400 and "plain http" in reason.lower():
        return messages.SERVER_HTTP_TO_HTTPS.format(url=url)
    return messages.SERVER_HTTP_ERROR.format(status=status, reason=reason or "no reason given")


def failure_sentence(error: BaseException, server: ServerSettings) -> str:
    """The sentence for a failure to reach or read the server (the exception chain tells which)."""
    import httpx2

    url = server.base_url
    host = urlsplit(url).hostname or url
    chain = error_chain(error)
    text = " ".join(str(each) for each in chain).lower()
    if any(isinstance(each, ssl.SSLCertVerificationError) for each in chain) or "certificate verify failed" in text:
        if "hostname mismatch" in text or "ip address mismatch" in text or "doesn't match" in text:
            return messages.SERVER_CERT_MISMATCH.format(host=host)
        return messages.SERVER_CERT_UNTRUSTED.format(url=url)
    if "wrong_version_number" in text or "wrong version number" in text or "record layer failure" in text \
            or "packet length too long" in text:
        return messages.SERVER_HTTPS_TO_HTTP.format(url=url)
    if isinstance(error, httpx2.ReadTimeout):
        return messages.SERVER_READ_TIMEOUT.format(seconds=f"{server.read_timeout_s:g}")
    if isinstance(error, httpx2.ConnectTimeout):
        return messages.SERVER_NOT_LISTENING.format(url=url)
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo failed" in text \
            or "no address associated" in text or "temporary failure in name resolution" in text:
        return messages.SERVER_UNKNOWN_HOST.format(host=host, url=url)
    if isinstance(error, httpx2.ConnectError):
        return messages.SERVER_NOT_LISTENING.format(url=url)
    if isinstance(error, (httpx2.RemoteProtocolError, httpx2.ReadError)):
        # Plain http to a TLS port: uvicorn (vLLM with --ssl-certfile) hangs up without a word.
        if url.startswith("http://") and ("without sending a response" in text or "illegal" in text):
            return messages.SERVER_HTTP_TO_HTTPS.format(url=url)
        return messages.SERVER_STREAM_BROKEN
    return messages.SERVER_UNEXPECTED.format(url=url, reason=short_reason(error))


def error_chain(error: BaseException) -> list[BaseException]:
    """The error and each one it came from (its cause, else its context), without going round in circles."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen

