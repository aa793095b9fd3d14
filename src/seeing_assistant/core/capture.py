"""Screen capture: the whole desktop or one monitor, as a PIL image (mss; on Wayland the desktop's portal)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from PIL import Image

from seeing_assistant.core import messages, portal, sway_ipc
from seeing_assistant.core.errors import CaptureError


def has_display() -> bool:
    """Whether a screen can be captured at all (on Linux, an X11 or Wayland session must be present)."""
    platform = sys.platform  # a variable, so that type checkers on one OS do not call the other branch dead
    if platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class ScreenGrabber:
    """Grabs screenshots; monitor 0 is the whole desktop, 1 and up are single monitors."""

    def grab(self, monitor: int = 0) -> Image.Image:
        """Capture ``monitor`` as an RGB image, or raise CaptureError with a sentence the user can act on.

        On Wayland through the desktop's screenshot portal (the whole screen); where no portal answers, through
        XWayland with mss, and a grab that is one flat colour there is a failed capture, never "a blank screen".
        """
        if not has_display():
            raise CaptureError(messages.NO_DISPLAY)
        if portal.is_wayland_session():
            try:
                return portal.screenshot()
            except portal.PortalUnavailable as unavailable:
                if not os.environ.get("DISPLAY"):
                    raise CaptureError(messages.SCREEN_CAPTURE_FAILED.format(reason=str(unavailable))) from None
                image = self._grab_x11(monitor)
                if is_flat(image):
                    raise CaptureError(messages.WAYLAND_CAPTURE_FAILED.format(reason=str(unavailable))) from None
                return image
        return self._grab_x11(monitor)

    def _grab_x11(self, monitor: int) -> Image.Image:
        import mss
        import mss.exception

        for attempt in range(2):
            try:
                with mss.MSS() as screen:
                    monitors = screen.monitors
                    area = monitors[monitor] if 0 <= monitor < len(monitors) else monitors[0]
                    shot = screen.grab(area)
                break
            except mss.exception.ScreenShotError as error:
                reason = str(error).splitlines()[0] if str(error) else "unknown reason"
                if attempt == 0 and "connect to display" in reason:  # a connection refused for a moment: once more
                    time.sleep(0.1)
                    continue
                raise CaptureError(messages.SCREEN_CAPTURE_FAILED.format(reason=reason)) from None
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")


def is_flat(image: Image.Image) -> bool:
    """Whether every pixel of ``image`` is the same colour (what XWayland gives for a screen of Wayland windows)."""
    low_high = image.getextrema()
    bands = low_high if isinstance(low_high[0], tuple) else (low_high,)
    return all(low == high for low, high in bands)


def _monitors() -> list[dict[str, int]]:
    """The monitors mss sees (0: the whole desktop); CaptureError with one sentence when the screen is out of reach."""
    import mss
    import mss.exception

    try:
        with mss.MSS() as screen:
            return list(screen.monitors)
    except mss.exception.ScreenShotError as error:
        reason = str(error).splitlines()[0] if str(error) else "unknown reason"
        raise CaptureError(messages.SCREEN_CAPTURE_FAILED.format(reason=reason)) from None


def monitor_at(x: int, y: int) -> int:
    """The mss monitor number (1 and up) that contains the physical pixel (x, y); 0 (all) when none does.

    On Wayland always 0: the portal gives the screen as the compositor lays it out, and XWayland's monitors need not
    match it.
    """
    if portal.is_wayland_session():
        return 0
    for number, area in enumerate(_monitors()[1:], start=1):
        if area["left"] <= x < area["left"] + area["width"] and area["top"] <= y < area["top"] + area["height"]:
            return number
    return 0


def desktop_origin(monitor: int = 0) -> tuple[int, int]:
    """The top-left corner of ``monitor``'s grab.

    Monitor 0 is the whole desktop, whose corner is negative when a monitor sits left of or above the primary one.
    """
    if portal.is_wayland_session():
        return (0, 0)  # the portal's picture starts at the layout's origin
    monitors = _monitors()
    area = monitors[monitor] if 0 <= monitor < len(monitors) else monitors[0]
    return (int(area["left"]), int(area["top"]))


def active_window_rect(exclude: set[int] | None = None) -> tuple[int, int, int, int] | None:
    """The active window's (left, top, width, height) on the desktop, or None when the platform cannot tell.

    X11: the window manager's _NET_ACTIVE_WINDOW, else the input focus; Windows: the foreground window; sway (and
    i3-compatible Wayland compositors): the focused window from its IPC, the last focused one not of this process.
    ``exclude`` holds native window ids that do not count (the app's own window). Other Wayland desktops: None.
    """
    platform = sys.platform
    try:
        if platform.startswith("linux") and portal.is_wayland_session():
            return sway_focused_window({os.getpid()}) if os.environ.get("SWAYSOCK") else None
        if platform.startswith("linux") and os.environ.get("DISPLAY"):
            return _x11_active_window(exclude or set())
        if platform == "win32":
            return _windows_foreground_window(exclude or set())
    except (OSError, AttributeError, ValueError, ImportError):
        return None
    return None


def _x11_active_window(exclude: set[int]) -> tuple[int, int, int, int] | None:
    """python-xlib (installed with pynput on Linux): the window manager's _NET_ACTIVE_WINDOW, else the focus."""
    from Xlib import X, display, error

    try:
        connection = display.Display()
    except (error.DisplayError, OSError):
        return None
    try:
        root = connection.screen().root
        window = 0
        atom = connection.intern_atom("_NET_ACTIVE_WINDOW", only_if_exists=True)
        if atom:
            active = root.get_full_property(atom, X.AnyPropertyType)
            if active is not None and len(active.value):
                window = int(active.value[0])
        if not window:
            focus = connection.get_input_focus().focus
            window = focus if isinstance(focus, int) else int(focus.id)
        if window in (X.NONE, X.PointerRoot, root.id) or window in exclude:  # none, the desktop, or the app
            return None
        try:
            target = connection.create_resource_object("window", window)
            geometry = target.get_geometry()
            corner = root.translate_coords(target, 0, 0)  # the window's top-left corner, on the desktop
        except error.XError:
            return None
        if geometry.width < 8 or geometry.height < 8:
            return None
        return (int(corner.x), int(corner.y), int(geometry.width), int(geometry.height))
    finally:
        connection.close()


def sway_focused_window(exclude_pids: set[int], tree: dict[str, Any] | None = None) -> tuple[int, int, int, int] | None:
    """The (left, top, width, height) of the window focused last in sway's tree whose process is not excluded."""
    for node in _in_focus_order(tree or sway_ipc.request(sway_ipc.GET_TREE)):
        if node.get("pid") in exclude_pids:
            continue
        rect = node.get("rect", {})
        if rect.get("width", 0) >= 8 and rect.get("height", 0) >= 8:
            return (int(rect["x"]), int(rect["y"]), int(rect["width"]), int(rect["height"]))
    return None


def _in_focus_order(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The tree's windows (nodes with a process), each container's children taken in its focus order."""
    children = {child["id"]: child for child in [*node.get("nodes", []), *node.get("floating_nodes", [])]}
    ordered = [children[key] for key in node.get("focus", []) if key in children]
    ordered += [child for key, child in children.items() if key not in node.get("focus", [])]
    found: list[dict[str, Any]] = []
    if node.get("pid") and node.get("type") in ("con", "floating_con"):
        found.append(node)
    for child in ordered:
        found += _in_focus_order(child)
    return found


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


def window_box(rect: tuple[int, int, int, int] | None, origin: tuple[int, int],
               size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """A window's desktop ``rect`` (left, top, width, height) as a box in a grab's pixels, clipped to the grab.

    The grab is ``size`` and its top-left is ``origin``; the box is (left, top, right, bottom). None when there is no
    window or it is not in the grab.
    """
    if rect is None:
        return None
    left, top, width, height = rect
    box = (max(0, left - origin[0]), max(0, top - origin[1]),
           min(size[0], left - origin[0] + width), min(size[1], top - origin[1] + height))
    return box if box[2] > box[0] and box[3] > box[1] else None


def crop_to(image: Image.Image, rect: tuple[int, int, int, int], origin: tuple[int, int] = (0, 0)) -> Image.Image:
    """The part of a whole-desktop grab (whose top-left is ``origin``) inside ``rect``, clipped to the image."""
    box = window_box(rect, origin, image.size)
    return image if box is None else image.crop(box)
