"""The app's voice: the current speaker, opened from the settings, reopened when they change, its failures told.

Every status goes through :meth:`Voice.announce`: shown, announced to screen readers and, for errors and when
asked, spoken (with the error earcon).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from seeing_assistant import speech
from seeing_assistant.core import messages, settings
from seeing_assistant.desktop.widgets import Relay, StatusLine


class Voice(QObject):
    """Owns the speaker; ``speaker`` is always usable (a silent one when there is no sound)."""

    def __init__(self, chosen: settings.Settings, status: StatusLine, speaker: speech.Speaker | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = chosen
        self.status = status
        self.problem: str | None = None  # why speech is off, told at start-up
        self._failures = Relay(self)
        self._failures.sentence.connect(self._on_speech_failed, Qt.ConnectionType.QueuedConnection)
        self.speaker = speaker if speaker is not None else self._open()
        self._watch(self.speaker)

    @property
    def is_speaking_answers(self) -> bool:
        """Whether answers (and "You asked") are read aloud."""
        return self.settings.speak_automatically

    def _open(self) -> speech.Speaker:
        speaker, reason = speech.open_speaker_or_silent(speech.VoiceSettings.of(self.settings),
                                                        earcons=self.settings.earcons)
        self.problem = messages.SPEECH_OFF.format(reason=reason) if reason else None
        return speaker

    def _watch(self, speaker: speech.Speaker) -> None:
        if isinstance(speaker, speech.VoiceSpeaker):
            speaker.on_error = self._failures.sentence.emit  # from the speech thread, queued to this one

    def reopen(self, chosen: settings.Settings) -> None:
        """Use new voice settings: the speaker is made anew; if that fails, speech is off and the user is told."""
        self.settings = chosen
        if not isinstance(self.speaker, speech.VoiceSpeaker):
            return  # a silent speaker handed in (tests), or none could be opened: nothing to change
        self.speaker.close()
        self.speaker = self._open()
        self._watch(self.speaker)
        if self.problem:
            self.announce(self.problem, is_error=True)

    def announce(self, text: str, is_error: bool = False, speak: bool = False) -> None:
        """Show ``text`` in the status line and announce it to screen readers (and speak it, if asked)."""
        self.status.announce(text, is_error)
        if is_error:
            self.speaker.earcon("error")
        if (speak or is_error) and self.settings.speak_automatically:
            self.speaker.say(text)

    def _on_speech_failed(self, text: str) -> None:
        # Shown and announced, never spoken: speaking the failure could fail the same way. Once, not per sentence.
        if self.status.text() == text:
            return
        self.status.announce(text, is_error=True)
        self.speaker.earcon("error")

    def close(self) -> None:
        """Silence and release the audio device."""
        self.speaker.close()
