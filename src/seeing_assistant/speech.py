"""Speech output: an answer is spoken sentence by sentence while it is still being written, and stops at once.

The pieces:

- a :class:`Speaker` takes the answer's text pieces as they stream, cuts them into sentences
  (:class:`~seeing_assistant.sentence_splitter.SentenceSplitter`) and speaks each one as soon as it is complete;
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
import functools
import logging
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seeing_assistant import messages
from seeing_assistant.errors import BadInputError, SeeingAssistantError, SpeechUnavailableError, short_reason
from seeing_assistant.sentence_splitter import SentenceSplitter

if TYPE_CHECKING:
    from PySide6.QtCore import QIODevice
    from PySide6.QtMultimedia import QAudioSink

log = logging.getLogger(__name__)

EARCONS = ("start", "done", "error")


@dataclass(frozen=True)
class VoiceSettings:
    """How the voice sounds.

    ``voice`` is an engine voice id, name or language code; ``rate`` is in words per minute; ``volume`` runs from
    0 to 1. ``None`` keeps the engine's default.
    """

    voice: str | None = None
    rate: int | None = None
    volume: float = 1.0


@dataclass(frozen=True)
class Voice:
    """One voice an engine offers."""

    id: str
    name: str
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pcm:
    """Signed little-endian PCM audio."""

    data: bytes
    rate: int
    channels: int = 1
    width: int = 2

    @property
    def duration_s(self) -> float:
        """How long it plays for."""
        return len(self.data) / (self.rate * self.channels * self.width)

    @property
    def format(self) -> tuple[int, int, int]:
        """What an output needs to know to play it: rate, channels, bytes per sample."""
        return (self.rate, self.channels, self.width)

    @classmethod
    def from_wav(cls, path: str | os.PathLike[str]) -> Pcm:
        """Read a WAV file (16-bit PCM, the format every speech engine here writes)."""
        with wave.open(os.fspath(path), "rb") as wav:
            return cls(wav.readframes(wav.getnframes()), wav.getframerate(), wav.getnchannels(), wav.getsampwidth())


# --- Synthesis ----------------------------------------------------------------------------------------------------


class Synthesizer(ABC):
    """Turns text into audio. Used from one thread only: the one that created it."""

    name = "synthesizer"

    @abstractmethod
    def synthesize(self, text: str) -> Pcm:
        """The audio for ``text``."""

    @abstractmethod
    def voices(self) -> list[Voice]:
        """The voices this engine offers."""

    def close(self) -> None:  # noqa: B027 - most engines hold nothing
        """Release what the engine holds."""

    def _voice_id(self, wanted: str) -> str:
        lowered = wanted.lower()
        voices = self.voices()
        for matches in (
            lambda voice: voice.id == wanted,
            lambda voice: voice.name.lower() == lowered,
            lambda voice: lowered in (language.lower() for language in voice.languages),
        ):
            for voice in voices:
                if matches(voice):
                    return voice.id
        names = ", ".join(sorted({voice.name for voice in voices})[:12])
        raise BadInputError(messages.UNKNOWN_VOICE.format(voice=wanted, names=names))



class EspeakNgSynthesizer(Synthesizer):
    """eSpeak NG, the voice pyttsx3 uses on Linux, run as ``espeak-ng --stdout`` once per sentence.

    pyttsx3's own eSpeak driver is not used: it runs eSpeak asynchronously and its ``runAndWait()`` can return
    before the audio exists (seen in the test suite: ``save_to_file`` left no file behind, and a late callback
    raised ReferenceError), and its ``say()`` cannot be stopped. A process per sentence costs about 20 ms, cannot
    take the app down with it, and gives the same voice.
    """

    name = "espeak-ng"

    def __init__(self, settings: VoiceSettings | None = None, command: str | None = None) -> None:
        found = command or shutil.which("espeak-ng") or shutil.which("espeak")
        if found is None:
            raise SpeechUnavailableError(messages.NO_SPEECH_ENGINE.format(reason="espeak-ng is not installed"))
        self.command = found
        self.driver = "espeak-ng"
        self._voices: list[Voice] | None = None
        self._options: list[str] = []
        self.apply(settings or VoiceSettings())

    def apply(self, settings: VoiceSettings) -> None:
        """Use these voice settings from the next sentence on."""
        options = []
        if settings.voice:
            options += ["-v", self._voice_id(settings.voice)]
        if settings.rate:
            options += ["-s", str(int(settings.rate))]
        options += ["-a", str(round(100 * min(max(float(settings.volume), 0.0), 1.0)))]
        self._options = options

    def voices(self) -> list[Voice]:
        """The voices ``espeak-ng --voices`` lists."""
        if self._voices is None:
            listing = self._run(["--voices"]).decode("utf-8", "replace").splitlines()[1:]
            self._voices = []
            for line in listing:
                fields = line.split()
                if len(fields) >= 5:
                    self._voices.append(Voice(fields[4], fields[3].replace("_", " "), (fields[1],)))
        return self._voices

    def synthesize(self, text: str) -> Pcm:
        """The sentence as 16-bit mono PCM."""
        return _pcm_from_wav_bytes(self._run([*self._options, "-b", "1", "--stdout", "--", text]))

    def _run(self, arguments: list[str]) -> bytes:
        try:
            done = subprocess.run([self.command, *arguments], capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SpeechUnavailableError(messages.NO_SPEECH_ENGINE.format(reason=short_reason(error))) from error
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
            raise RuntimeError(reason)
        return done.stdout


def _pcm_from_wav_bytes(data: bytes) -> Pcm:
    """Read a WAV written to a pipe, whose length fields are placeholders: everything after "data" is audio."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("the speech engine did not write WAV audio")
    position = 12
    channels, rate, width = 1, 22050, 2
    while position + 8 <= len(data):
        kind, size = data[position:position + 4], int.from_bytes(data[position + 4:position + 8], "little")
        if kind == b"fmt ":
            channels = int.from_bytes(data[position + 10:position + 12], "little")
            rate = int.from_bytes(data[position + 12:position + 16], "little")
            width = int.from_bytes(data[position + 22:position + 24], "little") // 8
        elif kind == b"data":
            audio = data[position + 8:]
            return Pcm(audio[: len(audio) - len(audio) % (channels * width)], rate, channels, width)
        position += 8 + size
    raise ValueError("the speech engine's WAV audio has no data")


