"""Windows and macOS: answers spoken (and brailled) by the running screen reader, through accessible_output2.

accessible_output2 is what accessible Python apps use to reach NVDA (its controller client), JAWS, the other Windows
screen readers and VoiceOver (by AppleScript). Only a screen reader is taken here, never a system voice (SAPI, the
macOS synthesizer): for those the app's own voice is the better choice. Each sentence goes as it streams, queued
behind what the screen reader is saying (``interrupt=False``), and to the braille display where the screen reader
has one (NVDA shows it as a message). ``stop`` cancels the screen reader's speech: NVDA's controller client cannot
cancel only this app's sentences, so what NVDA was saying of its own stops too.

Written against accessible_output2 0.17's outputs; not run on Windows or macOS by this project's tests (see the
README).
"""

from __future__ import annotations

import logging
from typing import Any

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SpeechUnavailableError, short_reason
from seeing_assistant.speech.speaker import Speaker

log = logging.getLogger(__name__)


def running_screen_reader() -> Any:
    """accessible_output2's output for the first screen reader that is running (not a system voice)."""
    try:
        import accessible_output2
    except ImportError as error:
        raise SpeechUnavailableError(messages.NO_SCREEN_READER_OUTPUT.format(
            reason=f"accessible_output2 is not installed: {short_reason(error)}")) from None
    for output_class in accessible_output2.get_output_classes():
        try:
            output = output_class()
            if not output.is_system_output() and output.is_active():
                return output
        except Exception as error:  # noqa: BLE001 (any output may fail to load on this system; try the next)
            log.debug("Screen reader output %s is not available: %s", getattr(output_class, "name", "?"), error)
    raise SpeechUnavailableError(messages.NO_SCREEN_READER_OUTPUT.format(reason="none is running"))


class AccessibleOutputSpeaker(Speaker):
    """Hands each sentence to the screen reader as it streams; ``stop`` cancels the screen reader's speech."""

    def __init__(self, output: Any = None, max_words: int = 25) -> None:
        super().__init__(max_words)
        self.output = output if output is not None else running_screen_reader()
        self.name: str = getattr(self.output, "name", "the screen reader")
        self._unspoken: list[str] = []  # once broken: the sentence that failed and everything after it

    def earcon(self, name: str) -> None:
        """No earcons: the screen reader's user hears the screen reader's own voice only."""

    def _speak(self, sentence: str) -> None:
        super()._speak(sentence)
        if self.lost is not None:
            self._unspoken.append(sentence)
            return
        try:
            self.output.speak(sentence, interrupt=False)
            braille = getattr(self.output, "braille", None)
            if braille is not None:
                braille(sentence)
        except Exception as error:  # noqa: BLE001 (a screen reader that quit, a DLL call that failed)
            # Broken for good, told once; this sentence and the rest go to whoever takes over.
            self._unspoken.append(sentence)
            reason = short_reason(error)
            self._broke(reason, messages.SCREEN_READER_OUTPUT_FAILED.format(reason=reason))

    def unspoken(self) -> list[str]:
        """After the screen reader stopped taking speech: the sentence it refused, then the rest."""
        return list(self._unspoken)

    def _silence(self) -> None:
        self._unspoken.clear()
        if self.lost is not None:
            return
        try:
            self.output.silence()
        except Exception as error:  # noqa: BLE001
            log.debug("Could not silence %s: %s", self.name, error)

    def wait(self, timeout: float | None = None) -> bool:
        """The screen reader says nothing about when it has finished: everything was handed over."""
        return True
