"""A private Wayland desktop: headless sway (pixman), XWayland, PipeWire and xdg-desktop-portal with its wlr and gtk
backends, on a D-Bus session of its own, run as an ordinary user (sway refuses root); all stopped with the session.

Root (CI) runs it as the user ``seeing-assistant-test``, created on first use, through ``setpriv --reuid``; anyone
else runs it as themselves. Commands meant for the desktop (the app, a test window) run as that user too, with the
session's environment (``WAYLAND_DISPLAY``, ``DISPLAY`` of XWayland, ``DBUS_SESSION_BUS_ADDRESS``, ``SWAYSOCK``).

PipeWire and the wlr portal start before the first client asks for a portal, and the session's environment is given
to D-Bus activation (``dbus-update-activation-environment``): otherwise xdg-desktop-portal starts without the
Screenshot interface. xdg-desktop-portal-gtk supplies the Access portal that Screenshot needs in 1.16.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.audio_lab import _die_with_parent

USER = "seeing-assistant-test"
WIDTH, HEIGHT = 1280, 800
PACKAGES = ("sway", "swaymsg", "Xwayland", "pipewire", "dbus-run-session", "dbus-update-activation-environment")
PORTALS = ("/usr/libexec/xdg-desktop-portal", "/usr/libexec/xdg-desktop-portal-wlr",
           "/usr/libexec/xdg-desktop-portal-gtk")

_SESSION = r"""
set -u
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 XDG_SESSION_TYPE=wayland \
  XDG_CURRENT_DESKTOP=sway
cd "$HOME"
sway > "$FOLDER/sway.log" 2>&1 &  # the user's config: $XDG_CONFIG_HOME/sway/config
for _ in $(seq 200); do [ -S "$XDG_RUNTIME_DIR/wayland-1" ] && break; sleep 0.05; done
export WAYLAND_DISPLAY=wayland-1
export SWAYSOCK="$(ls "$XDG_RUNTIME_DIR"/sway-ipc.*.sock | head -n 1)"
# XWayland's display, as sway gives it to the programs it starts.
swaymsg -s "$SWAYSOCK" exec 'echo "$DISPLAY" > "$FOLDER/display"' > /dev/null
for _ in $(seq 200); do [ -s "$FOLDER/display" ] && break; sleep 0.05; done
export DISPLAY="$(cat "$FOLDER/display")"
dbus-update-activation-environment WAYLAND_DISPLAY DISPLAY XDG_CURRENT_DESKTOP XDG_SESSION_TYPE SWAYSOCK \
  XDG_RUNTIME_DIR
