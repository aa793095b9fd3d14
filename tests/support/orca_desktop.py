"""A private desktop with the real Orca: Xvfb, a D-Bus session, PulseAudio with two virtual speakers,
speech-dispatcher behind a logging SSIP relay, and Orca itself with a private HOME; all stopped by PID.

Two Orcas: the host's (Debian 12's Orca 43), and Debian 13's Orca 48 (the Orca of current GNOME desktops) from a
root that :func:`orca_48_root` builds once with mmdebstrap and keeps. Orca 48 runs there with ``chroot`` in a private
mount namespace that binds ``/proc``, ``/dev``, the X server's sockets and this desktop's folder (its HOME, runtime
folder, debug log and the SSIP relay's socket) at the same paths, so it shares the session bus, the accessibility bus
and speech-dispatcher with everything else, exactly as an Orca started in the same desktop session would.

Used by the Orca test (``tests/desktop/test_orca.py``) and the one-voice benchmark (``benchmarks/one_voice.py``).
Needs Debian's xvfb, dbus, orca, speech-dispatcher(-espeak-ng) and pulseaudio(-utils).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

from tests.support.audio_lab import PrivatePulse, _die_with_parent
from tests.support.cli import SHOW_IMAGE
from tests.support.polling import wait_for
from tests.support.speech_dispatcher import PrivateSpeechDispatcher
from tests.support.xvfb import start_xvfb


def stop_process(process: subprocess.Popen[Any] | None, grace: float = 5.0) -> None:
    """SIGTERM by PID, then SIGKILL after ``grace`` seconds (Orca 43 ignores SIGTERM)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)

# --- the SSIP relay ------------------------------------------------------------------------------------------------

class SsipRelay:
    """Passes SSIP between clients and speech-dispatcher unchanged, and logs messages and their events."""

    EVENTS: ClassVar[dict[str, str]] = {"701": "begin", "702": "end", "703": "cancel", "704": "pause", "705": "resume"}

    def __init__(self, upstream: str, folder: Path) -> None:
        self.upstream = upstream
        self.path = folder / "relay.sock"
        self.log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(8)
        self._sockets: list[socket.socket] = [self._server]
        self._count = 0
        threading.Thread(target=self._accept, name="ssip-relay", daemon=True).start()

    @property
    def env(self) -> dict[str, str]:
        """What a client needs to speak through the relay."""
        return {"SPEECHD_ADDRESS": f"unix_socket:{self.path}"}

    def _note(self, **entry: Any) -> None:
        entry["t"] = time.monotonic()
        with self._lock:
            self.log.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """Every message and event so far, in order."""
        with self._lock:
            return list(self.log)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            self._count += 1
            state: dict[str, Any] = {"id": self._count, "client": "?", "pending": deque(), "texts": {}}
            self._sockets += [client, upstream]
            threading.Thread(target=self._from_client, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._from_server, args=(upstream, client, state), daemon=True).start()

    def _from_client(self, source: socket.socket, target: socket.socket, state: dict[str, Any]) -> None:
        buffer = b""
        data: list[str] | None = None
        try:
            while chunk := source.recv(65536):
                buffer += chunk  # parsed before it is passed on, so that the reply always finds its text
                *lines, buffer = buffer.split(b"\r\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace")
                    if data is not None:
                        if line == ".":
                            text = "\n".join(data)
                            state["pending"].append(text)
                            self._note(conn=state["id"], client=state["client"], kind="speak", text=text)
                            data = None
                        else:
                            data.append(line[1:] if line.startswith("..") else line)
                        continue
                    word = line.split(" ")
                    upper = line.upper()
                    if upper == "SPEAK":
                        data = []
                    elif upper.startswith("SET SELF CLIENT_NAME"):
                        state["client"] = word[-1]
                    elif upper.startswith(("CANCEL", "STOP", "SET SELF PRIORITY", "CHAR", "KEY", "SOUND_ICON",
                                           "QUIT")):
                        self._note(conn=state["id"], client=state["client"], kind="command", text=line)
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def _from_server(self, source: socket.socket, target: socket.socket, state: dict[str, Any]) -> None:
        buffer, reply = b"", []
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
                buffer += chunk
                *lines, buffer = buffer.split(b"\r\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace")
                    reply.append(line)
                    if len(line) > 3 and line[3] == "-":
                        continue
                    code, first = line[:3], reply[0]
                    reply = []
                    if code == "225" and state["pending"]:
                        text = state["pending"].popleft()
                        try:
                            state["texts"][int(first[4:])] = text
                        except ValueError:
                            continue
                        self._note(conn=state["id"], client=state["client"], kind="queued",
                                   message=int(first[4:]), text=text)
                        with self._lock:  # an event can come before the reply that gave its message's id
                            for entry in self.log:
                                if (entry["conn"] == state["id"] and entry.get("message") == int(first[4:])
                                        and entry["text"] is None):
                                    entry["text"] = text
                    elif code in self.EVENTS:
                        try:
                            message = int(first[4:])
                        except ValueError:
                            continue
                        self._note(conn=state["id"], client=state["client"], kind=self.EVENTS[code],
                                   message=message, text=state["texts"].get(message))
        except OSError:
            pass

    def close(self) -> None:
        """Close the listening socket and every relayed connection."""
        for each in self._sockets:
            with contextlib.suppress(OSError):
                each.close()


