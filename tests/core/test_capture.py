"""Screen capture on the test's X server (Xvfb, 1280x800), and cropping to a window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from seeing_assistant.core import capture, messages
from seeing_assistant.core.errors import CaptureError

pytestmark = pytest.mark.display


def test_the_whole_screen_is_captured_at_its_size() -> None:
    shot = capture.ScreenGrabber().grab()
    assert shot.mode == "RGB"
    assert shot.size == (1280, 800)


def test_a_monitor_number_that_does_not_exist_captures_the_whole_desktop() -> None:
    assert capture.ScreenGrabber().grab(monitor=99).size == (1280, 800)


def test_a_crop_is_clipped_to_the_image() -> None:
    image = Image.new("RGB", (200, 100), "white")
    assert capture.crop_to(image, (-10, -20, 50, 60)).size == (40, 40)
    assert capture.crop_to(image, (150, 50, 500, 500)).size == (50, 50)
    assert capture.crop_to(image, (110, 60, 50, 30), origin=(100, 50)).size == (50, 30)


def test_an_empty_or_outside_box_gives_the_whole_image() -> None:
    image = Image.new("RGB", (200, 100), "white")
    assert capture.crop_to(image, (10, 10, 0, 0)) is image
    assert capture.crop_to(image, (500, 500, 20, 20)) is image


def test_a_windows_box_is_in_the_grabs_pixels_and_clipped_to_it() -> None:
    assert capture.window_box((300, 200, 400, 300), (0, 0), (1280, 800)) == (300, 200, 700, 500)
    assert capture.window_box((1300, 200, 400, 300), (1280, 0), (1920, 1080)) == (20, 200, 420, 500)  # monitor 2
    assert capture.window_box((1000, 600, 400, 300), (0, 0), (1280, 800)) == (1000, 600, 1280, 800)
    assert capture.window_box((1300, 200, 400, 300), (0, 0), (1280, 800)) is None  # on another monitor
    assert capture.window_box(None, (0, 0), (1280, 800)) is None


def test_without_a_display_capturing_says_so_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not capture.has_display()
    with pytest.raises(CaptureError) as caught:
        capture.ScreenGrabber().grab()
    assert str(caught.value) == messages.NO_DISPLAY


@pytest.fixture
def x_window() -> Iterator[tuple[Any, Any, int]]:
    """A real 300x200 window at (120, 90) on the test's X server, mapped; destroyed after, focus and atom cleared."""
    from Xlib import X, display

    connection = display.Display()
    root = connection.screen().root
    window = root.create_window(120, 90, 300, 200, 0, connection.screen().root_depth, X.InputOutput, X.CopyFromParent,
                                background_pixel=connection.screen().white_pixel, override_redirect=True)
    window.map()
    connection.sync()
    try:
        yield connection, root, window.id
    finally:
        atom = connection.intern_atom("_NET_ACTIVE_WINDOW")
        root.delete_property(atom)
        connection.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
        window.destroy()
        connection.close()


def test_the_active_window_is_the_focused_windows_rectangle_unless_it_is_excluded(
        x_window: tuple[Any, Any, int]) -> None:
    from Xlib import X

    connection, _root, window_id = x_window
    # No window manager on Xvfb: the input focus is what says which window is active.
    connection.set_input_focus(window_id, X.RevertToPointerRoot, X.CurrentTime)
    connection.sync()
    assert capture.active_window_rect() == (120, 90, 300, 200)
    assert capture.active_window_rect(exclude={window_id}) is None  # the app's own window does not count
    connection.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
    connection.sync()
    assert capture.active_window_rect() is None  # the desktop itself is no window


def test_the_window_managers_active_window_comes_before_the_focus(x_window: tuple[Any, Any, int]) -> None:
    from Xlib import X, Xatom

    connection, root, window_id = x_window
    other = root.create_window(700, 400, 80, 60, 0, connection.screen().root_depth, X.InputOutput, X.CopyFromParent,
                               override_redirect=True)
    other.map()
    try:
        connection.set_input_focus(other.id, X.RevertToPointerRoot, X.CurrentTime)
        root.change_property(connection.intern_atom("_NET_ACTIVE_WINDOW"), Xatom.WINDOW, 32, [window_id])
        connection.sync()
        assert capture.active_window_rect() == (120, 90, 300, 200)  # what a window manager says, not the focus
    finally:
        other.destroy()
        connection.sync()


def test_a_screen_that_cannot_be_reached_is_one_sentence_not_a_library_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":4242")  # no X server there: mss raises its own error
    for asked in (lambda: capture.monitor_at(10, 10), lambda: capture.desktop_origin(1)):
        with pytest.raises(CaptureError) as caught:
            asked()
        assert str(caught.value).startswith("The screen could not be captured (Cannot connect to display")
        assert str(caught.value).endswith(": give an image file instead.")


def test_the_sway_window_focused_last_that_is_not_ours_is_the_active_one() -> None:
    # A tree as sway's GET_TREE gives it (trimmed): two windows side by side on workspace 1, the app's focused last.
    def window(key: int, pid: int, x: int) -> dict[str, object]:
        return {"id": key, "type": "con", "pid": pid, "rect": {"x": x, "y": 0, "width": 640, "height": 800},
                "nodes": [], "floating_nodes": [], "focus": []}

    workspace = {"id": 3, "type": "workspace", "nodes": [window(10, 111, 0), window(11, 222, 640)],
                 "floating_nodes": [], "focus": [11, 10]}
    tree = {"id": 1, "type": "root", "nodes": [{"id": 2, "type": "output", "nodes": [workspace], "focus": [3]}],
            "focus": [2]}
    assert capture.sway_focused_window(set(), tree) == (640, 0, 640, 800)
    assert capture.sway_focused_window({222}, tree) == (0, 0, 640, 800)  # the app's own window does not count
    assert capture.sway_focused_window({111, 222}, tree) is None
