"""An audio output that plays through the default device: a Qt Multimedia sink in push mode, on its own thread.

Importing this module imports no Qt; Qt Multimedia is loaded when an output is made.

Two ways an output breaks for good, each told once through ``on_failed``: the device does not open (unplugged, or
refused the format), or the sound system stops taking audio. PulseAudio going away shows as neither an error nor a
state change: the sink stays "active" with no room, for ever (measured with Qt 6.12). So a sink that takes no audio
for ``STALL_S`` while sound is owed counts as stopped. After that, Qt's PulseAudio connection in this process is dead:
making another sink aborts the whole process inside libpulse (measured: "Assertion 'c' failed at context.c"), even
after the server is back. So no later output is made in this process, and the dead sink is never restarted.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SpeechUnavailableError
from seeing_assistant.qt_signals import emit
from seeing_assistant.speech.output import AudioOutput
from seeing_assistant.speech.voice import Pcm

if TYPE_CHECKING:
    from PySide6.QtCore import QIODevice
    from PySide6.QtMultimedia import QAudioSink

log = logging.getLogger(__name__)

# Qt's sound-system connection is one per process, and once it has died it cannot be used again (see above): this is
# a fact about the process, not about one output.
_sound_system_gone = threading.Event()


class QtAudioOutput(AudioOutput):
    """Plays through the default audio device with a Qt Multimedia sink in push mode, on a thread of its own.

    Audio is written in small pieces as the device has room, so that ``clear()`` only has to drop what is queued
    here and reset the sink (measured: silence within a few milliseconds). A pull-mode sink left gaps between
    sentences. Needs a ``QCoreApplication``; one is created when there is none (the command line).
    """

    BUFFER_S = 0.1  # the device buffer: what may still sound after a clear, at most
    PUMP_MS = 5
    # A sink that takes nothing for this long while sound is owed has stopped. Its 0.1 s buffer normally has room
    # every few milliseconds, but a sound server starved of the CPU holds it full far longer: the text recogniser
    # reading a screen on both cores held it full for over 1.5 s (the first limit tried), and a false alarm would
    # silence the app's voice for the rest of the run, so the limit is generous.
    STALL_S = 6.0
    # A sink just started (or restarted after a Stop) has taken nothing yet: PulseAudio connects its stream first,
    # which took longer than STALL_S on a machine busy with the test suite, so it gets longer before it counts as
    # stopped (the sound system gone before the first word still ends the wait).
    START_STALL_S = 10.0
    DRAIN_S = 5 * BUFFER_S  # everything written: the buffer has played out by then, whatever state the sink reports

    def __init__(self) -> None:
        super().__init__()
        if _sound_system_gone.is_set():
            raise SpeechUnavailableError(messages.SOUND_SYSTEM_GONE)
        with qt_messages_to_log():  # Qt Multimedia's back-end chatter would bury our one sentence
            from PySide6.QtCore import QCoreApplication, QThread
            from PySide6.QtMultimedia import QMediaDevices

            if QCoreApplication.instance() is None:
                self._app = QCoreApplication([])
            if not QMediaDevices.audioOutputs():
                raise SpeechUnavailableError(messages.NO_AUDIO_OUTPUT)
            self._queue: deque[tuple[int, Pcm, str | None]] = deque()
            self._tail: str | None = None  # the tag of the item written in full that may still be in the buffer
            self.queued_at = 0.0  # when the newest sound was handed over (monotonic)
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

    def play(self, pcm: Pcm, tag: str | None = None) -> None:
        """Queue ``pcm``; the player thread writes it to the device (after a failure it is only kept, as lost)."""
        with self._lock:
            self._queue.append((self._epoch, pcm, tag))
            self.queued_at = time.monotonic()  # the stall clock counts from the newest sound handed over too
            if self.failure is not None:
                return
            self._idle.clear()
        emit(self._player.wake)

    def unplayed(self) -> list[str]:
        """The tags of what is queued or may still be in the device's buffer, oldest first."""
        with self._lock:
            tags = [self._tail] + [tag for _, _, tag in self._queue]
        return [tag for tag in tags if tag is not None]

    def clear(self) -> None:
        """Drop the queue, then reset the sink on its thread (a queued call: it runs within milliseconds)."""
        with self._lock:
            self._epoch += 1
            self._queue.clear()
            self._tail = None
            self.audio_started_at = None
        emit(self._player.reset)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the queue is empty and the device has played it all."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Stop the sound and the thread; the player and its sink are deleted on their own thread."""
        if self._thread.isFinished():
            return
        self.clear()
        emit(self._player.shut)
        self._thread.quit()
        self._thread.wait(5000)

    # Called on the player thread.
    def _take(self) -> tuple[int, Pcm, str | None] | None:
        with self._lock:
            return self._queue[0] if self._queue else None

    def _consumed(self, epoch: int, rest: Pcm | None) -> None:
        with self._lock:
            if epoch != self._epoch or not self._queue:
                return
            if rest is None:
                self._tail = self._queue.popleft()[2]
            else:
                self._queue[0] = (epoch, rest, self._queue[0][2])
                self._tail = None  # the one before is past the buffer by now, all but its last few milliseconds
            if self.audio_started_at is None:
                self.audio_started_at = time.perf_counter()

    def _went_idle(self) -> None:
        with self._lock:
            if not self._queue:
                self._tail = None
                self._idle.set()

    def _fail(self, reason: str, is_sound_system_gone: bool = False) -> None:
        # Broken for good: say so once, then let every wait() return, in that order: nothing may see the speech
        # finished before it has been told why.
        with self._lock:
            if self.failure is not None:
                return
            self.failure = reason
        if is_sound_system_gone:
            _sound_system_gone.set()
        log.info("Audio output failed: %s", reason)  # the speaker tells the user, once
        if self.on_failed is not None:
            self.on_failed(reason)
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
            self.output_device: Any = None  # the device chosen when the output was made, kept for every sink
            self.last_progress = time.monotonic()  # the last time the sink took audio, or audio arrived when idle
            self.has_taken = False  # whether the sink has taken any audio since it was started

        @Slot()
        def open(self) -> None:
            try:
                self.timer = QTimer(self)
                self.timer.setInterval(QtAudioOutput.PUMP_MS)
                self.timer.timeout.connect(self.pump)
                self.wake.connect(self.pump)
                self.reset.connect(self.on_reset)
                self.shut.connect(self.on_shut)
                self.output_device = QMediaDevices.defaultAudioOutput()
                if self.output_device.isNull():
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
            self.sink = QAudioSink(self.output_device, audio_format, self)
            self.sink.setBufferSize(int(pcm.rate * pcm.channels * pcm.width * QtAudioOutput.BUFFER_S))
            self.format = pcm.format
            self.device = self.sink.start()
            self.has_taken = False
            if self.device is None or self.sink.error() != QtAudio.Error.NoError:
                self.owner._fail(messages.AUDIO_DEVICE_DID_NOT_OPEN.format(error=self.sink.error().name))
                return False
            return True

        @Slot()
        def pump(self) -> None:
            assert self.timer is not None
            if self.owner.failure is not None:
                self.timer.stop()
                return
            if not self.timer.isActive():
                self.last_progress = time.monotonic()  # woken from idle: the stall clock starts now
            while (item := self.owner._take()) is not None:
                epoch, pcm, _ = item
                if not self.ensure_sink(pcm):
                    self.timer.stop()
                    return
                assert self.sink is not None and self.device is not None
                free = self.sink.bytesFree()
                if free <= 0:
                    break
                free -= free % (pcm.channels * pcm.width)
                written = self.device.write(pcm.data[:free])
                if written <= 0:
                    break
                self.last_progress = time.monotonic()
                self.has_taken = True
                rest = pcm.data[written:]
                self.owner._consumed(epoch, Pcm(rest, pcm.rate, pcm.channels, pcm.width) if rest else None)
            state = self.sink.state() if self.sink is not None else QtAudio.State.StoppedState
            if self.sink is not None and state == QtAudio.State.StoppedState and (
                    self.sink.error() not in (QtAudio.Error.NoError, QtAudio.Error.UnderrunError)):
                self.timer.stop()  # stopped by an error with sound owed: restarting the timer would wait for ever
                self.owner._fail(messages.AUDIO_DEVICE_DID_NOT_OPEN.format(error=self.sink.error().name))
                return
            idle = state in (QtAudio.State.IdleState, QtAudio.State.StoppedState)
            waited = time.monotonic() - max(self.last_progress, self.owner.queued_at)
            if self.owner._take() is None and (idle or waited > QtAudioOutput.DRAIN_S):
                # All written: the sink is done once it says so, or once its buffer has had time to drain (a
                # PulseAudio sink may stay "active" after its last sample; a dead one always does).
                self.timer.stop()
                self.owner._went_idle()
                return
            stall_s = QtAudioOutput.STALL_S if self.has_taken else QtAudioOutput.START_STALL_S
            if self.owner._take() is not None and waited > stall_s:  # sound owed, and none taken for that long
                self.timer.stop()
                self.owner._fail(messages.SOUND_SYSTEM_STOPPED, is_sound_system_gone=True)
                return
            if not self.timer.isActive():
                self.timer.start()

        @Slot()
        def on_reset(self) -> None:
            if self.owner.failure is not None:
                return  # restarting a dead sink would abort the process inside libpulse
            self.last_progress = time.monotonic()  # a restarted sink's stall clock starts now
            if self.sink is not None:
                self.sink.reset()
                self.device = self.sink.start()
            self.has_taken = False
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
