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


def monitor_at(x: int, y: int) -> int:
    """The mss monitor number (1 and up) that contains the physical pixel (x, y); 0 (all) when none does."""
    import mss

    with mss.MSS() as screen:
        for number, area in enumerate(screen.monitors[1:], start=1):
            if area["left"] <= x < area["left"] + area["width"] and area["top"] <= y < area["top"] + area["height"]:
                return number
    return 0


def desktop_origin() -> tuple[int, int]:
    """The top-left corner of the whole desktop (negative when a monitor sits left of or above the primary one)."""
    import mss

    with mss.MSS() as screen:
        area = screen.monitors[0]
        return (int(area["left"]), int(area["top"]))


def active_window_rect(exclude: set[int] | None = None) -> tuple[int, int, int, int] | None:
    """The active window's (left, top, width, height) on the desktop, or None when the platform cannot tell.

    X11: the window manager's _NET_ACTIVE_WINDOW, else the input focus; Windows: the foreground window.
    ``exclude`` holds native window ids that do not count (the app's own window).
    """
    platform = sys.platform
    try:
        if platform.startswith("linux") and os.environ.get("DISPLAY"):
            return _x11_active_window(exclude or set())
        if platform == "win32":
            return _windows_foreground_window(exclude or set())
    except (OSError, AttributeError, ValueError):
        return None
    return None


def _x11_active_window(exclude: set[int]) -> tuple[int, int, int, int] | None:
    import ctypes
    import ctypes.util

    library = ctypes.util.find_library("X11")
    if library is None:
        return None
    xlib = ctypes.CDLL(library)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XGetWindowProperty.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long, ctypes.c_int, ctypes.c_ulong,
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p)]
    xlib.XGetInputFocus.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int)]
    xlib.XGetGeometry.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
        ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint)]
    xlib.XTranslateCoordinates.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong)]
    xlib.XFree.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = xlib.XOpenDisplay(None)
    if not display:
        return None
    try:
        root = xlib.XDefaultRootWindow(display)
        window = 0
        atom = xlib.XInternAtom(display, b"_NET_ACTIVE_WINDOW", 1)
        if atom:
            kind, size, count, after = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_ulong(), ctypes.c_ulong()
            data = ctypes.c_void_p()
            status = xlib.XGetWindowProperty(display, root, atom, 0, 1, 0, 33, ctypes.byref(kind), ctypes.byref(size),
                                             ctypes.byref(count), ctypes.byref(after), ctypes.byref(data))
            if status == 0 and data.value:
                if count.value:
                    window = ctypes.cast(data, ctypes.POINTER(ctypes.c_ulong))[0]
                xlib.XFree(data)
        if not window:
            focus, revert = ctypes.c_ulong(), ctypes.c_int()
            xlib.XGetInputFocus(display, ctypes.byref(focus), ctypes.byref(revert))
            window = focus.value
        if window in (0, 1, root) or window in exclude:  # None, PointerRoot, the desktop itself, or the app
            return None
        parent, x, y = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_int()
        width, height, border, depth = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        if not xlib.XGetGeometry(display, window, ctypes.byref(parent), ctypes.byref(x), ctypes.byref(y),
                                 ctypes.byref(width), ctypes.byref(height), ctypes.byref(border), ctypes.byref(depth)):
            return None
        left, top, child = ctypes.c_int(), ctypes.c_int(), ctypes.c_ulong()
        xlib.XTranslateCoordinates(display, window, root, 0, 0, ctypes.byref(left), ctypes.byref(top),
                                   ctypes.byref(child))
        if width.value < 8 or height.value < 8:
            return None
        return (left.value, top.value, int(width.value), int(height.value))
    finally:
        xlib.XCloseDisplay(display)


def _windows_foreground_window(exclude: set[int]) -> tuple[int, int, int, int] | None:
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.windll.user32  # type: ignore[attr-defined]  # Windows only
    window = user32.GetForegroundWindow()
    if not window or window in exclude:
        return None
    rect = wintypes.RECT()
    if not user32.GetWindowRect(window, ctypes.byref(rect)):
        return None
    return (rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top)


def crop_to(image: Image.Image, rect: tuple[int, int, int, int], origin: tuple[int, int] = (0, 0)) -> Image.Image:
    """The part of a whole-desktop grab (whose top-left is ``origin``) inside ``rect``, clipped to the image."""
    left, top, width, height = rect
    box = (max(0, left - origin[0]), max(0, top - origin[1]),
           min(image.width, left - origin[0] + width), min(image.height, top - origin[1] + height))
    if box[2] <= box[0] or box[3] <= box[1]:
        return image
    return image.crop(box)
