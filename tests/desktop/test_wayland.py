"""The screen on Wayland, on a real compositor: headless sway 1.7 with xdg-desktop-portal 1.16 and its wlr backend
(Debian 12's packages), run as an ordinary user.

A known picture is shown full screen by a Wayland client (Qt's wayland platform); ``describe --screen --save-image
--read-text`` run in that session must save exactly those pixels, taken through the Screenshot portal, and read the
picture's text. The same screen grabbed by an X11 client through XWayland is pure black: with no portal to ask, that
is said as a failed capture, never as "the image is blank".
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from tests.support.cli import SUPPORT
from tests.support.polling import wait_for
from tests.support.screens import font
from tests.support.sway_session import HEIGHT, WIDTH, SwaySession

pytestmark = pytest.mark.display

LINES = ["Invoice 2291 from Harbour Street Books", "Total due: 184.50 EUR by 12 January", "Pay now or Remind me later"]


def known_picture(path: Path) -> Path:
    """A screen-sized picture with text and colour, so that a wrong or shifted grab cannot pass."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (250, 250, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 60), fill=(30, 60, 140))
    draw.rectangle((900, 500, 1200, 740), fill=(200, 40, 40))
    for number, line in enumerate(LINES):
        draw.text((80, 140 + number * 90), line, font=font(40), fill=(10, 10, 10))
    image.save(path)
    return path


@pytest.fixture(scope="module")
def wayland() -> Iterator[SwaySession]:
    with SwaySession() as session:
        yield session


@pytest.fixture(scope="module")
def viewer(wayland: SwaySession) -> Iterator[subprocess.Popen[str]]:
    """A Wayland client showing the known picture full screen (its PID is the client's: setpriv and env exec it)."""
    picture = wayland.own(known_picture(wayland.folder / "known.png"))
    python, needs = wayland.python()
    env = wayland.client_env(QT_QPA_PLATFORM="wayland", **needs)
    viewer = wayland.popen([*python, str(SUPPORT / "show_fullscreen.py"), str(picture)], env=env,
                           stdout=subprocess.PIPE, stderr=(wayland.folder / "viewer.log").open("wb"))
    try:
        assert viewer.stdout is not None
        line = viewer.stdout.readline()
        assert line.startswith("shown"), (wayland.folder / "viewer.log").read_text() + wayland.logs()
        yield viewer
    finally:
        viewer.kill()
        viewer.wait(10)


def app_env(wayland: SwaySession, **extra: str) -> dict[str, str]:
    config = wayland.folder / "config"
    if not config.exists():
        config.mkdir()
        wayland.own(config)
    _, needs = wayland.python()
    return wayland.client_env(SEEING_ASSISTANT_CONFIG_DIR=str(config), SEEING_ASSISTANT_LOG_DIR=str(config),
                              HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", QT_QPA_PLATFORM="offscreen",
                              **needs, **extra)


def app(wayland: SwaySession) -> list[str]:
    """The app's command line, as the desktop's user runs it."""
    python, _ = wayland.python()
    return [*python, "-m", "seeing_assistant"]


def test_describe_screen_saves_the_true_pixels_through_the_portal_and_reads_their_text(
        wayland: SwaySession, viewer: subprocess.Popen[str]) -> None:
    shown = wayland.folder / "known.png"
    saved = wayland.folder / "saved.png"
    done = wayland.run([*app(wayland), "describe", "--screen", "--save-image", str(saved), "--read-text", "--json"],
                       env=app_env(wayland), timeout=180)
    assert done.returncode == 0, done.stderr[-2000:] + wayland.logs()
    with Image.open(saved) as grabbed, Image.open(shown) as expected:
        assert grabbed.size == expected.size == (WIDTH, HEIGHT)
        difference = ImageChops.difference(grabbed.convert("RGB"), expected.convert("RGB"))
        assert difference.getbbox() is None, f"the saved picture differs from the screen in {difference.getbbox()}"
    answer = json.loads(done.stdout.strip().splitlines()[-1])["answer"]
    for line in LINES:
        assert line in answer, answer
    assert not list(wayland.folder.glob("*.partial")), "a half-written picture was left behind"