class Pyttsx3Synthesizer(Synthesizer):
    """pyttsx3's engine for Windows (SAPI5) and macOS (NSSpeechSynthesizer), one sentence at a time.

    Each sentence is saved to a private WAV file, read back and deleted. Not tested on those platforms yet (no such
    machine here); on Linux :class:`EspeakNgSynthesizer` is used.
    """

    name = "pyttsx3"

    def __init__(self, settings: VoiceSettings | None = None) -> None:
        try:
            import pyttsx3

            self._engine = pyttsx3.init()
        except Exception as error:
            raise SpeechUnavailableError(messages.NO_SPEECH_ENGINE.format(reason=short_reason(error))) from error
        self.driver = type(self._engine.proxy._driver).__module__.rsplit(".", 1)[-1]
        _quieten_driver()
        self._folder = tempfile.TemporaryDirectory(prefix="seeing-assistant-speech-")
        self._count = 0
        self.apply(settings or VoiceSettings())

    def apply(self, settings: VoiceSettings) -> None:
        """Use these voice settings from the next sentence on."""
        if settings.voice:
            self._engine.setProperty("voice", self._voice_id(settings.voice))
        if settings.rate:
            self._engine.setProperty("rate", int(settings.rate))
        self._engine.setProperty("volume", min(max(float(settings.volume), 0.0), 1.0))

    def voices(self) -> list[Voice]:
        """The engine's voices, with their language codes where the engine gives them."""
        found = []
        for voice in self._engine.getProperty("voices") or []:
            languages = tuple(
                language.decode(errors="replace").lstrip("\x05") if isinstance(language, bytes) else str(language)
                for language in (getattr(voice, "languages", None) or [])
            )
            found.append(Voice(str(voice.id), str(voice.name or voice.id), languages))
        return found

    def synthesize(self, text: str) -> Pcm:
        """Save ``text`` to a private WAV file with the engine, and return its audio."""
        self._count += 1
        path = Path(self._folder.name) / f"{self._count}.wav"
        try:
            self._engine.save_to_file(text, os.fspath(path))
            self._engine.runAndWait()
            return Pcm.from_wav(path)
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the private folder."""
        self._folder.cleanup()


def default_synthesizer(settings: VoiceSettings | None = None) -> Synthesizer:
    """The platform's engine: pyttsx3 on Windows and macOS, eSpeak NG elsewhere."""
    if sys.platform in ("win32", "darwin"):
        return Pyttsx3Synthesizer(settings)
    return EspeakNgSynthesizer(settings)


