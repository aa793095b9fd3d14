"""Spoken questions: record while F2 (or the Ask chord) is held or Speak question is on, then transcribe.

The transcript becomes the question: about the current image, or about a fresh screen grab when there is none.
Listening stops by itself at the time limit set in Settings (a key stuck down, a forgotten Speak question): the user
is told, and what was said so far is transcribed as if the key had been let go.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QProgressBar, QPushButton, QWidget

from seeing_assistant.core import asr, messages
from seeing_assistant.core.errors import SeeingAssistantError
from seeing_assistant.desktop.answering import Answerer
from seeing_assistant.desktop.microphone import Microphone
from seeing_assistant.desktop.voice import Voice
from seeing_assistant.qt_signals import emit


class Listener(QObject):
    """The microphone's state machine: idle, recording, transcribing.

    Signals:
        heard(text, is_quiet): the transcript of a spoken question, to be asked.
    """

    heard = Signal(str, bool)

    def __init__(self, answerer: Answerer, voice: Voice, button: QPushButton, progress: QProgressBar,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.microphone = Microphone(self)
        self.answerer = answerer
        self.voice = voice
        self.button = button
        self.progress = progress
        self.is_quiet = False
        self.transcribe_id: int | None = None
        self.released_at = 0.0
        self.last_recording: tuple[float, float] | None = None  # seconds, level: what the microphone heard
        self.last_transcribe_wait_s: float | None = None  # from releasing the key to the transcript
        self.microphone.limit_reached.connect(self._on_limit_reached)
        answerer.worker.transcribed.connect(self._on_transcribed)
        answerer.worker.transcribe_failed.connect(self._on_transcribe_failed)

    def _show_recording(self, is_recording: bool) -> None:
        """The button says what pressing it does now: a push button, not a check box (which Orca read it as)."""
        text, name = ("Finish s&peaking", "Finish speaking") if is_recording else ("S&peak question", "Speak question")
        self.button.setText(text)
        self.button.setAccessibleName(name)

    def take_f2(self, window: QWidget) -> None:
        """Holding F2 in ``window`` records a spoken question; letting go ends it."""
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """F2 pressed starts recording and released finishes it (key repeats are ignored)."""
        if (isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_F2 and not event.isAutoRepeat()
                and event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)):
            if event.type() == QEvent.Type.KeyPress:
                self.start()
            else:
                self.finish()
            return True
        return super().eventFilter(watched, event)

    @property
    def is_recording(self) -> bool:
        """Whether the microphone is listening now."""
        return self.microphone.is_recording

    def is_tap(self) -> bool:
        """Whether the recording so far is too short to be a question (a tap of the key, not a hold)."""
        return self.is_recording and time.perf_counter() - self.microphone.started_at < asr.MIN_SECONDS

    def start(self, quiet: bool = False) -> None:
        """Record a question from the microphone until :meth:`finish`."""
        if self.microphone.is_recording:
            return
        self.answerer.stop_current()
        try:
            # The limit is read at each start: the Settings dialog may have changed it (the voice holds the settings).
            self.microphone.start(limit_s=self.voice.settings.microphone_limit_s)
        except SeeingAssistantError as error:
            self._show_recording(False)
            self.voice.announce(str(error), is_error=True)
            return
        self.is_quiet = quiet
        self._show_recording(True)
        self.voice.announce(messages.LISTENING, is_quiet=True)  # not spoken by the app: the microphone would hear it

    def finish(self, status: str = messages.TRANSCRIBING) -> None:
        """Stop recording and transcribe on the engine's thread; ``status`` is what the user is told meanwhile."""
        if not self.microphone.is_recording:
            return
        self._show_recording(False)
        self.released_at = time.perf_counter()
        try:
            heard = self.microphone.stop()
            self.last_recording = (heard.duration_s, heard.level)
            audio = heard.checked()
        except SeeingAssistantError as error:
            self.voice.announce(str(error), is_error=True)
            return
        self.transcribe_id = self.answerer.next_request()
        self.progress.show()
        self.voice.announce(status, speak=status != messages.TRANSCRIBING)
        emit(self.answerer.worker.transcribe_requested, self.transcribe_id, audio)

    def _on_limit_reached(self, seconds: int) -> None:
        """The time limit: the question so far is transcribed, and the user hears why listening stopped."""
        self.finish(status=messages.MICROPHONE_LIMIT_REACHED.format(seconds=seconds))

    def toggle(self) -> None:
        """Speak question: the first press starts recording, the second ends it."""
        if self.microphone.is_recording:
            self.finish()
        else:
            self.start()

    def cancel_recording(self, announce: bool = True) -> None:
        """Drop the recording under way (a tap of the Ask chord, or Stop)."""
        if self.microphone.is_recording:
            self.microphone.cancel()
            self._show_recording(False)
            if announce:
                self.voice.announce(messages.LISTENING_CANCELLED)

    def cancel(self) -> None:
        """Drop the recording, and the transcription under way (Stop)."""
        self.cancel_recording()
        if self.transcribe_id is not None:
            self.transcribe_id = None
            self.progress.hide()
            self.voice.announce(messages.LISTENING_CANCELLED)

    def _on_transcribed(self, request_id: int, text: str, seconds: float) -> None:
        if request_id != self.transcribe_id:
            return
        self.transcribe_id = None
        self.progress.hide()
        self.last_transcribe_wait_s = time.perf_counter() - self.released_at
        if not text.strip():
            self.voice.announce(messages.NOTHING_UNDERSTOOD, is_error=True)
            return
        emit(self.heard, text, self.is_quiet)

    def _on_transcribe_failed(self, request_id: int, text: str) -> None:
        if request_id != self.transcribe_id:
            return
        self.transcribe_id = None
        self.progress.hide()
        self.voice.announce(text, is_error=True)
