"""Speaking through the screen reader on Linux: speech-dispatcher, the queue Orca itself speaks through.

The answer is handed to speech-dispatcher over its SSIP socket a sentence at a time, at priority ``message`` (the
one Orca uses): speech-dispatcher then plays the app's sentences and Orca's speech one after the other, never at the
same time, and neither cuts the other off mid-sentence (measured with two clients on one server: ``text`` was
cancelled whenever Orca spoke, ``important`` cut Orca off). Only one sentence is in speech-dispatcher at a time, so
that Orca's next words wait at most for the end of the sentence being said, not for the whole answer. Stop sends
``CANCEL SELF``, which silences this app's speech and never Orca's (Qt's speechd engine cancels every client's).

The user's own voice, rate and output module are used: the screen reader's settings, not the app's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import threading
from collections import deque
from collections.abc import Callable

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SpeechUnavailableError, short_reason
from seeing_assistant.speech.speaker import Speaker

log = logging.getLogger(__name__)

CLIENT_NAME = "user:seeing-assistant:main"
REPLY_TIMEOUT_S = 5.0
# SSIP event codes, sent unprompted once notifications are on.
BEGIN, END, CANCELED = "701", "702", "703"


def socket_path() -> str:
    """Where speech-dispatcher listens: ``SPEECHD_ADDRESS`` (``unix_socket:PATH``), else the user's runtime folder."""
    address = os.environ.get("SPEECHD_ADDRESS", "")
    if address.startswith("unix_socket:"):
        return address.split(":", 1)[1]
    runtime = os.environ.get("XDG_RUNTIME_DIR") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(runtime, "speech-dispatcher", "speechd.sock")


class SsipConnection:
    """One SSIP connection: commands get their replies in order; events go to ``on_event(code, message id)``.

    Replies are read on a thread of its own, which also delivers the events; commands may come from any thread. A
    connection that speech-dispatcher closed, or that went unanswered, is dead: every later command fails at once, and
    ``on_closed`` is called once, from whichever thread found out.
    """

    def __init__(self, on_event: Callable[[str, int], None], path: str | None = None,
                 client_name: str = CLIENT_NAME, on_closed: Callable[[str], None] | None = None) -> None:
        self.path = path or socket_path()
        self._on_event = on_event
        self._on_closed = on_closed
        self._dead: str | None = None  # why the connection is no longer usable
        self._end_lock = threading.Lock()
        self._replies: queue.Queue[list[str]] = queue.Queue()
        self._command_lock = threading.Lock()
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._socket.connect(self.path)
        except OSError as error:
            self._socket.close()
            raise SpeechUnavailableError(messages.NO_SPEECH_DISPATCHER.format(reason=short_reason(error))) from None
        self._reader = threading.Thread(target=self._read, name="seeing-assistant-ssip", daemon=True)
        self._reader.start()
        try:
            self.command(f"SET SELF CLIENT_NAME {client_name}")
            self.command("SET SELF PRIORITY message")
            self.command("SET SELF NOTIFICATION ALL on")
        except SpeechUnavailableError:
            self._end("it did not take this app's settings")
            raise

    def command(self, line: str, data: str | None = None) -> list[str]:
        """Send one command (with ``data`` for SPEAK) and return its reply lines; SpeechUnavailableError on failure."""
        with self._command_lock:
            if self._dead is not None:
                raise SpeechUnavailableError(messages.NO_SPEECH_DISPATCHER.format(reason=self._dead))
            try:
                self._socket.sendall((line + "\r\n").encode("utf-8"))
                reply = self._reply()
                if data is not None and reply[-1].startswith("230"):
                    # A line that starts with "." is escaped by doubling it; a lone "." ends the text.
                    lines = ["." + text if text.startswith(".") else text for text in data.splitlines() or [""]]
                    self._socket.sendall(("\r\n".join(lines) + "\r\n.\r\n").encode("utf-8"))
                    reply = self._reply()
            except OSError as error:
                reason = short_reason(error)
                self._end(reason)
                raise SpeechUnavailableError(messages.NO_SPEECH_DISPATCHER.format(reason=reason)) from None
        if not reply[-1][:1] == "2":
            raise SpeechUnavailableError(messages.NO_SPEECH_DISPATCHER.format(reason=reply[-1]))
        return reply

    def _reply(self) -> list[str]:
        try:
            return self._replies.get(timeout=REPLY_TIMEOUT_S)
        except queue.Empty:
            # A late reply would be taken for the next command's: the conversation is out of step for good.
            reason = f"no reply in {REPLY_TIMEOUT_S:.0f} s"
            self._end(reason)
            raise SpeechUnavailableError(messages.NO_SPEECH_DISPATCHER.format(reason=reason)) from None

    def _end(self, reason: str) -> None:
        """Mark the connection dead (once), wake a command waiting for a reply, and say so."""
        with self._end_lock:  # the reader thread and close() can both end it: only the first one counts
            if self._dead is not None:
                return
            self._dead = reason
            on_closed = self._on_closed
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._replies.put(["500 connection ended"])
        if on_closed is not None:
            on_closed(reason)

    def speak(self, text: str) -> int:
        """Queue ``text``; the message id speech-dispatcher gave it."""
        reply = self.command("SPEAK", data=text)
        return int(reply[0][4:])

    def _read(self) -> None:
        pending: list[str] = []
        with contextlib.suppress(OSError, ValueError), self._socket.makefile("rb") as stream:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                pending.append(line)
                if len(line) > 3 and line[3] == "-":
                    continue  # more lines of the same reply or event follow
                if line.startswith("7"):
                    with contextlib.suppress(ValueError):
                        self._on_event(line[:3], int(pending[0][4:]))
                else:
                    self._replies.put(pending)
                pending = []
        self._end("speech-dispatcher closed the connection")

    def close(self) -> None:
        """Say goodbye and close the socket."""
        with self._end_lock:
            self._on_closed = None  # closing on purpose is no failure, even when the reader sees the end first
        if self._dead is None:
            with contextlib.suppress(SpeechUnavailableError):
                self.command("QUIT")
        self._end("closed")
        self._socket.close()


