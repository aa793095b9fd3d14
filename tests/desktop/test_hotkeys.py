"""Global hotkeys, `seeing-assistant trigger`, one instance per user, the autostart entry: on a real X server."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from seeing_assistant import speech
from seeing_assistant.core import messages, settings
from seeing_assistant.desktop import hotkeys, instance
from seeing_assistant.desktop.main_window import MainWindow
from tests.support.audio_lab import PrivatePulse, Recorder
from tests.support.cli import COMMAND, SHOW_IMAGE, launched_app
from tests.support.fakes import ScriptedEngine, picture


def test_chords_are_written_for_pynput_and_bad_ones_are_refused() -> None:
    assert hotkeys.to_pynput("Ctrl+Alt+Shift+S") == "<ctrl>+<alt>+<shift>+s"
    assert hotkeys.to_pynput("super + F5") == "<cmd>+<f5>"
    for bad in ("S", "Ctrl+", "A+B", ""):
        with pytest.raises(ValueError):
            hotkeys.to_pynput(bad)
    found: list[str] = []
    keys = hotkeys.Hotkeys({"stop": "X", "repeat": "Ctrl+Alt+Shift+R", "ask": "Ctrl+Alt+Shift+R"}, found.append,
                           lambda: None)
    problems = keys.start()
    keys.stop()
    assert problems == [messages.HOTKEY_INVALID.format(chord="X", action="stop"),
                        messages.HOTKEY_TWICE.format(chord="Ctrl+Alt+Shift+R")]


def test_wayland_is_told_to_use_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert hotkeys.display_server().startswith("Wayland")
    assert hotkeys.unavailable_reason() == messages.HOTKEYS_WAYLAND


@pytest.mark.display
def test_a_listener_without_the_macos_permission_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    # pynput's macOS listener starts but hears nothing until the user grants Accessibility; it says so in IS_TRUSTED.
    from pynput import keyboard

    # The real X11 listener, reporting what macOS would.
    monkeypatch.setattr(keyboard.GlobalHotKeys, "IS_TRUSTED", False, raising=False)
    keys = hotkeys.Hotkeys({"stop": "Ctrl+Alt+Shift+X"}, lambda _: None, lambda: None)
    try:
        assert keys.start() == [messages.HOTKEYS_NOT_TRUSTED]
    finally:
        keys.stop()


@pytest.fixture(autouse=True)
def private_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own runtime folder, so its control socket is its own."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv(settings.CONFIG_ENV, str(tmp_path / "config"))
    return runtime


@pytest.fixture
def running(qtbot: QtBot) -> Iterator[tuple[MainWindow, ScriptedEngine, instance.InstanceServer]]:
    engine = ScriptedEngine()
    window = MainWindow(settings.Settings(hide_window_when_capturing=False), factory=lambda _: engine,
                        speaker=speech.SilentSpeaker(), save_settings=False, use_hotkeys=True)
    qtbot.addWidget(window)
    server = instance.InstanceServer(window.action_requested.emit)
    assert server.listen()
    window.move(0, 0)
    window.show()
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready"), timeout=10000)
    yield window, engine, server
    server.close()
    window.close()


def cli(args: list[str], qtbot: QtBot) -> subprocess.CompletedProcess[str]:
    """Run the command while this process's Qt event loop keeps answering the control socket."""
    process = subprocess.Popen([str(COMMAND), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: process.poll() is not None, timeout=60000)
    out, err = process.communicate()
    return subprocess.CompletedProcess(args, process.returncode, out, err)


@pytest.mark.display
def test_the_chord_describes_the_screen_while_another_application_keeps_the_focus(
        running: tuple[MainWindow, ScriptedEngine, instance.InstanceServer], tmp_path: Path, qtbot: QtBot) -> None:
    window, engine, _ = running
    assert window.hotkeys is not None and window.hotkeys.problems == []
    other = subprocess.Popen([sys.executable, str(SHOW_IMAGE), str(picture(tmp_path, "o.png", (300, 200))), "800",
                              "500"], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None
        line = other.stdout.readline()
        window_id = line.split()[1]
        subprocess.run(["xdotool", "windowfocus", "--sync", window_id], check=True, timeout=10)
        subprocess.run(["xdotool", "key", "ctrl+alt+shift+s"], check=True, timeout=10)
        qtbot.waitUntil(lambda: bool(engine.asked) and window.answers.answering_id is None, timeout=10000)
        focused = subprocess.run(["xdotool", "getwindowfocus"], capture_output=True, text=True, timeout=10).stdout
    finally:
        other.terminate()
        other.wait(10)
    assert engine.asked[0][0].source == "the screen"
    assert engine.asked[0][0].focus == (800, 500, 1100, 700)  # the active window, whose text goes first
    assert window.conversation.toPlainText().endswith("It says OK.")
    assert window.voice.speaker.sentences[-2:] == ["A window with a button.", "It says OK."]  # and it was spoken
    assert focused.strip() == window_id  # the answer came without taking the focus from the other application


@pytest.mark.display
def test_pressing_the_chord_again_while_busy_restarts_and_stop_stops(
        running: tuple[MainWindow, ScriptedEngine, instance.InstanceServer], qtbot: QtBot) -> None:
    window, engine, _ = running
    engine.words, engine.delay = ["word. "] * 300, 0.01
    for _ in range(3):
        subprocess.run(["xdotool", "key", "ctrl+alt+shift+s"], check=True, timeout=10)
    qtbot.waitUntil(lambda: "word." in window.conversation.toPlainText(), timeout=10000)
    subprocess.run(["xdotool", "key", "ctrl+alt+shift+x"], check=True, timeout=10)
    qtbot.waitUntil(lambda: window.answers.answering_id is None, timeout=10000)
    assert window.status.text() == messages.ANSWER_STOPPED
    assert window.conversation.toPlainText().count("Assistant:") == 1
    assert window.conversation.toPlainText().count("word.") < 300


@pytest.mark.display
def test_trigger_reaches_the_running_app_over_a_socket_only_this_user_can_open(
        running: tuple[MainWindow, ScriptedEngine, instance.InstanceServer], tmp_path: Path, qtbot: QtBot) -> None:
    window, engine, server = running
    mode = os.stat(server.path).st_mode
    assert stat.S_ISSOCK(mode) and mode & 0o077 == 0, oct(mode)  # no access for group or others
    assert os.stat(Path(server.path).parent).st_mode & 0o077 == 0
    path = picture(tmp_path, "clip.png", (123, 77))
    xclip = subprocess.Popen(["xclip", "-quiet", "-selection", "clipboard", "-t", "image/png", "-i", str(path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        qtbot.waitUntil(lambda: QGuiApplication.clipboard().mimeData().hasImage(), timeout=10000)
        done = cli(["trigger", "describe-clipboard"], qtbot)
        assert (done.returncode, done.stderr) == (0, "")
        qtbot.waitUntil(lambda: bool(engine.asked) and window.answers.answering_id is None, timeout=10000)
    finally:
        xclip.terminate()
        xclip.wait(10)
    assert engine.asked[0][0].original_size == (123, 77)
    assert cli(["trigger", "repeat"], qtbot).returncode == 0
    assert window.voice.speaker.sentences[-2:] == ["A window with a button.", "It says OK."]
    assert cli(["trigger", "stop"], qtbot).returncode == 0


@pytest.mark.display
def test_a_second_launch_only_brings_the_first_window_forward(
        running: tuple[MainWindow, ScriptedEngine, instance.InstanceServer], qtbot: QtBot) -> None:
    window, _, _ = running
    window.hide()
    done = cli(["app", "--model", "/no/such/model"], qtbot)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, messages.ALREADY_RUNNING, "")
    qtbot.waitUntil(window.isVisible, timeout=5000)


def test_trigger_without_a_running_app_says_so(env: dict[str, str], private_runtime: Path) -> None:
    done = subprocess.run([str(COMMAND), "trigger", "describe-screen"], env={**env,
                          "XDG_RUNTIME_DIR": str(private_runtime)}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert done.stderr == f"seeing-assistant: error: {messages.APP_NOT_RUNNING}\n"


def test_start_at_login_writes_an_xdg_autostart_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    settings.set_start_at_login(True, "/usr/bin/seeing-assistant")
    entry = tmp_path / "xdg" / "autostart" / "org.seeingassistant.SeeingAssistant.desktop"
    assert "Exec=/usr/bin/seeing-assistant app" in entry.read_text()
    settings.set_start_at_login(False, "/usr/bin/seeing-assistant")
    assert not entry.exists()


def test_doctor_reports_the_hotkey_back_end(env: dict[str, str]) -> None:
    report = subprocess.run([str(COMMAND), "doctor"], env=env, capture_output=True, text=True, timeout=120,
                            check=False).stdout
    assert "Hotkeys:\n  display server: X11\n  global hotkeys: available (pynput)" in report


@pytest.fixture
def tray_host() -> Iterator[None]:
    """A real system tray on the test's X server: trayer, an XEmbed tray, at the top right of the screen."""
    host = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                             "--height", "32"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(tray_is_taken, "trayer's system tray")  # the app looks for a tray once, when it starts
        yield
    finally:
        host.terminate()
        host.wait(10)


def xdotool(*args: str) -> str:
    """What ``xdotool ARGS`` printed (empty when it found nothing)."""
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=10).stdout.strip()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` for up to 10 s; fail naming ``what`` did not appear, and what is on screen."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not appear; on screen: {windows()}"
        time.sleep(0.1)


def tray_is_taken() -> bool:
    """Whether a system tray owns the X selection that Qt looks for."""
    from Xlib import X, display

    connection = display.Display()
    try:
        return bool(connection.get_selection_owner(connection.intern_atom("_NET_SYSTEM_TRAY_S0")) != X.NONE)
    finally:
        connection.close()


def windows() -> list[tuple[str, str, int]]:
    """The visible windows on the X server: (name, WM_CLASS and window type, width); gone ones are skipped."""
    found = []
    for window in xdotool("search", "--onlyvisible", "--name", "").split():
        properties = subprocess.run(["xprop", "-id", window, "WM_CLASS", "_NET_WM_WINDOW_TYPE"], capture_output=True,
                                    text=True, timeout=10).stdout
        geometry = xdotool("getwindowgeometry", "--shell", window)
        if "WIDTH=" not in geometry:
            continue  # it closed meanwhile
        width = int(geometry.split("WIDTH=")[1].split()[0])
        found.append((xdotool("getwindowname", window), " ".join(properties.split()), width))
    return found


def app_windows() -> list[tuple[str, str, int]]:
    """The app's visible windows: its main window, its tray icon's and an open menu's."""
    return [window for window in windows() if "seeing-assistant" in window[1]]


def window_shown() -> bool:
    """Whether the app's main window is on screen (the icon and the menu have the same name, and are smaller)."""
    return any(name == messages.APP_NAME and width > 400 and "POPUP_MENU" not in kind
               for name, kind, width in app_windows())


def choose_from_tray_menu(icon: tuple[str, str], keys: tuple[str, ...]) -> None:
    """Open the icon's menu with a right click and, once it is on screen, press ``keys`` in it."""
    xdotool("mousemove", *icon, "click", "3")
    wait_for(lambda: any("POPUP_MENU" in kind for _, kind, _ in app_windows()), "the tray icon's menu")
    xdotool("key", *keys)
    xdotool("mousemove", "200", "400")  # away from the icon, so that no tooltip opens over it


def icon_shown() -> bool:
    """Whether the app's icon is in the tray."""
    return any(width < 100 and "TOOLTIP" not in kind for _, kind, width in app_windows())


@pytest.mark.display
@pytest.mark.audio
def test_the_tray_icon_shows_the_window_describes_and_quits(tray_host: None, tiny_model: Path, tmp_path: Path,
                                                            audio_server: PrivatePulse) -> None:
    # As a user with a tray runs it: started minimised, the app is only an icon; a click shows the window; the
    # icon's menu describes the screen (heard on the speaker) and Quit ends the app.
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"start_minimised": True, "max_new_tokens": 12, "earcons": False,
                                                      "hide_window_when_capturing": False}))
    with launched_app(tiny_model, dict(os.environ)) as process:  # up, in the tray
        width = int(xdotool("getdisplaygeometry").split()[0])
        icon = (str(width - 12), "16")  # trayer's only icon, in the top right corner
        wait_for(icon_shown, "the tray icon")
        assert not window_shown()  # started minimised
        xdotool("mousemove", *icon, "click", "1", "mousemove", "200", "400")
        wait_for(window_shown, "the window, after a click on the icon")
        with Recorder(audio_server) as recorder:
            asked = time.monotonic()
            choose_from_tray_menu(icon, ("Down", "Return"))  # the menu's first item: Describe screen
            assert recorder.first_loud(asked, timeout=60) is not None, "the description was not heard"
        choose_from_tray_menu(icon, ("Up", "Return"))  # the menu's last item: Quit
        rest, errors = process.communicate(timeout=30)
    assert (process.returncode, errors) == (0, ""), rest
