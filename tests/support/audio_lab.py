"""A private PulseAudio server with a virtual speaker and microphone, and a recorder that timestamps what plays.

Used by the speech tests and benchmarks on machines with no sound card. The server runs as a child of this
process, is reached only through its own socket (``PULSE_SERVER``), never autospawns, and is stopped by PID.

The recorder reads the virtual speaker's monitor in 5 ms blocks through ``parec`` and stamps each block with
``time.monotonic()`` as it arrives, so an event in the app (a sentence completed, ``stop()`` called) can be compared
with the moment its sound appeared or ended. A block arrives a few milliseconds after it played, so the times it
gives are, if anything, a little late.
"""

from __future__ import annotations

import array
import ctypes
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from types import TracebackType
from typing import Any

RATE = 22050
BLOCK_SAMPLES = 110  # 5 ms at 22,050 Hz
LOUD_RMS = 300.0  # eSpeak NG speech is in the thousands; a null sink's silence is exactly 0

_SERVER_SCRIPT = "\n".join([
    "load-module module-native-protocol-unix socket={socket}",
    "load-module module-null-sink sink_name=vspeaker sink_properties=device.description=VirtualSpeaker",
    "load-module module-null-sink sink_name=vmic_feed sink_properties=device.description=VirtualMicFeed",
    # The screen reader's own speaker: speech-dispatcher plays here, so that its voice and the app's can be told apart.
    "load-module module-null-sink sink_name=screen_reader_speaker sink_properties=device.description=ScreenReader",
    "load-module module-remap-source master=vmic_feed.monitor source_name=vmic "
    "source_properties=device.description=VirtualMic",
    "set-default-sink vspeaker",
    "set-default-source vmic",
    "",
])