class ScreenReaderSpeaker(Speaker):
    """Speaks through speech-dispatcher, one sentence in flight at a time; ``stop`` cancels this app's speech only.

    When speech-dispatcher goes away the speaker is broken for good: the sentence in flight (cut, or never begun) and
    those waiting are kept for ``unspoken``, and so is everything fed later, for a failover to say elsewhere. Opening
    a new speaker is what reconnects (see :mod:`seeing_assistant.speech.failover`).
    """

    def __init__(self, path: str | None = None, max_words: int = 25) -> None:
        super().__init__(max_words)
        self.on_event: Callable[[str, int], None] | None = None  # each SSIP event, after it is handled (tests)
        self._waiting: deque[tuple[int, str]] = deque()  # (generation, sentence) not yet handed over
        self._in_flight: int | None = None  # the message id speech-dispatcher is saying or holds
        self._in_flight_text: str | None = None
        self._unspoken: list[str] = []  # once broken: what was never heard in full
        self._generation = 0
        self._is_closed = False
        self._changed = threading.Condition()
        self.connection = SsipConnection(self._on_event, path, on_closed=self._connection_ended)
        self._sender = threading.Thread(target=self._send, name="seeing-assistant-screen-reader", daemon=True)
        self._sender.start()

    def earcon(self, name: str) -> None:
        """No earcons: the screen reader's user hears speech in the screen reader's own voice only."""

    def _speak(self, sentence: str) -> None:
        super()._speak(sentence)
        with self._changed:
            if self.lost is not None:
                self._unspoken.append(sentence)  # nothing more can be said here: kept for whoever takes over
            elif not self._is_closed:
                self._waiting.append((self._generation, sentence))
                self._changed.notify_all()

    def unspoken(self) -> list[str]:
        """After speech-dispatcher went away: the sentence it was saying, then the rest."""
        with self._changed:
            return list(self._unspoken)

    def _silence(self) -> None:
        with self._changed:
            self._generation += 1
            self._waiting.clear()
            self._unspoken.clear()
            was_speaking = self._in_flight is not None and not self._is_closed
            self._changed.notify_all()
        if was_speaking:
            self._cancel_sent()

    def _cancel_sent(self) -> None:
        try:
            self.connection.command("CANCEL SELF")
        except SpeechUnavailableError as error:
            self._failed(str(error))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every sentence handed over has been spoken (or dropped)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._is_closed or (not self._waiting and self._in_flight is None), timeout)

    def close(self) -> None:
        """Cancel what is left and end the connection."""
        self.stop()
        with self._changed:
            self._is_closed = True
            self._changed.notify_all()
        self._sender.join(REPLY_TIMEOUT_S)
        self.connection.close()

    def _connection_ended(self, reason: str) -> None:
        # Nothing more can be said here: keep what was not heard, tell whoever takes over, and only then let waiters
        # go (so that no one sees the speech finished before the failover knows it is not).
        with self._changed:  # one step: a sentence fed meanwhile lands either in the snapshot or after it, never lost
            if self.lost is not None:
                return
            self.lost = reason
            cut = [self._in_flight_text] if self._in_flight is not None and self._in_flight_text else []
            self._unspoken = cut + [sentence for generation, sentence in self._waiting
                                    if generation == self._generation]
            self._waiting.clear()
        self._tell_broken(reason, messages.NO_SPEECH_DISPATCHER.format(reason=reason))
        with self._changed:
            self._in_flight = None
            self._is_closed = True
            self._changed.notify_all()

    def _send(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._is_closed or (self._waiting and self._in_flight is None))
                if self._is_closed:
                    return
                generation, sentence = self._waiting.popleft()
                if generation != self._generation:
                    continue
                self._in_flight = -1  # handed over; its id comes with the reply
                self._in_flight_text = sentence
            try:
                message_id = self.connection.speak(sentence)
            except (SpeechUnavailableError, ValueError) as error:
                if self.lost is None:  # a dead connection was told once, by _connection_ended
                    self._failed(str(error) if isinstance(error, SpeechUnavailableError)
                                 else messages.NO_SPEECH_DISPATCHER.format(reason="an unexpected reply"))
                with self._changed:
                    self._in_flight = None
                    self._changed.notify_all()
                continue
            with self._changed:
                if self._in_flight == -1:  # its END may already have come, on the reader's thread
                    self._in_flight = message_id
                stale = generation != self._generation
            if stale:
                self._cancel_sent()  # stopped while it was being handed over

    def _on_event(self, code: str, message_id: int) -> None:
        if code in (END, CANCELED):
            with self._changed:
                if self._in_flight in (message_id, -1):
                    self._in_flight = None
                    self._changed.notify_all()
        if self.on_event is not None:
            self.on_event(code, message_id)
