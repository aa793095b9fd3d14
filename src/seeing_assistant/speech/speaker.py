"""Speech output: an answer is spoken sentence by sentence while it is still being written, and stops at once.

The pieces:

- a :class:`Speaker` takes the answer's text pieces as they stream, cuts them into sentences
  (:class:`~seeing_assistant.speech.splitter.SentenceSplitter`) and speaks each one as soon as it is complete;
  :class:`SilentSpeaker` does the same without sound (tests, and machines without audio);
- a :class:`Synthesizer` turns one sentence into PCM audio (:class:`Pyttsx3Synthesizer`: SAPI5 on Windows,
  NSSpeechSynthesizer on macOS; :class:`EspeakNgSynthesizer` on Linux, the voice pyttsx3 would use there);
- an :class:`AudioOutput` plays PCM (:class:`QtAudioOutput`, a Qt Multimedia sink in push mode on its own thread)
  or collects it into a WAV file (:class:`WavFileOutput`).

Why not ``pyttsx3.say()``: on Linux it synthesises the whole text, then plays it with ``aplay``, so nothing is heard
until the last word is known, and ``stop()`` cannot cut it short (``benchmarks/speech.py`` measures this). Making
each sentence's audio and playing it ourselves is what makes the first sentence audible early and ``stop()``
immediate, and it works the same way on every platform.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SeeingAssistantError, SpeechUnavailableError, short_reason
from seeing_assistant.speech.drivers import default_synthesizer
from seeing_assistant.speech.earcons import load_earcon
from seeing_assistant.speech.output import AudioOutput
from seeing_assistant.speech.silence import SilentSynthesizer
from seeing_assistant.speech.splitter import SentenceSplitter
from seeing_assistant.speech.synthesizer import Synthesizer
from seeing_assistant.speech.voice import Pcm, Voice, VoiceSettings

log = logging.getLogger(__name__)

# How many of the latest sentences (and failures) a speaker keeps: enough for tests and for a long answer's end to be
# read back, while the app runs for days without the list growing.
KEPT = 200


def _keep_latest(items: list[str], item: str) -> None:
    items.append(item)
    if len(items) > 2 * KEPT:  # trimmed in one go now and then, not at every sentence
        del items[:-KEPT]


class Speaker(ABC):
    """Speaks an answer while it streams: ``feed`` pieces, ``finish`` at the end, ``stop`` to silence it.

    Feeding after ``stop`` starts a new answer; ``say`` interrupts whatever is being said.
    """

    def __init__(self, max_words: int = 25) -> None:
        self._splitter = SentenceSplitter(max_words=max_words)
        self._lock = threading.Lock()
        self.sentences: list[str] = []  # the latest sentences handed over for speaking (KEPT at least), in order
        self.errors: list[str] = []  # a sentence for each thing that could not be said (the latest ones)
        # Called (on a speech thread) with each of those sentences; the app turns it into a status.
        self.on_error: Callable[[str], None] | None = None
        # Called once (on a speech thread, without blocking) when this route can say nothing more, with a short phrase
        # saying why; a FailoverSpeaker then takes ``unspoken()`` to another route. Without it, ``on_error`` is told.
        self.on_broken: Callable[[str], None] | None = None
        self.lost: str | None = None  # why the rest could not be heard, once the speech is broken for good

    def _failed(self, problem: str) -> None:
        log.warning("Speech failed: %s", problem)
        _keep_latest(self.errors, problem)
        if self.on_error is not None:
            self.on_error(problem)

    def _broke(self, reason: str, problem: str) -> None:
        """Broken for good: ``reason`` is the short phrase, ``problem`` the sentence told when nothing takes over."""
        if self.lost is not None:
            return
        self.lost = reason
        self._tell_broken(reason, problem)

    def _tell_broken(self, reason: str, problem: str) -> None:
        # Logged quietly: the user is told once, by whoever handles on_broken or on_error (the command line's error).
        log.info("Speech broke: %s", reason)
        if self.on_broken is not None:
            self.on_broken(reason)
            return
        _keep_latest(self.errors, problem)
        if self.on_error is not None:
            self.on_error(problem)

    def unspoken(self) -> list[str]:
        """The sentences handed over and not yet heard in full, the one that was cut first (after a break)."""
        return []

    def listed_voices(self) -> list[Voice] | None:
        """The voices this speaker's engine listed, if it has an engine of its own that did."""
        return None

    def speak_sentences(self, sentences: list[str]) -> None:
        """Speak sentences already cut, after whatever is queued (a failover handing on what another route lost)."""
        for sentence in sentences:
            self._speak(sentence)

    def feed(self, piece: str) -> None:
        """Add a piece of the answer; every sentence it completes is spoken right away."""
        with self._lock:
            completed = self._splitter.feed(piece)
        for sentence in completed:
            self._speak(sentence)

    def finish(self) -> None:
        """The answer is complete: speak what is left of it."""
        with self._lock:
            rest = self._splitter.flush()
        for sentence in rest:
            self._speak(sentence)

    def append(self, text: str) -> None:
        """Speak ``text`` after whatever is queued, as sentences of its own, leaving the answer being split alone."""
        for sentence in (splitter := SentenceSplitter()).feed(text) + splitter.flush():
            self._speak(sentence)

    def say(self, text: str) -> None:
        """Interrupt whatever is being said and say ``text``."""
        self.stop()
        self.feed(text)
        self.finish()

    def stop(self) -> None:
        """Silence now and drop everything not yet spoken."""
        with self._lock:
            self._splitter.reset()
        self._silence()

    @abstractmethod
    def earcon(self, name: str) -> None:
        """Play one of the short sounds in ``resources/sounds`` (start, done, error), if it is there."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything handed over has been spoken; False if ``timeout`` ran out first."""

    def close(self) -> None:
        """Stop and release the audio device."""
        self.stop()

    def _speak(self, sentence: str) -> None:
        _keep_latest(self.sentences, sentence)

    @abstractmethod
    def _silence(self) -> None:
        """Stop the sound."""


