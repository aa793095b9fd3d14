"""The screen on Wayland: xdg-desktop-portal's Screenshot, the one way a Wayland desktop lets an app see it.

On Wayland an X11 client (mss through XWayland) sees no Wayland window: the grab is one flat colour, usually black.
The portal asks the compositor instead (``org.freedesktop.portal.Screenshot.Screenshot``, non-interactive): it
answers with a ``Response`` signal on a request object whose path is known before the call (the sender's unique
name and our ``handle_token``), so the match is added first and no answer can be missed. The picture comes as a
file the portal wrote for us (``file://`` URI), which is read and then removed: nothing is kept.

Measured on headless sway 1.7 with xdg-desktop-portal 1.16 and xdg-desktop-portal-wlr 0.7: see the README. GNOME and
KDE may show a permission dialog the first time; :data:`PERMISSION_TIMEOUT_S` leaves the user time to answer it.

jeepney (pure Python, blocking) is the D-Bus client, on the caller's thread, so that core stays free of Qt. The
window still calls it on its own thread (the capture is not on a thread of its own yet): a desktop that shows a
permission dialog holds the window until it is answered.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import urllib.parse
from pathlib import Path

from PIL import Image

from seeing_assistant.core import messages
from seeing_assistant.core.errors import CaptureError

PORTAL, PORTAL_PATH = "org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop"
SCREENSHOT, REQUEST = "org.freedesktop.portal.Screenshot", "org.freedesktop.portal.Request"
PERMISSION_TIMEOUT_S = 60.0  # a desktop that asks the user first waits for them
CALL_TIMEOUT_S = 10.0


class PortalUnavailable(CaptureError):
    """No screenshot portal answers in this session (no session bus, or no portal for this desktop)."""


def is_wayland_session() -> bool:
    """Whether this is a Wayland session (where X11 clients see no Wayland window)."""
    return bool(os.environ.get("WAYLAND_DISPLAY")) or os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"


def screenshot(timeout: float = PERMISSION_TIMEOUT_S) -> Image.Image:
    """The whole screen, as the compositor sees it, through the Screenshot portal (RGB).

    PortalUnavailable when no portal answers; CaptureError with one sentence when it refused or failed.
    """
    try:
        from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, message_bus, new_method_call
        from jeepney.io.blocking import open_dbus_connection
    except ImportError as error:
        raise PortalUnavailable(messages.PORTAL_UNAVAILABLE.format(reason=str(error))) from None
    try:
        connection = open_dbus_connection(bus="SESSION")
    except (OSError, KeyError, ValueError) as error:
        raise PortalUnavailable(messages.PORTAL_UNAVAILABLE.format(reason=_short(error))) from None
    with contextlib.closing(connection):
        token = "seeing_assistant_" + secrets.token_hex(6)
        sender = (connection.unique_name or ":0").lstrip(":").replace(".", "_")
        request_path = f"{PORTAL_PATH}/request/{sender}/{token}"
        rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=request_path)
        try:
            connection.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S)
            with connection.filter(rule) as responses:
                call = new_method_call(DBusAddress(PORTAL_PATH, bus_name=PORTAL, interface=SCREENSHOT),
                                       "Screenshot", "sa{sv}",
                                       ("", {"handle_token": ("s", token), "interactive": ("b", False)}))
                reply = connection.send_and_get_reply(call, timeout=CALL_TIMEOUT_S)
                if reply.header.message_type == MessageType.error:
                    name = reply.header.fields.get(HeaderFields.error_name, "")
                    raise PortalUnavailable(messages.PORTAL_UNAVAILABLE.format(reason=name or "an error"))
                response = connection.recv_until_filtered(responses, timeout=timeout)
        except TimeoutError:
            raise CaptureError(messages.PORTAL_NO_ANSWER.format(seconds=round(timeout))) from None
        except (OSError, ValueError) as error:
            raise PortalUnavailable(messages.PORTAL_UNAVAILABLE.format(reason=_short(error))) from None
    code, results = response.body
    if code != 0:  # 1: the user cancelled; 2: it failed
        raise CaptureError(messages.PORTAL_REFUSED if code == 1 else messages.PORTAL_FAILED)
    uri = results.get("uri", ("s", ""))[1]
    return _read_and_remove(uri)


def _read_and_remove(uri: str) -> Image.Image:
    """The picture the portal wrote, read whole and then deleted (it was written for this request only)."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "file" or not parsed.path:
        raise CaptureError(messages.PORTAL_FAILED)
    path = Path(urllib.parse.unquote(parsed.path))
    try:
        with Image.open(path) as picture:
            image = picture.convert("RGB")
    except OSError as error:
        raise CaptureError(messages.SCREEN_CAPTURE_FAILED.format(reason=_short(error))) from None
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    return image


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:160]
