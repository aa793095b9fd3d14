"""The engine's streamer: transformers' ``TextStreamer`` with its one output method overridden.

Imported by the engine only once transformers is loaded (it imports transformers itself).
"""

from __future__ import annotations

import time
from typing import Any

from transformers import TextStreamer

from seeing_assistant.core.seams import TextCallback


class CallbackStreamer(TextStreamer):
    """Times the first new token, counts them, and hands each finished piece of text to a callback."""

    def __init__(self, tokenizer: Any, on_text: TextCallback | None, started: float) -> None:
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self._on_text_callback = on_text
        self._started = started
        self._sent_any = False
        self.new_tokens = 0
        self.first_token_s: float | None = None
        self.written = ""  # every piece handed on, so that a Stop inside a forward pass still knows what was said

    def put(self, value: Any) -> None:
        """Count the new tokens (the prompt comes first and is skipped), then decode as usual."""
        if not self.next_tokens_are_prompt:
            if self.first_token_s is None:
                self.first_token_s = time.perf_counter() - self._started
            self.new_tokens += int(value.numel())
        super().put(value)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        """Hand a finished piece to the callback; the answer's leading whitespace is dropped."""
        if not self._sent_any:
            text = text.lstrip()
        if text:
            self._sent_any = True
            self.written += text
            if self._on_text_callback is not None:
                self._on_text_callback(text)