class SilentSpeaker(Speaker):
    """Splits and records sentences, and makes no sound: for tests, and when there is no audio."""

    def __init__(self, max_words: int = 25) -> None:
        super().__init__(max_words)
        self.stops = 0
        self.earcons: list[str] = []

    def earcon(self, name: str) -> None:
        """Note the earcon instead of playing it."""
        self.earcons.append(name)

    def _silence(self) -> None:
        self.stops += 1

    def wait(self, timeout: float | None = None) -> bool:
        """Nothing to wait for."""
        return True


@dataclass
class _Work:
    pending: int = 0
    done: threading.Condition = field(default_factory=threading.Condition)


class VoiceSpeaker(Speaker):
    """Synthesises each sentence on a thread of its own and plays it through an :class:`AudioOutput`.

    ``make_synthesizer`` runs on that thread (COM engines such as SAPI5 belong to the thread that made them);
    its failure is raised here, by the constructor, as a :class:`SpeechUnavailableError`. When the output breaks for
    good, the speaker is broken too: what it had not played is kept for ``unspoken``, and nothing more is played.
    """

    def __init__(
        self,
        output: AudioOutput,
        make_synthesizer: Callable[[], Synthesizer] | None = None,
        settings: VoiceSettings | None = None,
        earcons: bool = False,
        max_words: int = 25,
    ) -> None:
        super().__init__(max_words)
        self.output = output
        self.settings = settings or VoiceSettings()
        self.is_earcons_on = earcons
        self.voices: list[Voice] | None = None  # the engine's voices, once its thread has listed them
        self._make = make_synthesizer or (lambda: default_synthesizer(self.settings))
        self._generation = 0
        self._sentences: queue.Queue[tuple[int, str | Pcm] | None] = queue.Queue()
        self._work = _Work()
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._synthesizing: str | None = None  # the sentence inside synthesize() now
        output.on_failed = self._output_failed
        self._thread = threading.Thread(target=self._run, name="seeing-assistant-speech", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            raise self._failure

    def _speak(self, sentence: str) -> None:
        super()._speak(sentence)
        self._enqueue(sentence)

    def listed_voices(self) -> list[Voice] | None:
        """The engine's voices, once its thread has listed them."""
        return self.voices

    def _output_failed(self, reason: str) -> None:
        self._broke(reason, messages.SPEECH_LOST.format(reason=reason))

    def unspoken(self) -> list[str]:
        """What the output did not play in full, then what was being synthesised, then what waits (this answer's)."""
        with self._lock:
            played = self.output.unplayed()
            synthesizing = [self._synthesizing] if self._synthesizing is not None else []
            with self._sentences.mutex:
                waiting = [what for item in self._sentences.queue if item is not None
                           for generation, what in [item] if generation == self._generation and isinstance(what, str)]
        return played + synthesizing + waiting

    def _enqueue(self, item: str | Pcm) -> None:
        with self._work.done:
            self._work.pending += 1
        self._sentences.put((self._generation, item))

    def earcon(self, name: str) -> None:
        """Queue a short sound, in order with the speech (only when earcons are on)."""
        if self.is_earcons_on and (pcm := load_earcon(name)) is not None:
            self._enqueue(pcm)

    def _silence(self) -> None:
        with self._lock:
            self._generation += 1
        with contextlib.suppress(queue.Empty):
            while True:
                if self._sentences.get_nowait() is not None:
                    self._done_one()
        self.output.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every sentence is synthesised and the output has played it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._work.done:
            if not self._work.done.wait_for(lambda: self._work.pending == 0, timeout):
                return False
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.output.wait(remaining)

    def close(self) -> None:
        """End the synthesis thread, dropping what it has not started, and close the output.

        A device falls silent; a WAV file is written with what was synthesised (``finish()`` and ``wait()`` first
        for all of it).
        """
        with self._lock:
            self._generation += 1
        self._sentences.put(None)
        self._thread.join(10)
        self.output.close()

    def _done_one(self) -> None:
        with self._work.done:
            self._work.pending -= 1
            self._work.done.notify_all()

    def _run(self) -> None:
        try:
            synthesizer = self._make()
            if isinstance(synthesizer, SilentSynthesizer):  # the end of the drivers' list: no voice to speak with
                raise SpeechUnavailableError(synthesizer.problem or messages.NO_SPEECH_ENGINE.format(reason="none"))
        except BaseException as error:  # noqa: BLE001 - handed to the constructor, which raises it
            self._failure = error if isinstance(error, SeeingAssistantError) else SpeechUnavailableError(
                messages.NO_SPEECH_ENGINE.format(reason=short_reason(error)))
            self._started.set()
            return
        self._started.set()
        try:
            self.voices = synthesizer.voices()  # for Settings, listed here: the engine belongs to this thread
        except Exception as error:  # noqa: BLE001 - the list is optional
            log.info("No voices to list: %s", short_reason(error))
            self.voices = []
        try:
            while (item := self._sentences.get()) is not None:
                generation, what = item
                try:
                    if generation != self._generation:
                        continue
                    if isinstance(what, str):
                        with self._lock:
                            self._synthesizing = what
                    pcm = what if isinstance(what, Pcm) else self._synthesized(synthesizer, what)
                    with self._lock:
                        self._synthesizing = None
                        if pcm is not None and generation == self._generation:
                            # After a failure the output only keeps it, so that it is counted among the unspoken.
                            self.output.play(pcm, what if isinstance(what, str) else None)
                finally:
                    self._done_one()
        finally:
            synthesizer.close()

    def _synthesized(self, synthesizer: Synthesizer, sentence: str) -> Pcm | None:
        try:
            return synthesizer.synthesize(sentence)
        except Exception as error:  # noqa: BLE001 - one bad sentence must not end the speech
            log.debug("Could not synthesise %r", sentence)  # the failure itself is logged by _failed
            self._failed(messages.SPEECH_FAILED.format(reason=short_reason(error)))
            return None


def open_speaker(
    settings: VoiceSettings | None = None,
    audio_out: str | os.PathLike[str] | None = None,
    earcons: bool = False,
) -> VoiceSpeaker:
    """A speaker for the default audio device, or for a WAV file when ``audio_out`` is given.

    Raises :class:`SpeechUnavailableError` with the reason when there is no audio device or no speech engine.
    """
    from seeing_assistant.speech.qt_audio import QtAudioOutput
    from seeing_assistant.speech.wav_file import WavFileOutput

    output: AudioOutput = WavFileOutput(audio_out) if audio_out is not None else QtAudioOutput()
    try:
        return VoiceSpeaker(output, settings=settings, earcons=earcons)
    except BaseException:
        if isinstance(output, QtAudioOutput):
            output.close()
        raise


def open_speaker_or_silent(settings: VoiceSettings, earcons: bool = False) -> tuple[Speaker, str | None]:
    """A speaker for the default audio device; else a silent one and the sentence that says why there is no sound.

    No audio device, no speech engine or an unknown voice must never stop the answer from being written.
    """
    try:
        return open_speaker(settings, earcons=earcons), None
    except SeeingAssistantError as error:
        return SilentSpeaker(), str(error)


def list_voices(speaker: Speaker | None = None) -> list[Voice]:
    """The voices to choose from: those the speaker's engine listed on its own thread, else eSpeak NG's.

    pyttsx3 (Windows, macOS) keeps one engine per process, which belongs to the speech thread, so without a speaker
    there is no list there; the field still takes a typed voice.
    """
    if speaker is not None and (listed := speaker.listed_voices()) is not None:
        return listed
    if sys.platform in ("win32", "darwin"):
        return []
    try:
        from seeing_assistant.speech.espeak_ng import EspeakNgSynthesizer

        return EspeakNgSynthesizer().voices()
    except Exception as error:  # noqa: BLE001 - a list to choose from is optional; the field still takes typed text
        log.info("No voices to list: %s", short_reason(error))
        return []