# --- Orca's debug log ---------------------------------------------------------------------------------------------

_STAMP = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d+) - (.*)$")
# Orca 43: "SPEECH OUTPUT: 'text'"; Orca 48 follows it with the voice: "SPEECH OUTPUT: 'text' {'established': ...}".
_SPEECH = re.compile(r"SPEECH OUTPUT: '(.*?)'\s*(?:\{.*\})?\s*$", re.DOTALL)


# Orca opens its debug file with the default 8 KB buffer, so its last lines (often the last thing it said) reach the
# disk only when later lines push them out. Run Orca's own script with that one file line-buffered instead.
_SYSTEM_PYTHON = "/usr/bin/python3"  # Orca's interpreter, with the system's gi bindings
_ORCA_LINE_BUFFERED = """
import builtins, runpy, sys
script, sys.argv = sys.argv[1], ["orca", *sys.argv[2:]]
log = next(arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--debug-file="))
plain_open = builtins.open
def open_line_buffered(file, mode="r", *args, **kwargs):
    if file == log and "w" in mode and not args and "buffering" not in kwargs:
        kwargs["buffering"] = 1
    return plain_open(file, mode, *args, **kwargs)
builtins.open = open_line_buffered
runpy.run_path(script, run_name="__main__")
"""


def orca_log(path: Path) -> list[tuple[float, str]]:
    """Orca's debug lines as (monotonic time, text): its wall-clock stamps moved onto this process's clock."""
    if not path.exists():
        return []
    offset = time.time() - time.monotonic()
    today = datetime.date.today()
    now = time.time()
    lines: list[tuple[float, str]] = []
    for line in path.read_text(errors="replace").splitlines():
        match = _STAMP.match(line)
        if not match:
            if lines:  # a continuation of the line before
                lines[-1] = (lines[-1][0], lines[-1][1] + "\n" + line)
            continue
        hours, minutes, seconds, fraction, text = match.groups()
        moment = datetime.datetime.combine(today, datetime.time(int(hours), int(minutes), int(seconds),
                                                                int(fraction[:6].ljust(6, "0"))))
        stamp = moment.timestamp()
        if stamp > now + 3600:  # written before midnight
            stamp -= 86400
        lines.append((stamp - offset, text))
    return lines


def orca_speech(path: Path) -> list[tuple[float, str]]:
    """What Orca said: (time, text) of each SPEECH OUTPUT line."""
    spoken = []
    for stamp, text in orca_log(path):
        match = _SPEECH.search(text.split("\n", 1)[0])  # the line itself, not the debug lines folded into it
        if match and match.group(1).strip():
            spoken.append((stamp, match.group(1)))
    return spoken


# --- Debian 13's Orca 48, in a root of its own ---------------------------------------------------------------------

# Orca speaks through the host's speech-dispatcher (via the relay); xkbcomp reads the keyboard map at start-up.
ORCA_48_PACKAGES = ["orca", "python3-speechd", "x11-xkb-utils"]
ORCA_48_SUITE = "trixie"


def orca_cache() -> Path:
    """Where built roots are kept between runs: ``SEEING_ASSISTANT_TEST_CACHE``, else /var/cache (root) or ~/.cache."""
    if os.environ.get("SEEING_ASSISTANT_TEST_CACHE"):
        return Path(os.environ["SEEING_ASSISTANT_TEST_CACHE"])
    if os.getuid() == 0:
        return Path("/var/cache/seeing-assistant-tests")
    return Path.home() / ".cache" / "seeing-assistant-tests"