def list_voices(speaker: Speaker | None = None) -> list[Voice]:
    """The voices to choose from: those the speaker's engine listed on its own thread, else eSpeak NG's.

    pyttsx3 (Windows, macOS) keeps one engine per process, which belongs to the speech thread, so without a speaker
    there is no list there; the field still takes a typed voice.
    """
    if isinstance(speaker, VoiceSpeaker) and speaker.voices is not None:
        return speaker.voices
    if sys.platform in ("win32", "darwin"):
        return []
    try:
        synthesizer = EspeakNgSynthesizer()
        return synthesizer.voices()
    except Exception as error:  # noqa: BLE001 - a list to choose from is optional; the field still takes typed text
        log.info("No voices to list: %s", short_reason(error))
        return []


def _quieten_driver() -> None:
    """pyttsx3's eSpeak driver prints "Audio saved to ..." after every save: that would land in the answer."""
    module = sys.modules.get("pyttsx3.drivers.espeak")
    if module is not None:
        module.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]  # shadows the builtin there only


# --- Outputs ------------------------------------------------------------------------------------------------------


class AudioOutput(ABC):
    """Where the audio goes. ``play`` queues, ``clear`` drops everything and silences at once."""

    def __init__(self) -> None:
        self.audio_started_at: float | None = None  # time.perf_counter() of the first sample since the last clear

    @abstractmethod
    def play(self, pcm: Pcm) -> None:
        """Queue ``pcm`` after whatever is already queued."""

    @abstractmethod
    def clear(self) -> None:
        """Drop everything queued and stop the sound now."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been played; False if ``timeout`` ran out first."""

    @abstractmethod
    def close(self) -> None:
        """Release the device or finish the file."""


