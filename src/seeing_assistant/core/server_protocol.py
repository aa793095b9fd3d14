"""What goes over the wire to a model server: the picture as sent, the request body, and the event stream read back.

The OpenAI-compatible chat-completions API (vLLM, Ollama, llama.cpp's ``llama-server``, ``transformers serve``):
``POST {base}/chat/completions`` with ``"stream": true`` answers as server-sent events, one JSON object per
``data:`` line, the last carrying ``finish_reason`` (and ``usage``, when asked for), then ``data: [DONE]``. The
picture goes in the first user turn as a ``data:`` URL, padded to a square and sized for the model by
:func:`sized_picture`; follow-ups send the whole conversation again (the server may keep its own prefix cache).

Nothing here does any I/O or knows about threads: the engine feeds the stream's lines in and hands the pieces on.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seeing_assistant.core import intake, messages
from seeing_assistant.core.errors import ServerError
from seeing_assistant.core.intake import IntakeImage

if TYPE_CHECKING:
    from PIL import Image

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


def chat_body(model: str, conversation: ServerConversation, question: str, max_tokens: int) -> dict[str, Any]:
    """The streamed chat request for ``question``, greedy (the same picture and question give the same answer)."""
    return {
        "model": model,
        "messages": conversation.messages(question),
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": max_tokens,
        "temperature": 0,
    }


@dataclass
class AnswerStream:
    """What one streamed answer has told so far: its token counts, how it finished, and when its first piece came."""

    started: float  # perf_counter() when ask() began
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    request_sent_s: float | None = None  # from ask() to the response's headers (the request was sent and read)
    first_piece_read_s: float | None = None  # from ask() to the first piece parsed from the stream

    def take(self, event: dict[str, Any]) -> list[str]:
        """The text pieces of one event, its counts and finish reason kept; the server's own error as a sentence."""
        if "error" in event:
            error = event["error"]
            reason = error.get("message") if isinstance(error, dict) else error
            raise ServerError(messages.SERVER_STREAM_ERROR.format(reason=str(reason)[:160]))
        usage = event.get("usage")
        if isinstance(usage, dict):
            self.prompt_tokens = usage.get("prompt_tokens", self.prompt_tokens)
            self.completion_tokens = usage.get("completion_tokens", self.completion_tokens)
        pieces: list[str] = []
        for choice in event.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                if self.first_piece_read_s is None:
                    self.first_piece_read_s = time.perf_counter() - self.started
                pieces.append(piece)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return pieces

    def end(self) -> None:
        """The stream closed: an answer without ``finish_reason`` was cut off, whatever the transport says."""
        if self.finish_reason is None:
            raise ServerError(messages.SERVER_STREAM_BROKEN)


async def events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of a server-sent event stream (``data:`` lines; ``[DONE]`` ends it).

    Every OpenAI-compatible server sends each event as one ``data:`` line, so a line is an event; comments
    (``: ping``), ``event:`` and ``id:`` lines carry nothing the app reads.
    """
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
