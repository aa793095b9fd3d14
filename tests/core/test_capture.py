"""Screen capture on the test's X server (Xvfb, 1280x800), and cropping to a window."""

from __future__ import annotations

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


def test_the_active_window_is_a_rectangle_or_unknown() -> None:
    rect = capture.active_window_rect()
    assert rect is None or (len(rect) == 4 and all(isinstance(value, int) for value in rect))