pipewire > "$FOLDER/pipewire.log" 2>&1 &
/usr/libexec/xdg-desktop-portal-wlr > "$FOLDER/portal-wlr.log" 2>&1 &
for _ in $(seq 100); do [ -S "$XDG_RUNTIME_DIR/pipewire-0" ] && break; sleep 0.05; done
/usr/libexec/xdg-desktop-portal -r > "$FOLDER/portal.log" 2>&1 &
{ echo "WAYLAND_DISPLAY=$WAYLAND_DISPLAY"; echo "DISPLAY=$DISPLAY"; echo "SWAYSOCK=$SWAYSOCK";
  echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"; } > "$FOLDER/env.partial"
mv "$FOLDER/env.partial" "$FOLDER/env"
cat > /dev/null  # the session lasts until the test closes standard input
kill $(jobs -p) 2>/dev/null
wait
"""

_CONFIG = f"""output HEADLESS-1 resolution {WIDTH}x{HEIGHT} position 0 0
default_border none
default_floating_border none
xwayland enable
"""


def _ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True, timeout=60)
        return pwd.getpwnam(USER)


class SwaySession:
    """``with SwaySession() as desktop:`` a headless Wayland desktop; ``desktop.run([...])`` runs a client in it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="seeing-assistant-sway-"))
        self.runtime = self.folder / "runtime"
        self.home = self.folder / "home"
        self.env: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._user: pwd.struct_passwd | None = None

    def _as_user(self) -> list[str]:
        if self._user is None:
            return []
        return ["setpriv", f"--reuid={self._user.pw_uid}", f"--regid={self._user.pw_gid}", "--init-groups"]

    def base_env(self) -> dict[str, str]:
        """The environment every process of this desktop starts from (nothing of the caller's session)."""
        return {"HOME": str(self.home), "PATH": "/usr/local/bin:/usr/bin:/bin", "XDG_RUNTIME_DIR": str(self.runtime),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "LANG": "C.UTF-8", "FOLDER": str(self.folder), "USER": self._user.pw_name if self._user else
                os.environ.get("USER", "")}

    def start(self) -> SwaySession:
        """Start the desktop and wait until its portal is up."""
        missing = [tool for tool in PACKAGES if shutil.which(tool) is None]
        missing += [portal for portal in PORTALS if not Path(portal).exists()]
        if missing:
            raise RuntimeError(f"missing for the Wayland desktop: {missing}: run scripts/install --test")
        self._user = _ensure_user() if os.getuid() == 0 else None
        # xdg-desktop-portal-wlr 0.7 writes every screenshot to this one path: one left by another user blocks it.
        stale = Path("/tmp/out.png")
        if self._user is not None and stale.exists() and stale.stat().st_uid != self._user.pw_uid:
            stale.unlink()
        for folder in (self.runtime, self.home):
            folder.mkdir(parents=True)
        self.runtime.chmod(0o700)
        config = self.home / ".config" / "sway" / "config"
        config.parent.mkdir(parents=True)
        config.write_text(_CONFIG)
        if self._user is not None:
            for path in (self.folder, self.runtime, self.home, self.home / ".config", config.parent, config):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        self._process = subprocess.Popen(
            [*self._as_user(), "env", "-i", *(f"{key}={value}" for key, value in self.base_env().items()),
             "dbus-run-session", "--", "sh", "-c", _SESSION],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=(self.folder / "session.log").open("wb"),
            preexec_fn=_die_with_parent)
        env_file = self.folder / "env"
        deadline = time.monotonic() + 30
        while not env_file.exists():
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError("the Wayland desktop did not start: " + self.logs())
            time.sleep(0.05)
        self.env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
        return self

    def logs(self) -> str:
        """The session's logs, for a failure's message."""
        parts = []
        for name in ("session.log", "sway.log", "portal.log", "portal-wlr.log"):
            path = self.folder / name
            if path.exists():
                parts.append(f"--- {name}:\n" + path.read_text(errors="replace")[-1500:])
        return "\n".join(parts)

    def client_env(self, **extra: str) -> dict[str, str]:
        """The environment of a client of this desktop."""
        return {**self.base_env(), "XDG_SESSION_TYPE": "wayland", "XDG_CURRENT_DESKTOP": "sway", **self.env, **extra}

    def python(self) -> tuple[list[str], dict[str, str]]:
        """How the desktop's user runs this project's Python: the command, and what its environment needs.

        As ourselves: this interpreter. As the test user: Debian's python3 (the same 3.11) with this environment's
        packages and the project's source on ``PYTHONPATH``, since the virtual environment's interpreter is a link
        into root's home, which no one else may enter.
        """
        if self._user is None:
            return [sys.executable], {}
        packages = sysconfig.get_paths()["purelib"]
        source = Path(__file__).resolve().parents[2] / "src"
        return ["/usr/bin/python3"], {"PYTHONPATH": f"{source}:{packages}:{Path(__file__).resolve().parents[2]}"}

    def command(self, argv: list[str], env: dict[str, str]) -> list[str]:
        """``argv`` run as the desktop's user with exactly ``env``."""
        return [*self._as_user(), "env", "-i", *(f"{key}={value}" for key, value in env.items()), *argv]

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a client to its end."""
        return subprocess.run(self.command(argv, env), capture_output=True, text=True, timeout=timeout, check=False)

    def popen(self, argv: list[str], env: dict[str, str], **options: Any) -> subprocess.Popen[str]:
        """Start a client (stopped by the caller)."""
        return subprocess.Popen(self.command(argv, env), text=True, preexec_fn=_die_with_parent, **options)

    def own(self, path: Path) -> Path:
        """Make ``path`` (in this desktop's folder) the desktop user's, so its clients can write it."""
        if self._user is not None:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)
        return path

    def stop(self) -> None:
        """End the session (its bus, sway, the portals, PipeWire) and remove its folder."""
        if self._process is not None and self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        if self._user is not None:  # anything of the session's still running (by its user, only this session's)
            subprocess.run(["pkill", "-KILL", "-u", self._user.pw_name], check=False, timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> SwaySession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