class WavFileOutput(AudioOutput):
    """Collects the audio and writes it to a WAV file on close.

    The file is written whole under a temporary name, then renamed, so there is never a half-written file at ``path``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        check_writable(self.path)
        self._chunks: list[bytes] = []
        self._format: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def play(self, pcm: Pcm) -> None:
        """Append ``pcm``; every piece must have the same format (they all come from one engine)."""
        with self._lock:
            if self._format is None:
                self._format = pcm.format
                self.audio_started_at = time.perf_counter()
            elif pcm.format != self._format:
                pcm = _converted(pcm, self._format)
            self._chunks.append(pcm.data)

    def clear(self) -> None:
        """Forget what was collected."""
        with self._lock:
            self._chunks.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Nothing plays in real time: always done."""
        return True

    def close(self) -> None:
        """Write the file."""
        with self._lock:
            rate, channels, width = self._format or (22050, 1, 2)
            folder = self.path.parent
            handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=folder)
            try:
                with os.fdopen(handle, "wb") as raw, wave.open(raw, "wb") as wav:
                    wav.setnchannels(channels)
                    wav.setsampwidth(width)
                    wav.setframerate(rate)
                    for chunk in self._chunks:
                        wav.writeframes(chunk)
                os.chmod(temporary, 0o666 & ~_umask())
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def check_writable(path: Path) -> None:
    """Refuse, before any work is done, an audio file path that cannot be written."""
    if path.is_dir():
        raise BadInputError(messages.AUDIO_OUT_IS_FOLDER.format(path=path))
    folder = path.parent
    if not folder.is_dir():
        raise BadInputError(messages.AUDIO_OUT_NO_FOLDER.format(path=path, folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise BadInputError(messages.AUDIO_OUT_NOT_WRITABLE.format(path=path))


def _converted(pcm: Pcm, wanted: tuple[int, int, int]) -> Pcm:
    """``pcm`` at another rate or channel count (an earcon recorded differently from the voice), 16-bit only."""
    import array

    rate, channels, width = wanted
    if width != 2 or pcm.width != 2:
        raise ValueError("only 16-bit audio can be converted")
    samples = array.array("h", pcm.data)
    mono = array.array("h", samples[:: pcm.channels])  # the first channel
    count = int(len(mono) * rate / pcm.rate)
    resampled = array.array("h", (mono[min(int(index * pcm.rate / rate), len(mono) - 1)] for index in range(count)))
    if channels > 1:
        resampled = array.array("h", (sample for sample in resampled for _ in range(channels)))
    return Pcm(resampled.tobytes(), rate, channels, width)


class QtAudioOutput(AudioOutput):
    """Plays through the default audio device with a Qt Multimedia sink in push mode, on a thread of its own.

    Audio is written in small pieces as the device has room, so that ``clear()`` only has to drop what is queued
    here and reset the sink (measured: silence within a few milliseconds). A pull-mode sink left gaps between
    sentences. Needs a ``QCoreApplication``; one is created when there is none (the command line).
    """

    BUFFER_S = 0.1  # the device buffer: what may still sound after a clear, at most
    PUMP_MS = 5

    def __init__(self) -> None:
        super().__init__()
        with qt_messages_to_log():  # Qt Multimedia's back-end chatter would bury our one sentence
            from PySide6.QtCore import QCoreApplication, QThread
            from PySide6.QtMultimedia import QMediaDevices

            if QCoreApplication.instance() is None:
                self._app = QCoreApplication([])
            if not QMediaDevices.audioOutputs():
                raise SpeechUnavailableError(messages.NO_AUDIO_OUTPUT)
            self._queue: deque[tuple[int, Pcm]] = deque()
            self._lock = threading.Lock()
            self._idle = threading.Event()
            self._idle.set()
            self._epoch = 0
            self._thread = QThread()
            self._thread.setObjectName("seeing-assistant-audio")
            self._player = _new_player(self)
            self._player.moveToThread(self._thread)
            self._thread.started.connect(self._player.open)
            self._thread.finished.connect(self._player.deleteLater)
            self._thread.start()
            if not self._player.ready.wait(5):
                raise SpeechUnavailableError(messages.NO_AUDIO_OUTPUT)
            if self._player.failure:
                raise SpeechUnavailableError(self._player.failure)

    def play(self, pcm: Pcm) -> None:
        """Queue ``pcm``; the player thread writes it to the device."""
        with self._lock:
            self._queue.append((self._epoch, pcm))
            self._idle.clear()
        self._player.wake.emit()

    def clear(self) -> None:
        """Drop the queue, then reset the sink on its thread (a queued call: it runs within milliseconds)."""
        with self._lock:
            self._epoch += 1
            self._queue.clear()
            self.audio_started_at = None
        self._player.reset.emit()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the queue is empty and the device has played it all."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Stop the sound and the thread; the player and its sink are deleted on their own thread."""
        if self._thread.isFinished():
            return
        self.clear()
        self._player.shut.emit()
        self._thread.quit()
        self._thread.wait(5000)

    # Called on the player thread.
    def _take(self) -> tuple[int, Pcm] | None:
        with self._lock:
            return self._queue[0] if self._queue else None

    def _consumed(self, epoch: int, rest: Pcm | None) -> None:
        with self._lock:
            if epoch != self._epoch or not self._queue:
                return
            if rest is None:
                self._queue.popleft()
            else:
                self._queue[0] = (epoch, rest)
            if self.audio_started_at is None:
                self.audio_started_at = time.perf_counter()

    def _went_idle(self) -> None:
        with self._lock:
            if not self._queue:
                self._idle.set()


def _player_class() -> type:
    """The Qt object that owns the sink; defined on first use so that importing this module does not import Qt."""
    from PySide6.QtCore import QObject, QTimer, Signal, Slot
    from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices, QtAudio

    class Player(QObject):
        wake = Signal()
        reset = Signal()
        shut = Signal()

        def __init__(self, owner: QtAudioOutput) -> None:
            super().__init__()
            self.owner = owner
            self.ready = threading.Event()
            self.failure: str | None = None
            self.sink: QAudioSink | None = None
            self.device: QIODevice | None = None
            self.format: tuple[int, int, int] | None = None
            self.timer: QTimer | None = None

        @Slot()
        def open(self) -> None:
            try:
                self.timer = QTimer(self)
                self.timer.setInterval(QtAudioOutput.PUMP_MS)
                self.timer.timeout.connect(self.pump)
                self.wake.connect(self.pump)
                self.reset.connect(self.on_reset)
                self.shut.connect(self.on_shut)
                if QMediaDevices.defaultAudioOutput().isNull():
                    self.failure = messages.NO_AUDIO_OUTPUT
            finally:
                self.ready.set()

        def ensure_sink(self, pcm: Pcm) -> bool:
            if self.sink is not None and self.format == pcm.format:
                return True
            if self.sink is not None:
                self.sink.stop()
                self.sink.deleteLater()
            audio_format = QAudioFormat()
            audio_format.setSampleRate(pcm.rate)
            audio_format.setChannelCount(pcm.channels)
            audio_format.setSampleFormat(QAudioFormat.SampleFormat.Int16)
            self.sink = QAudioSink(QMediaDevices.defaultAudioOutput(), audio_format, self)
            self.sink.setBufferSize(int(pcm.rate * pcm.channels * pcm.width * QtAudioOutput.BUFFER_S))
            self.format = pcm.format
            self.device = self.sink.start()
            if self.device is None or self.sink.error() != QtAudio.Error.NoError:
                log.warning("The audio device could not be opened: %s", self.sink.error())
                return False
            return True

        @Slot()
        def pump(self) -> None:
            assert self.timer is not None
            while (item := self.owner._take()) is not None:
                epoch, pcm = item
                if not self.ensure_sink(pcm):
                    self.owner._consumed(epoch, None)
                    continue
                assert self.sink is not None and self.device is not None
                free = self.sink.bytesFree()
                if free <= 0:
                    break
                free -= free % (pcm.channels * pcm.width)
                written = self.device.write(pcm.data[:free])
                if written <= 0:
                    break
                rest = pcm.data[written:]
                self.owner._consumed(epoch, Pcm(rest, pcm.rate, pcm.channels, pcm.width) if rest else None)
            idle = self.sink is None or self.sink.state() in (QtAudio.State.IdleState, QtAudio.State.StoppedState)
            if self.owner._take() is None and idle:
                self.timer.stop()
                self.owner._went_idle()
            elif not self.timer.isActive():
                self.timer.start()

        @Slot()
        def on_reset(self) -> None:
            if self.sink is not None:
                self.sink.reset()
                self.device = self.sink.start()
            self.pump()

        @Slot()
        def on_shut(self) -> None:
            # Everything Qt made on this thread is stopped and deleted on this thread, before it ends.
            if self.timer is not None:
                self.timer.stop()
            if self.sink is not None:
                self.sink.stop()
                self.sink.deleteLater()
                self.sink = None
                self.device = None
            self.owner._went_idle()

    return Player


_PLAYER: type | None = None


def _new_player(owner: QtAudioOutput) -> Any:
    global _PLAYER
    if _PLAYER is None:
        _PLAYER = _player_class()
    return _PLAYER(owner)


# --- Speakers -----------------------------------------------------------------------------------------------------


class Speaker(ABC):
    """Speaks an answer while it streams: ``feed`` pieces, ``finish`` at the end, ``stop`` to silence it.

    Feeding after ``stop`` starts a new answer; ``say`` interrupts whatever is being said.
    """

    def __init__(self, max_words: int = 25) -> None:
        self._splitter = SentenceSplitter(max_words=max_words)
        self._lock = threading.Lock()
        self.sentences: list[str] = []  # every sentence handed over for speaking, in order

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
        self.sentences.append(sentence)

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
    its failure is raised here, by the constructor, as a :class:`SpeechUnavailableError`.
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
        self.errors: list[str] = []
        self._make = make_synthesizer or (lambda: default_synthesizer(self.settings))
        self._generation = 0
        self._sentences: queue.Queue[tuple[int, str | Pcm] | None] = queue.Queue()
        self._work = _Work()
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="seeing-assistant-speech", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            raise self._failure

    def _speak(self, sentence: str) -> None:
        super()._speak(sentence)
        self._enqueue(sentence)

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
                    pcm = what if isinstance(what, Pcm) else self._synthesized(synthesizer, what)
                    with self._lock:
                        if pcm is not None and generation == self._generation:
                            self.output.play(pcm)
                finally:
                    self._done_one()
        finally:
            synthesizer.close()

    def _synthesized(self, synthesizer: Synthesizer, sentence: str) -> Pcm | None:
        try:
            return synthesizer.synthesize(sentence)
        except Exception as error:  # noqa: BLE001 - one bad sentence must not end the speech
            log.warning("Could not synthesise %r: %s", sentence, error)
            self.errors.append(messages.SPEECH_FAILED.format(reason=short_reason(error)))
            return None


# --- Earcons ------------------------------------------------------------------------------------------------------


def resources_dir() -> Path:
    """The app's resources: ``SEEING_ASSISTANT_RESOURCES`` if set, else the source tree's ``resources/``."""
    configured = os.environ.get("SEEING_ASSISTANT_RESOURCES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "resources"


@functools.cache  # read once (Pcm is frozen): it is played from the GUI thread at every answer
def load_earcon(name: str) -> Pcm | None:
    """The sound named ``name`` from ``resources/sounds``, or None when it is missing or unreadable."""
    path = resources_dir() / "sounds" / f"{name}.wav"
    try:
        return Pcm.from_wav(path)
    except (OSError, wave.Error, EOFError) as error:
        log.info("No earcon %s: %s", path, error)
        return None


# --- Building one -------------------------------------------------------------------------------------------------


def open_speaker(
    settings: VoiceSettings | None = None,
    audio_out: str | os.PathLike[str] | None = None,
    earcons: bool = False,
) -> VoiceSpeaker:
    """A speaker for the default audio device, or for a WAV file when ``audio_out`` is given.

    Raises :class:`SpeechUnavailableError` with the reason when there is no audio device or no speech engine.
    """
    output: AudioOutput = WavFileOutput(audio_out) if audio_out is not None else QtAudioOutput()
    try:
        return VoiceSpeaker(output, settings=settings, earcons=earcons)
    except BaseException:
        if isinstance(output, QtAudioOutput):
            output.close()
        raise


@contextlib.contextmanager
def qt_messages_to_log() -> Iterator[None]:
    """Send Qt's own warnings to the debug log instead of the terminal.

    Lines such as "PulseAudioService: pa_context_connect() failed" would bury the one sentence the user needs.
    """
    from PySide6.QtCore import qInstallMessageHandler

    def handler(kind: Any, context: Any, text: str) -> None:
        log.debug("Qt: %s", text)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)
