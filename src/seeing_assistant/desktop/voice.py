"""The app's voice: who speaks the answers (the screen reader, the app's own voice, or no one), and every status.

Every status goes through :meth:`Voice.announce` and reaches the user through exactly one channel, so that no
sentence is ever said twice or by two voices at once:

- answers spoken by the screen reader: statuses go into the screen reader's own speech queue, in order with the
  answer, and are not also announced;
- answers spoken by the app's own voice while a screen reader runs: every status is said by the app's voice, in order
  with the answer (errors first, cutting it short), and none is announced: Orca 46 and later speak announcements,
  and would speak them over the app's voice;
- answers spoken by the app's own voice, no screen reader: errors (and what the caller asks to be spoken) are said by
  the app; every status is announced, for braille displays and magnifiers;
- no one: to the screen reader by the path it really speaks: an AT-SPI announcement where it speaks them (Orca 46
  and later), else speech-dispatcher, its own queue (Orca 43 ignores announcements); announced where none runs;
- news the user did not ask for (the model loading) and "Listening" (``is_quiet``): shown and announced only, never
  said by the app nor put before the screen reader's own speech in its queue.

"Automatic" follows the screen reader: when one starts or stops while the app runs, the speaker changes with it, and
the status bar says who speaks and why.

When the route speaking breaks mid-answer, the speaker itself fails over (see :mod:`seeing_assistant.speech.routes`):
it says so through the route that still works and goes on; here the sentence is shown (and announced where no voice
said it), and the status bar's note says who speaks now.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel

from seeing_assistant import speech
from seeing_assistant.core import messages, settings
from seeing_assistant.core.errors import SeeingAssistantError
from seeing_assistant.desktop.widgets import Relay, StatusLine
from seeing_assistant.qt_signals import emit
from seeing_assistant.speech import routes
from seeing_assistant.speech.screen_reader import POLL_MS, ScreenReaderWatcher

RETRY_MS = POLL_MS


class Voice(QObject):
    """Owns the speaker; ``speaker`` is always usable (a silent one when nothing can be heard)."""

    def __init__(self, chosen: settings.Settings, status: StatusLine, speaker: speech.Speaker | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = chosen
        self.status = status
        self.problem: str | None = None  # why speech is off, told at start-up
        self.spoken_by = QLabel()  # the status bar's note of who speaks the answers
        self.spoken_by.setAccessibleDescription("Who reads the answers aloud")
        self.screen_reader = ScreenReaderWatcher(self)
        self.screen_reader.changed.connect(self._follow_screen_reader)
        # Automatic, while it cannot follow yet: the answer is still being said, or speech-dispatcher was not up
        # when the screen reader was switched on (GNOME sets the flag before Orca starts it).
        self._retry = QTimer(self)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self._follow_screen_reader)
        self._failures = Relay(self)
        self._failures.sentence.connect(self._on_speech_failed, Qt.ConnectionType.QueuedConnection)
        self._route_changes = Relay(self)
        self._route_changes.sentence.connect(self._on_route_changed, Qt.ConnectionType.QueuedConnection)
        self._owns_speaker = speaker is None
        self._status_queue: speech.Speaker | None = None  # statuses for a screen reader that ignores announcements
        if speaker is None:
            self.speaker, self.route = self._open()
        else:
            self.speaker, self.route = speaker, self._handed_in_route()
        self._watch(self.speaker)
        self._show_route()

    @property
    def is_speaking_answers(self) -> bool:
        """Whether answers (and "You asked") are read aloud, by anyone."""
        return self.route != routes.NO_ONE

    def _handed_in_route(self) -> str:
        """A speaker handed in (tests, benchmarks) is the app's voice, unless answers are text only."""
        return routes.NO_ONE if self.settings.spoken_by == routes.NO_ONE else routes.APP_VOICE

    def _open(self) -> tuple[speech.Speaker, str]:
        route = routes.resolve(self.settings.spoken_by, self.screen_reader.is_running)
        speaker, taken, reason = routes.open_route(route, speech.VoiceSettings.of(self.settings),
                                                   earcons=self.settings.earcons,
                                                   fall_back=self.settings.spoken_by == routes.AUTOMATIC)
        self.problem = messages.SPEECH_OFF.format(reason=reason) if reason else None
        return speaker, taken

    def _watch(self, speaker: speech.Speaker) -> None:
        speaker.on_error = lambda sentence: emit(self._failures.sentence, sentence)  # from a speech thread, queued
        if isinstance(speaker, speech.FailoverSpeaker):
            speaker.on_route_changed = lambda notice: emit(self._route_changes.sentence, notice)

    @property
    def speaking_now(self) -> str:
        """The route speaking at this moment: the chosen one, or the one that took over while it is broken."""
        return self.speaker.route if isinstance(self.speaker, speech.FailoverSpeaker) else self.route

    def _show_route(self) -> str:
        self.spoken_by.setText(text := self.route_text())
        return text

    def route_text(self) -> str:
        """Who speaks the answers now, and why: the status bar's note."""
        who = messages.SPOKEN_BY_WHO.get(self.speaking_now)
        if who is None:
            return messages.ANSWERS_NOT_SPOKEN
        if self.speaking_now != self.route or not self._owns_speaker:
            return messages.SPOKEN_BY_NOW.format(who=who)  # taken over while the chosen route is broken
        if self.settings.spoken_by != routes.AUTOMATIC:
            return messages.SPOKEN_BY_CHOICE.format(who=who)
        reader = self.screen_reader.current
        if reader is None:
            return messages.SPOKEN_BY_BECAUSE.format(who=who, why=messages.NO_SCREEN_READER_RUNNING)
        if self.route == routes.SCREEN_READER:
            return messages.SPOKEN_BY_BECAUSE.format(who=who, why=reader.why())
        return messages.SPOKEN_BY_FOR_NOW.format(who=who, why=reader.why())  # it will follow once it can

    def apply(self, chosen: settings.Settings) -> None:
        """Use new settings: the speaker is made anew only when what it is made from changed."""
        if _made_from(chosen) != _made_from(self.settings):
            self.reopen(chosen)
        else:
            self.settings = chosen

    def reopen(self, chosen: settings.Settings) -> None:
        """Use new voice settings: the speaker is made anew; if that fails, the user is told why there is no sound."""
        self.settings = chosen
        if not self._owns_speaker:
            self.route = self._handed_in_route()
            self._show_route()
            return
        self.speaker.close()
        self.speaker, self.route = self._open()
        self._watch(self.speaker)
        told = self._show_route()
        self.announce(self.problem or told, is_error=self.problem is not None)

    def _follow_screen_reader(self) -> None:
        """Automatic: change who speaks when the screen reader starts or stops, once nothing is being said."""
        wanted = routes.resolve(routes.AUTOMATIC, self.screen_reader.is_running)
        if not (self._owns_speaker and self.settings.spoken_by == routes.AUTOMATIC and wanted != self.route):
            self._retry.stop()
            self._show_route()  # the same route, but perhaps another reason (another screen reader, or its version)
            return
        if not self.speaker.wait(0):
            self._retry.start()  # never cut an answer short to change voices
            return
        self.reopen(self.settings)
        if self.route != wanted:
            self._retry.start()

    def announce(self, text: str, is_error: bool = False, speak: bool = False, is_quiet: bool = False) -> None:
        """Show ``text`` in the status line, and let the user hear it once (see the module's rules).

        ``is_quiet``: never said aloud by the app (while the microphone listens, or news the user did not ask for),
        only shown and announced: never put into the screen reader's queue either, where a model's path read aloud at
        start-up held Orca 43's own words back by 6 to 10 s.
        """
        if is_quiet:
            self.status.announce(text, is_error)
            return
        if self.speaking_now == routes.NO_ONE:
            self.tell_screen_reader(text, is_error)
            return
        reader_runs = self.route == routes.SCREEN_READER or self.screen_reader.is_running
        if is_error:
            self.speaker.earcon("error")
        if reader_runs:
            self.status.display(text, is_error)
            if is_error or speak:
                self.speaker.say(text)  # first, cutting the answer short
            else:
                self.speaker.append(text)  # after what is being said
            return
        if is_error or speak:
            self.speaker.say(text)
        self.status.announce(text, is_error)

    def tell_screen_reader(self, text: str, is_error: bool = False) -> None:
        """Show ``text`` and have the screen reader say it, by the path it speaks; announced where none runs."""
        reader = self.screen_reader.current
        if reader is None or reader.speaks_announcements:
            self.status.announce(text, is_error)
            return
        queue = self._screen_reader_queue()
        if queue is None:
            self.status.announce(text, is_error)  # speech-dispatcher is not there: the announcement is all there is
            return
        self.status.display(text, is_error)
        if is_error:
            queue.say(text)
        else:
            queue.append(text)

    def _screen_reader_queue(self) -> speech.Speaker | None:
        """speech-dispatcher, for a screen reader that ignores announcements.

        The answers' speaker when it is that, else a connection of its own for statuses (opened when first needed,
        kept while it works).
        """
        if self.speaking_now == routes.SCREEN_READER:
            return self.speaker
        if self._status_queue is not None and self._status_queue.lost is None:
            return self._status_queue
        if self._status_queue is not None:
            self._status_queue.close()
        self._status_queue = None
        try:
            self._status_queue = routes.open_screen_reader_queue()
        except SeeingAssistantError:
            return None
        return self._status_queue

    def _on_route_changed(self, notice: str) -> None:
        # The speaker has already said the notice through the route that took over, unless nothing could.
        self._show_route()
        is_said = self.speaking_now != routes.NO_ONE
        is_error = self.speaking_now != self.route
        if is_said and self.screen_reader.is_running:
            self.status.display(notice, is_error)
        else:
            self.tell_screen_reader(notice, is_error)

    def _on_speech_failed(self, text: str) -> None:
        # Shown and announced, never spoken: speaking the failure could fail the same way. Once, not per sentence.
        if self.status.text() == text:
            return
        self.tell_screen_reader(text, is_error=True)
        self.speaker.earcon("error")

    def close(self) -> None:
        """Silence and release the audio device or the screen reader's queue."""
        self.speaker.close()
        if self._status_queue is not None:
            self._status_queue.close()


def _made_from(chosen: settings.Settings) -> tuple[object, ...]:
    """What a speaker is opened from (see ``Voice._open``): who speaks, the voice, and whether earcons sound."""
    return chosen.spoken_by, speech.VoiceSettings.of(chosen), chosen.earcons
