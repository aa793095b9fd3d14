"""Record a spoken question from the default microphone with a Qt Multimedia source (16 kHz mono when it can)."""

from __future__ import annotations

import time

from PySide6.QtCore import QBuffer, QIODevice, QObject, QTimer, Signal
from PySide6.QtMultimedia import QAudioFormat, QAudioSource, QMediaDevices, QtAudio

from seeing_assistant.core import asr, messages
from seeing_assistant.core.errors import BadInputError, SeeingAssistantError

BACKSTOP_S = 3  # past the limit by this much on the clock, listening stops even if no sound arrives at all


class Microphone(QObject):
    """Records into a memory buffer that the audio source writes to.

    ``start()``, then ``stop()`` returns the audio, or ``cancel()`` drops it. With a time limit, recording pauses by
    itself when it is reached and ``limit_reached`` is emitted: what was heard so far is kept for ``stop()``.

    Signals:
        limit_reached(seconds): the recording reached its time limit and stopped taking sound.
    """

    limit_reached = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source: QAudioSource | None = None
        self.buffer: QBuffer | None = None
        self.rate = asr.RATE
        self.channels = 1
        self.started_at = 0.0
        self.limit_s: int | None = None
        self._limit_bytes = 0
        # The limit counts the sound that arrived, not the clock: the source starts late and hands over 100 ms
        # pieces, so a clock would cut the question's last second. The clock is only the backstop for a source that
        # stops delivering altogether.
        self._backstop = QTimer(self)
        self._backstop.setSingleShot(True)
        self._backstop.timeout.connect(self._on_limit)

    @property
    def is_recording(self) -> bool:
        """Whether it is listening now."""
        return self.source is not None

    @property
    def data(self) -> bytes:
        """What has been recorded so far (16-bit PCM)."""
        return bytes(self.buffer.data().data()) if self.buffer is not None else b""

    def start(self, limit_s: int | None = None) -> None:
        """Open the default microphone and record (for ``limit_s`` seconds at most); one sentence when it cannot.

        The sentence comes as SeeingAssistantError.
        """
        if self.source is not None:
            return
        if not QMediaDevices.audioInputs() or QMediaDevices.defaultAudioInput().isNull():
            raise SeeingAssistantError(messages.NO_MICROPHONE)
        device = QMediaDevices.defaultAudioInput()
        wanted = QAudioFormat()
        wanted.setSampleRate(asr.RATE)
        wanted.setChannelCount(1)
        wanted.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        chosen = wanted if device.isFormatSupported(wanted) else device.preferredFormat()
        chosen.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self.rate, self.channels = chosen.sampleRate(), chosen.channelCount()
        buffer = QBuffer(self)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        buffer.bytesWritten.connect(self._on_written)
        source = QAudioSource(device, chosen, self)
        source.setBufferSize(self.rate * self.channels * 2 // 10)  # 100 ms pieces
        source.start(buffer)
        if source.error() != QtAudio.Error.NoError:
            reason = str(source.error()).rsplit(".", 1)[-1]
            source.stop()
            raise SeeingAssistantError(messages.MICROPHONE_FAILED.format(reason=reason))
        self.source, self.buffer = source, buffer
        self.started_at = time.perf_counter()
        self.limit_s = limit_s
        if limit_s is not None:
            self._limit_bytes = limit_s * self.rate * self.channels * 2
            self._backstop.start((limit_s + BACKSTOP_S) * 1000)

    def _on_written(self, _count: int) -> None:
        if self.buffer is not None and self.limit_s is not None and self.buffer.size() >= self._limit_bytes:
            self._on_limit()

    def _on_limit(self) -> None:
        """Stop taking sound (the buffer keeps all that came) and say so, once; the owner decides what follows."""
        if self.source is None or self.limit_s is None:
            return
        seconds, self.limit_s = self.limit_s, None
        self._backstop.stop()
        self.source.stop()
        self.limit_reached.emit(seconds)

    def stop(self) -> asr.Audio:
        """Stop and return what was recorded, as 16 kHz mono; its ``checked()`` says if it is too short or silent."""
        if self.source is None:
            raise BadInputError(messages.RECORDING_TOO_SHORT.format(source="the recording"))
        self.source.stop()
        data = self.data
        self._release()
        return asr.from_pcm16(data, self.rate, self.channels, "the recording")

    def cancel(self) -> None:
        """Stop and forget the recording."""
        if self.source is not None:
            self.source.stop()
        self._release()

    def _release(self) -> None:
        self._backstop.stop()
        self.limit_s = None
        for part in (self.source, self.buffer):
            if part is not None:
                part.deleteLater()
        self.source, self.buffer = None, None