def orca_48_root() -> Path:
    """Debian 13's Orca in a root of its own, built once with mmdebstrap (about a minute; needs root) and kept.

    Built into a temporary folder and renamed when complete, under a lock, so that a build cut short or two at once
    never leave a half-made root behind.
    """
    cache = orca_cache()
    recipe = hashlib.sha256(" ".join([ORCA_48_SUITE, *ORCA_48_PACKAGES]).encode()).hexdigest()[:8]
    root = cache / f"{ORCA_48_SUITE}-orca-{recipe}"  # a new recipe builds a new root
    if (root / "usr" / "bin" / "orca").exists():
        return root
    if os.getuid() != 0:
        raise RuntimeError("building Debian 13's Orca root needs root (mmdebstrap, then chroot)")
    if shutil.which("mmdebstrap") is None:
        raise RuntimeError("mmdebstrap is missing: run scripts/install --test")
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / "usr" / "bin" / "orca").exists():
            return root
        building = cache / f".{root.name}.building"
        shutil.rmtree(building, ignore_errors=True)
        done = subprocess.run(["mmdebstrap", "--variant=apt", "--include=" + ",".join(ORCA_48_PACKAGES),
                               ORCA_48_SUITE, str(building), "http://deb.debian.org/debian"],
                              capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            shutil.rmtree(building, ignore_errors=True)
            raise RuntimeError(f"mmdebstrap failed: {done.stderr[-800:]}")
        building.rename(root)
    return root


# Run inside a private mount namespace (unshare --mount): bind what Orca shares with the desktop, then chroot.
_CHROOT = """set -e
root="$1"; shift
mount --make-rprivate /
mount -t tmpfs tmpfs "$root/tmp"
mount --bind /proc "$root/proc"
mount --rbind /dev "$root/dev"
mkdir -p "$root/tmp/.X11-unix"
mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
while [ "$1" != "--" ]; do
  if [ -d "$1" ]; then mkdir -p "$root$1"; else mkdir -p "$(dirname "$root$1")"; touch "$root$1"; fi
  mount --bind "$1" "$root$1"
  shift
done
shift
exec chroot "$root" "$@"
"""


def chrooted(root: Path, shared: list[Path], command: list[str]) -> list[str]:
    """``command`` run in ``root`` with ``/proc``, ``/dev``, the X sockets and the ``shared`` folders and files
    (sockets among them) bound in at the same paths."""
    return ["unshare", "--mount", "--", "sh", "-c", _CHROOT, "sh", str(root), *map(str, shared), "--", *command]


def orca_version(root: Path | None = None) -> str:
    """What ``orca --version`` prints, of the host's Orca or the one in ``root``."""
    command = ["orca", "--version"] if root is None else ["chroot", str(root), "orca", "--version"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else "unknown"


# --- the session --------------------------------------------------------------------------------------------------

class Desktop:
    """Xvfb, a D-Bus session, PulseAudio, speech-dispatcher (behind the relay) and Orca, all private."""

    def __init__(self, folder: Path, orca_root: Path | None = None) -> None:
        self.folder = folder
        self.orca_root = orca_root  # Orca from this root (Debian 13's), else the host's
        self.home = folder / "home"
        for sub in (".config", ".cache", ".local/share", "runtime"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        (self.home / "runtime").chmod(0o700)
        self.orca_debug = folder / "orca-debug.log"
        self.xvfb: subprocess.Popen[bytes] | None = None
        self.bus: subprocess.Popen[str] | None = None
        self.orca: subprocess.Popen[bytes] | None = None
        self.picture: subprocess.Popen[str] | None = None
        self.pulse: PrivatePulse | None = None
        self.speechd: PrivateSpeechDispatcher | None = None
        self.relay: SsipRelay | None = None
        self.display = ""
        self.bus_address = ""

    def env(self) -> dict[str, str]:
        """The desktop session's environment, with a private HOME (Orca's and dconf's settings stay in it)."""
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("XDG_", "DBUS_", "SPEECHD_", "PULSE_", "QT_", "GTK_", "AT_SPI"))}
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"),
                   XDG_CACHE_HOME=str(self.home / ".cache"), XDG_DATA_HOME=str(self.home / ".local/share"),
                   XDG_RUNTIME_DIR=str(self.home / "runtime"), DISPLAY=self.display,
                   DBUS_SESSION_BUS_ADDRESS=self.bus_address)
        assert self.pulse is not None and self.relay is not None
        env.update(self.pulse.env)
        env.update(self.relay.env)
        return env

    def start(self) -> None:
        """The Xvfb, bus, audio and relay; Orca comes later (:meth:`start_orca`)."""
        self.xvfb, self.display = start_xvfb(1280, 800)
        self.pulse = PrivatePulse().start()
        self.speechd = PrivateSpeechDispatcher(self.pulse).start()
        self.relay = SsipRelay(str(self.speechd.socket), self.folder)
        bus_env = {name: value for name, value in os.environ.items() if not name.startswith("DBUS_")}
        bus_env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"),
                       XDG_RUNTIME_DIR=str(self.home / "runtime"), DISPLAY=self.display)
        # The session lasts as long as ``cat`` reads its standard input: closing it ends the bus.
        session = 'echo "$DBUS_SESSION_BUS_ADDRESS"; exec cat'
        self.bus = subprocess.Popen(["dbus-run-session", "--", "sh", "-c", session],
                                    env=bus_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True, preexec_fn=_die_with_parent)
        assert self.bus.stdout is not None
        self.bus_address = self.bus.stdout.readline().strip()
        if not self.bus_address:
            raise RuntimeError("dbus-run-session gave no bus address")

    def show_picture(self, image: Path) -> None:
        """A picture on the right of the screen, so that a capture is not blank."""
        env = dict(self.env(), QT_QPA_PLATFORM="xcb")
        self.picture = subprocess.Popen([sys.executable, str(SHOW_IMAGE), str(image), "760", "120"], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                        preexec_fn=_die_with_parent)
        assert self.picture.stdout is not None
        line = self.picture.stdout.readline()
        if not line.startswith("shown"):
            raise RuntimeError("the picture was not shown")

    def start_orca(self) -> float:
        """Start Orca headless and wait until it has said that it is on; seconds it took."""
        env = dict(self.env(), GTK_MODULES="gail:atk-bridge")
        started = time.monotonic()
        command = [_SYSTEM_PYTHON, "-c", _ORCA_LINE_BUFFERED, "/usr/bin/orca", "--replace",
                   f"--debug-file={self.orca_debug}"]
        if self.orca_root is not None:
            shared = [self.folder]
            bus = re.match(r"unix:path=([^,]+)", self.bus_address)
            if bus:  # a bus socket in the file system (an abstract one needs no binding)
                shared.append(Path(bus.group(1)))
            command = chrooted(self.orca_root, shared, command)
        self.orca = subprocess.Popen(command, env=env,
                                     stdin=subprocess.DEVNULL, stdout=(self.folder / "orca.out").open("wb"),
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        if not wait_for(lambda: any("Screen reader on" in text for _, text in orca_speech(self.orca_debug)), 40,
                        step=0.2):
            raise RuntimeError("Orca did not say 'Screen reader on' within 40 s: "
                               + (self.folder / "orca.out").read_text(errors="replace")[-600:])
        return time.monotonic() - started

    def leftovers(self) -> list[int]:
        """PIDs of this user's processes still running with this session's private HOME (bus-activated services)."""
        marker = f"HOME={self.home}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if entry.stat().st_uid == os.getuid() and marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def stop(self) -> list[int]:
        """Stop everything (by PID), the bus last; returns the PIDs that had to be stopped after the bus ended."""
        stop_process(self.orca, grace=3)
        stop_process(self.picture)
        if self.bus is not None and self.bus.poll() is None:
            assert self.bus.stdin is not None
            self.bus.stdin.close()
            try:
                self.bus.wait(10)
            except subprocess.TimeoutExpired:
                stop_process(self.bus)
        time.sleep(0.5)
        stragglers = self.leftovers()
        for pid in stragglers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        time.sleep(0.5)
        for pid in self.leftovers():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if self.relay is not None:
            self.relay.close()
        if self.speechd is not None:
            self.speechd.stop()
        if self.pulse is not None:
            self.pulse.stop()
        stop_process(self.xvfb)
        return stragglers

