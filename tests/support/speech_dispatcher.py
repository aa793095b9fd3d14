"""A private speech-dispatcher, the queue Orca speaks through, playing on the private PulseAudio's own sink.

It runs in the foreground as a child of this process with its own socket, configuration and log, and is stopped by
PID. Its audio goes to the ``screen_reader_speaker`` sink of :class:`~tests.support.audio_lab.PrivatePulse`, so a
test can record the screen reader's voice apart from the app's.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.support.audio_lab import AudioLabError, PrivatePulse, _die_with_parent

SINK = "screen_reader_speaker"
_CONFIG = """LogLevel 3
AudioOutputMethod "pulse"
AudioPulseDevice "{sink}"
AddModule "espeak-ng" "sd_espeak-ng" "espeak-ng.conf"
DefaultModule espeak-ng
DefaultLanguage "en"
"""


class PrivateSpeechDispatcher:
    """``with PrivateSpeechDispatcher(pulse) as speechd:``; clients find it through ``speechd.env``."""

    def __init__(self, pulse: PrivatePulse) -> None:
        self.pulse = pulse
        self._folder = tempfile.TemporaryDirectory(prefix="sa-speechd-")
        self.socket = Path(self._folder.name) / "speechd.sock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a client (the app, or a stand-in screen reader) needs to reach this server."""
        return {"SPEECHD_ADDRESS": f"unix_socket:{self.socket}"}

    def start(self) -> PrivateSpeechDispatcher:
        """Start the server and wait for its socket."""
        command = shutil.which("speech-dispatcher")
        if command is None:
            raise AudioLabError("speech-dispatcher is not installed: run scripts/install --test")
        folder = Path(self._folder.name)
        config = folder / "conf"
        shutil.copytree("/etc/speech-dispatcher/modules", config / "modules", dirs_exist_ok=True)
        (folder / "pid").unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)  # a killed server leaves its socket: waiting for it would be no wait
        (config / "speechd.conf").write_text(_CONFIG.format(sink=SINK))
        self._process = subprocess.Popen(
            [command, "-s", "-t", "0", "-C", str(config), "-S", str(self.socket), "-P", str(folder / "pid"),
             "-L", str(folder / "log")],
            env={**os.environ, **self.pulse.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            if time.monotonic() > deadline or self._process.poll() is not None:
                self.stop()
                raise AudioLabError("speech-dispatcher did not start")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """Kill the server by PID (SIGKILL: a crash, no goodbye to its clients); ``start`` again restarts it."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def stop(self) -> None:
        """Stop the server by PID and remove its files."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._folder.cleanup()

    def __enter__(self) -> PrivateSpeechDispatcher:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