def _die_with_parent() -> None:
    """Run in the child before exec: on Linux, have the kernel stop it if this process dies without cleaning up."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


class AudioLabError(RuntimeError):
    """The private audio server could not be started."""


class PrivatePulse:
    """``with PrivatePulse() as pulse:`` a PulseAudio server whose clients find it through ``pulse.env``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="seeing-assistant-pulse-"))
        self.socket = self.folder / "native"
        self.client_config = self.folder / "client.conf"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a client's environment needs to use this server, and only this server."""
        return {"PULSE_SERVER": f"unix:{self.socket}", "PULSE_CLIENTCONFIG": str(self.client_config)}

    def start(self) -> PrivatePulse:
        """Start the server and wait until it answers."""
        if shutil.which("pulseaudio") is None or shutil.which("parec") is None:
            raise AudioLabError("pulseaudio and parec are needed: apt install pulseaudio pulseaudio-utils")
        (self.folder / "runtime").mkdir(mode=0o700)
        (self.folder / "pulse.pa").write_text(_SERVER_SCRIPT.format(socket=self.socket))
        self.client_config.write_text("autospawn = no\n")
        env = dict(os.environ, XDG_RUNTIME_DIR=str(self.folder / "runtime"), HOME=str(self.folder),
                   **self.env)
        # No D-Bus: a second server would find its bus name taken and exit, and with DISPLAY set the bus would be
        # autolaunched through X11 and left running.
        env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={self.folder / 'no-bus'}"
        env.pop("DISPLAY", None)
        self.process = subprocess.Popen(
            ["pulseaudio", "-n", "-F", str(self.folder / "pulse.pa"), "--daemonize=no", "--exit-idle-time=-1",
             "--use-pid-file=no", "--log-target=stderr"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=(self.folder / "server.log").open("wb"), preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AudioLabError("pulseaudio exited: " + (self.folder / "server.log").read_text()[-500:])
            check = subprocess.run(["pactl", "info"], env=dict(os.environ, **self.env), capture_output=True)
            if check.returncode == 0:
                return self
            time.sleep(0.1)
        self.stop()
        raise AudioLabError("pulseaudio did not start within 15 s")

    def kill(self) -> None:
        """Kill the server by PID (SIGKILL: the sound system crashed); its folder stays until ``stop``."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def pactl(self, *arguments: str) -> str:
        """Run ``pactl`` against this server and return what it printed."""
        done = subprocess.run(["pactl", *arguments], env=dict(os.environ, **self.env), capture_output=True,
                              text=True, check=True)
        return done.stdout.strip()

    def stop(self) -> None:
        """Stop the server (by its PID) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PrivatePulse:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class Recorder:
    """Records the virtual speaker: a list of (arrival time, RMS) per 5 ms block, plus the raw samples."""

    def __init__(self, pulse: PrivatePulse, sink: str = "vspeaker") -> None:
        self.blocks: list[tuple[float, float]] = []
        self.samples = array.array("h")
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            ["parec", "--raw", "--latency-msec=5", "-d", f"{sink}.monitor", f"--rate={RATE}", "--channels=1",
             "--format=s16le"],
            env=dict(os.environ, **pulse.env), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        self._thread = threading.Thread(target=self._read, name="recorder", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.blocks:  # parec can take a second to deliver its first block: wait for it
            if time.monotonic() > deadline or self._process.poll() is not None:
                self.close()
                raise AudioLabError("parec delivered no audio from the virtual speaker")
            time.sleep(0.01)

    def _read(self) -> None:
        assert self._process.stdout is not None
        while block := self._process.stdout.read(BLOCK_SAMPLES * 2):
            now = time.monotonic()
            samples = array.array("h", block[: len(block) - len(block) % 2])
            rms = math.sqrt(sum(sample * sample for sample in samples) / max(1, len(samples)))
            with self._lock:
                self.blocks.append((now, rms))
                self.samples.extend(samples)

    def first_loud(self, after: float, timeout: float = 10.0) -> float | None:
        """When the first loud block after ``after`` arrived, waiting up to ``timeout`` for one."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                for stamp, rms in self.blocks:
                    if stamp > after and rms >= LOUD_RMS:
                        return stamp
            if time.monotonic() > deadline:
                return None
            time.sleep(0.005)

    def wait_until_loud_now(self, timeout: float = 5.0) -> bool:
        """Wait until the newest block is loud (in the middle of a word, not in a pause between two)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.blocks and self.blocks[-1][1] >= LOUD_RMS:
                    return True
            time.sleep(0.001)
        return False

    def last_loud(self, after: float, before: float) -> float | None:
        """When the last loud block between the two times arrived (None: all quiet)."""
        with self._lock:
            loud = [stamp for stamp, rms in self.blocks if after < stamp <= before and rms >= LOUD_RMS]
        return loud[-1] if loud else None

    def loud_seconds(self, after: float, before: float) -> float:
        """How much sound (in seconds of loud blocks) arrived between the two times."""
        with self._lock:
            count = sum(1 for stamp, rms in self.blocks if after < stamp <= before and rms >= LOUD_RMS)
        return count * BLOCK_SAMPLES / RATE

    def close(self) -> None:
        """Stop ``parec`` (by PID)."""
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)
        self._thread.join(5)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def speech_profile(samples: array.array[int] | bytes, rate: int = RATE) -> tuple[float, float]:
    """(duration in seconds, share of 20 ms windows that are loud): how a test tells speech from silence."""
    if isinstance(samples, bytes):
        samples = array.array("h", samples[: len(samples) - len(samples) % 2])
    window = max(1, rate // 50)
    windows = [samples[start:start + window] for start in range(0, len(samples) - window + 1, window)]
    loud = sum(1 for part in windows if math.sqrt(sum(s * s for s in part) / len(part)) >= LOUD_RMS)
    return len(samples) / rate, (loud / len(windows) if windows else 0.0)


SPOKEN_QUESTION = "What colour is the big button?"  # what the tests' spoken question says


def write_wav(path: Path, samples: Any, rate: int, width: int, channels: int = 1) -> Path:
    """A WAV file of ``samples`` (-1 to 1) at any rate, sample width and channel count."""
    import numpy as np

    scaled = {1: lambda x: (x * 127 + 128).astype(np.uint8).tobytes(),
              2: lambda x: (x * 32767).astype("<i2").tobytes(),
              3: lambda x: b"".join(struct.pack("<i", int(v * 8388607))[:3] for v in x),
              4: lambda x: (x * 2147483647).astype("<i4").tobytes()}[width]
    interleaved = np.repeat(samples, channels) if channels > 1 else samples
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(scaled(interleaved))
    return path
