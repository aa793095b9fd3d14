"""One request's Stop: a cancel token made when the user presses, checked at every stage until the last sound.

Each request (a Describe, a question, Read screen text) carries its own :class:`CancelToken` from the press to the
end of its speech. Stop, or a newer request, cancels exactly that token, from any thread; nothing engine-wide is ever
cleared, so a Stop that arrives before a stage has begun is not lost. Stages check it where they can (between
decoder layers, between vision-encoder blocks, between tokens, between OCR blocks) and register a callback where
they wait on something else (a server's stream).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a stage whose request was cancelled; the stage's caller ends the request quietly."""


class CancelToken:
    """Set once, from any thread; ``on_cancel`` callbacks run at once on the cancelling thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def is_cancelled(self) -> bool:
        """Whether Stop (or a newer request) has come for this request."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Cancel the request wherever it is; later calls do nothing."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` when the request was cancelled."""
        if self._event.is_set():
            raise Cancelled

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the request is cancelled (or ``timeout`` passes); whether it was."""
        return self._event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` when the request is cancelled (now, if it already is); returns a function to forget it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)

                def forget() -> None:
                    with self._lock:
                        if callback in self._callbacks:
                            self._callbacks.remove(callback)

                return forget
        callback()
        return lambda: None


def run_cancellable(token: CancelToken, work: Callable[[], T], name: str = "seeing-assistant-stage") -> T:
    """``work()`` on a thread of its own, returned as soon as it ends, or :class:`Cancelled` as soon as ``token`` is.

    For a stage that cannot be interrupted from inside (one pass of an ONNX model): the caller is free within
    milliseconds of Stop, while the pass finishes in the background and its result is dropped.
    """
    token.raise_if_cancelled()
    done = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = error
        finally:
            done.set()

    forget = token.on_cancel(done.set)
    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        done.wait()
    finally:
        forget()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    if "value" not in outcome:
        raise Cancelled
    return outcome["value"]  # type: ignore[return-value]