def test_an_xwayland_grab_with_no_portal_is_a_failed_capture_not_a_blank_screen(
        wayland: SwaySession, viewer: subprocess.Popen[str]) -> None:
    # No portal (the bus points nowhere) and no Wayland display: mss can only grab XWayland, which sees no Wayland
    # window: one flat colour, said as a failed capture, with what to do.
    env = app_env(wayland, DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/no-bus")
    env.pop("WAYLAND_DISPLAY")
    done = wayland.run([*app(wayland), "describe", "--screen", "--read-text"], env=env, timeout=120)
    assert done.returncode != 0
    said = done.stderr.strip().splitlines()
    assert len(said) == 1, done.stderr
    assert said[0].startswith("seeing-assistant: error: The screen could not be captured: on Wayland the picture "
                              "came through XWayland"), said
    assert "blank" not in said[0]


ACTIVE_WINDOW = """
import json, sys
from seeing_assistant.core import capture
viewer = int(sys.argv[1])
print(json.dumps({"active": capture.active_window_rect(), "without_viewer": capture.sway_focused_window({viewer})}))
"""


def test_the_active_window_on_sway_is_the_focused_window_from_its_ipc(
        wayland: SwaySession, viewer: subprocess.Popen[str]) -> None:
    python, needs = wayland.python()
    done = wayland.run([*python, "-c", ACTIVE_WINDOW, str(viewer.pid)], env=wayland.client_env(**needs), timeout=60)
    assert done.returncode == 0, done.stderr[-1500:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["active"] == [0, 0, WIDTH, HEIGHT]  # the full-screen viewer, as sway lays it out
    assert report["without_viewer"] is None  # its own window excluded, there is no other


def press_read_text_until(wayland: SwaySession, ran: Path, timeout: float = 20.0) -> bool:
    """Press Ctrl+Alt+Shift+T on a virtual keyboard (wtype) until the bound command has written to ``ran``.

    sway applies a reload after it has answered the reload command, so a first press may come before the binding.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pressed = wayland.run(["wtype", "-M", "ctrl", "-M", "alt", "-M", "shift", "t", "-m", "shift", "-m", "alt",
                               "-m", "ctrl"], env=wayland.client_env(), timeout=30)
        assert pressed.returncode == 0, pressed.stderr
        if wait_for(lambda: bool(ran.read_text().strip()), 1.0):
            return True
    return False


INSTALL_SHORTCUTS = """
import sys
from seeing_assistant.core import shortcuts
for sentence in shortcuts.install([sys.argv[1]]).sentences:
    print(sentence)
"""


def test_shortcuts_written_into_sway_run_trigger_when_the_chord_is_pressed(
        wayland: SwaySession, viewer: subprocess.Popen[str]) -> None:
    # The chord is pressed through sway's own mechanism (a virtual keyboard, wtype): sway runs the bound command,
    # here a stand-in for the app's command that writes down its arguments.
    ran = wayland.folder / "ran.txt"
    ran.touch()
    wayland.own(ran)
    stand_in = wayland.folder / "stand-in"
    stand_in.write_text(f'#!/bin/sh\necho "$@" >> {ran}\n')
    stand_in.chmod(0o755)
    config = wayland.home / ".config"  # the session's XDG_CONFIG_HOME: sway reads its config there
    python, needs = wayland.python()
    env = wayland.client_env(**needs)
    done = wayland.run([*python, "-c", INSTALL_SHORTCUTS, str(stand_in)], env=env, timeout=60)
    assert done.returncode == 0, done.stderr[-1500:]
    said = done.stdout.strip().splitlines()
    assert said == ["7 shortcuts were added to sway; each runs 'seeing-assistant trigger ACTION'."], said  # reloaded
    assert "output HEADLESS-1 resolution" in (config / "sway" / "config").read_text()  # the user's own lines kept
    assert press_read_text_until(wayland, ran), "sway never ran the bound command"
    assert ran.read_text().split("\n")[0] == "trigger read-text"


@pytest.mark.parametrize("platform", ["wayland", "xcb"], ids=["wayland-client", "under-xwayland"])
def test_the_app_as_a_wayland_client_reads_the_screen_when_its_sway_shortcut_is_pressed(
        wayland: SwaySession, viewer: subprocess.Popen[str], tiny_model: Path, platform: str) -> None:
    # The whole chain a sway user has: the app a Wayland client (Qt's wayland platform) or an X11 one under XWayland,
    # its shortcut bound by install-desktop --shortcuts, the chord pressed on a (virtual) keyboard, sway running
    # `trigger read-text`, the single instance taking it, the portal's picture read, and the text in the
    # Conversation, read through AT-SPI.
    model = wayland.folder / "tiny-llava"
    if not model.exists():
        shutil.copytree(tiny_model, model)
    config = wayland.folder / f"app-config-{platform}"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"model": str(model), "spoken_by": "none", "max_new_tokens": 4,
                                                      "hide_window_when_capturing": False}))
    for path in [model, *model.rglob("*"), config, config / "settings.json"]:
        wayland.own(path)
    python, needs = wayland.python()
    env = wayland.client_env(QT_QPA_PLATFORM=platform, SEEING_ASSISTANT_CONFIG_DIR=str(config),
                             SEEING_ASSISTANT_LOG_DIR=str(config), SEEING_ASSISTANT_REPORT_STARTUP="1",
                             QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                             **needs)
    app_log = (wayland.folder / "app.log").open("wb")
    application = wayland.popen([*python, "-m", "seeing_assistant", "app"], env=env, stdout=subprocess.PIPE,
                                stderr=app_log)
    try:
        assert application.stdout is not None
        assert application.stdout.readline().startswith("window shown"), (wayland.folder / "app.log").read_text()
        # The bound command as sway runs it: sway's environment has no PYTHONPATH, so a small launcher gives it.
        launcher = wayland.folder / f"seeing-assistant-{platform}"
        exports = "".join(f"{key}={shlex.quote(value)} " for key, value in env.items()
                          if key in ("PYTHONPATH", "SEEING_ASSISTANT_CONFIG_DIR", "SEEING_ASSISTANT_LOG_DIR"))
        ran = wayland.folder / f"ran-{platform}.txt"  # written as sway runs the launcher, before it starts trigger
        ran.touch()
        wayland.own(ran)
        launcher.write_text(f'#!/bin/sh\necho "$@" >> {ran}\n'
                            f'exec env {exports}{shlex.join(python)} -m seeing_assistant "$@"\n')
        launcher.chmod(0o755)
        done = wayland.run([*python, "-c", INSTALL_SHORTCUTS, str(launcher)], env=wayland.client_env(**needs))
        assert done.returncode == 0, done.stderr[-1500:]
        assert press_read_text_until(wayland, ran), "sway never ran the bound command"
        read = wayland.run(["/usr/bin/python3", str(SUPPORT / "atspi_conversation.py"), LINES[0], "60"],
                           env=wayland.client_env(), timeout=90)
        report = json.loads(read.stdout.strip().splitlines()[-1]) if read.stdout.strip() else {}
        assert report.get("found"), f"{read.stderr[-800:]} {report} {(wayland.folder / 'app.log').read_text()[-1500:]}"
        assert {"Describe screen", "Read screen text", "Save picture"} <= set(report["names"])
        for line in LINES:
            assert line in report["conversation"]
    finally:
        application.terminate()
        try:
            application.wait(10)
        except subprocess.TimeoutExpired:
            application.kill()
            application.wait(10)
        app_log.close()
