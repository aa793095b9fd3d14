"""Screen capture with mss: the whole desktop or one monitor, as a PIL image."""

from __future__ import annotations

import os
import sys

from PIL import Image

from seeing_assistant import messages
from seeing_assistant.errors import CaptureError


def has_display() -> bool:
    """Whether a screen can be captured at all (on Linux, an X11 or Wayland session must be present)."""
    platform = sys.platform  # a variable, so that type checkers on one OS do not call the other branch dead
    if platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class ScreenGrabber:
    """Grabs screenshots; monitor 0 is the whole desktop, 1 and up are single monitors."""

    def grab(self, monitor: int = 0) -> Image.Image:
        """Capture ``monitor`` as an RGB image, or raise CaptureError with a sentence the user can act on."""
        if not has_display():
            raise CaptureError(messages.NO_DISPLAY)
        import mss
        import mss.exception

        try:
            with mss.MSS() as screen:
                monitors = screen.monitors
                area = monitors[monitor] if 0 <= monitor < len(monitors) else monitors[0]
                shot = screen.grab(area)
        except mss.exception.ScreenShotError as error:
            reason = str(error).splitlines()[0] if str(error) else "unknown reason"
            raise CaptureError(messages.SCREEN_CAPTURE_FAILED.format(reason=reason)) from None
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")
