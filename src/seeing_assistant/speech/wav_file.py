"""An audio output that collects the speech into a WAV file (``--audio-out``)."""

from __future__ import annotations

import os
import threading
import time
import wave
from pathlib import Path
from typing import BinaryIO

from seeing_assistant.core import messages
from seeing_assistant.core.errors import BadInputError
from seeing_assistant.core.files import write_atomically
from seeing_assistant.speech.output import AudioOutput
from seeing_assistant.speech.voice import Pcm


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

    def play(self, pcm: Pcm, tag: str | None = None) -> None:
        """Append ``pcm``; every piece must have the same format (they all come from one engine)."""
        with self._lock:
            if self._format is None:
                self._format = pcm.format
                self.audio_started_at = time.perf_counter()
            elif pcm.format != self._format:
                pcm = pcm.converted(self._format)
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

            def write(out: BinaryIO) -> None:
                with wave.open(out, "wb") as wav:
                    wav.setnchannels(channels)
                    wav.setsampwidth(width)
                    wav.setframerate(rate)
                    for chunk in self._chunks:
                        wav.writeframes(chunk)

            write_atomically(self.path, write)


def check_writable(path: Path) -> None:
    """Refuse, before any work is done, an audio file path that cannot be written."""
    if path.is_dir():
        raise BadInputError(messages.AUDIO_OUT_IS_FOLDER.format(path=path))
    folder = path.parent
    if not folder.is_dir():
        raise BadInputError(messages.AUDIO_OUT_NO_FOLDER.format(path=path, folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise BadInputError(messages.AUDIO_OUT_NOT_WRITABLE.format(path=path))


