"""Record a spoken question from the default microphone with a Qt Multimedia source (16 kHz mono when it can)."""

from __future__ import annotations

import time

from PySide6.QtCore import QIODevice, QObject
from PySide6.QtMultimedia import QAudioFormat, QAudioSource, QMediaDevices, QtAudio

from seeing_assistant import asr, messages
from seeing_assistant.errors import BadInputError, SeeingAssistantError


class Microphone(QObject):
    """Push-mode recording: ``start()``, then ``stop()`` returns the audio (or ``cancel()`` drops it)."""

    def __init__(self) -> None:
        super().__init__()
        self.source: QAudioSource | None = None
        self.device: QIODevice | None = None
        self.data = bytearray()
        self.rate = asr.RATE
        self.channels = 1
        self.started_at = 0.0

    @property
    def is_recording(self) -> bool:
        """Whether it is listening now."""
        return self.source is not None

    def start(self) -> None:
        """Open the default microphone and record; SeeingAssistantError with one sentence when it cannot."""
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
        self.data = bytearray()
        source = QAudioSource(device, chosen, self)
        self.device = source.start()
        if self.device is None or source.error() != QtAudio.Error.NoError:
            reason = str(source.error()).rsplit(".", 1)[-1]
            source.stop()
            raise SeeingAssistantError(messages.MICROPHONE_FAILED.format(reason=reason))
        self.device.readyRead.connect(self._read)
        self.source = source
        self.started_at = time.perf_counter()

    def _read(self) -> None:
        if self.device is not None:
            self.data += bytes(self.device.readAll().data())

    def stop(self) -> asr.Audio:
        """Stop and return what was recorded (checked: too short or silent recordings raise BadInputError)."""
        if self.source is None:
            raise BadInputError(messages.RECORDING_TOO_SHORT.format(source="the recording"))
        self._read()
        self.source.stop()
        self.source.deleteLater()
        self.source, self.device = None, None
        audio = asr.from_pcm16(bytes(self.data), self.rate, self.channels, "the recording")
        return audio.checked()

    def cancel(self) -> None:
        """Stop and forget the recording."""
        if self.source is not None:
            self.source.stop()
            self.source.deleteLater()
        self.source, self.device = None, None
        self.data = bytearray()
