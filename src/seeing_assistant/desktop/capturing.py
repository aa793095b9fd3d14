"""Capturing: the screen, the active window, the clipboard, a dropped or opened file, each to one checked image.

For a screen or window grab the app's own window gets out of the picture first (unless turned off) and comes back
after. On X11 it is shrunk to one pixel rather than hidden, so that the focus never moves; elsewhere it hides, and
asked from outside the window (hotkey, tray, trigger) it comes back without taking the user's focus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCursor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QRegion,
)
from PySide6.QtWidgets import QMainWindow, QWidget

from seeing_assistant.core import capture, intake, logs, messages, tasks
from seeing_assistant.core.errors import SeeingAssistantError, short_reason
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.desktop.voice import Voice
from seeing_assistant.qt_signals import emit

CAPTURE_DELAY_MS = 250  # time for the window to disappear before the screen is grabbed
CLIPBOARD_SOURCE = "the clipboard image"
DROP_SOURCE = "the dropped image"


class Capturer(QObject):
    """Turns each kind of input into an image to describe, or one sentence saying why there is none.

    Signals:
        captured(image, task or None, is_quiet): an image to describe; the task is the screen task for grabs.
    """

    captured = Signal(object, object, bool)

    def __init__(self, window: QMainWindow, voice: Voice, before: Callable[[], None],
                 is_hiding: Callable[[], bool]) -> None:
        super().__init__(window)
        self.window = window
        self.voice = voice
        self.before = before  # stops the answer and the speech first
        self.is_hiding = is_hiding

    def screen(self, quiet: bool = False, task: str = tasks.SCREEN_TASK) -> None:
        """Grab the monitor the pointer is on, to describe (or, with ``task`` tasks.READ_TEXT, to read its text)."""
        self._grab(self._grab_screen, quiet, task=task)

    def active_window(self, quiet: bool = False) -> None:
        """Grab the active window of another application; the whole screen when the platform cannot tell.

        Asked from inside the app, the app's window is the active one: it hides (rather than shrinking), so that the
        window beneath becomes active and is the one grabbed.
        """
        self._grab(self._grab_window, quiet, must_hide=not quiet)

    def take_paste_and_drop(self, question: QWidget) -> None:
        """Describe what is pasted (Ctrl+V in the window, or an image pasted into ``question``) or dropped."""
        self.window.setAcceptDrops(True)
        self.window.installEventFilter(self)
        question.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+V: an image to describe (text still pastes into the Question field); a drop: its image file."""
        kind = event.type()
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.matches(
                QKeySequence.StandardKey.Paste):
            if watched is self.window or has_pastable_image(QGuiApplication.clipboard().mimeData()):
                self.clipboard()
                return True
        elif watched is self.window and isinstance(event, (QDragEnterEvent, QDropEvent)):
            data = event.mimeData()
            if data.hasUrls() or data.hasImage():
                event.acceptProposedAction()
            if kind == QEvent.Type.Drop:
                self.from_mime(data, DROP_SOURCE)
            return True
        return super().eventFilter(watched, event)

    def clipboard(self) -> None:
        """The clipboard's image, or the image file copied in a file manager."""
        self.from_mime(QGuiApplication.clipboard().mimeData(), CLIPBOARD_SOURCE)

    def path(self, path: str) -> None:
        """The image file at ``path`` (a bad file gets one sentence)."""
        try:
            image = intake.load_path(path)
        except SeeingAssistantError as error:
            self.voice.announce(str(error), is_error=True)
            return
        emit(self.captured, image, None, False)

    def from_mime(self, data: QMimeData | None, source: str) -> None:
        """The image in clipboard or drop data (image bytes or a local file), or one sentence saying why not."""
        try:
            image = _image_in(data, source)
        except SeeingAssistantError as error:
            self.voice.announce(str(error), is_error=True)
            return
        if image is None:
            self.voice.announce(messages.CLIPBOARD_HAS_NO_IMAGE if source == CLIPBOARD_SOURCE
                                else messages.DROP_HAS_NO_FILE, is_error=True)
            return
        emit(self.captured, image, None, False)

    def _grab(self, grab: Callable[[], IntakeImage], quiet: bool, must_hide: bool = False,
              task: str = tasks.SCREEN_TASK) -> None:
        """``must_hide``: hide rather than shrink the window (when it gets out of the picture at all)."""
        self.before()
        if not (self.is_hiding() and self.window.isVisible()):
            self._grab_and_show(grab, quiet, was_hidden=False, task=task)
            return
        if QGuiApplication.platformName() == "xcb" and not must_hide:
            # Shrunk to one pixel instead of hidden: the window keeps the focus, so the screen reader does not
            # announce another application and then this one again (4 to 5 utterances under a second, with Orca).
            self.window.setMask(QRegion(0, 0, 1, 1))
        else:
            self.window.hide()
        QTimer.singleShot(CAPTURE_DELAY_MS, lambda: self._grab_and_show(grab, quiet, was_hidden=True, task=task))

    def _grab_and_show(self, grab: Callable[[], IntakeImage], quiet: bool, was_hidden: bool,
                       task: str = tasks.SCREEN_TASK) -> None:
        problem: str | None = None
        try:
            image = grab()
        except SeeingAssistantError as error:
            problem = str(error)
        except Exception as error:  # noqa: BLE001 - a library's own failure (mss, Xlib) gets a sentence too
            # Left to the excepthook, it would leave the window shrunk to one pixel; its traceback goes to the log.
            logs.record(error, "the screen capture")
            problem = messages.SCREEN_CAPTURE_FAILED.format(reason=f"{type(error).__name__}: {short_reason(error)}")
        finally:
            self._restore(quiet, was_hidden)  # whatever happened, the window comes back whole
        if problem is not None:
            self.voice.announce(problem, is_error=True)
            return
        emit(self.captured, image, task, quiet)

    def _restore(self, quiet: bool, was_hidden: bool) -> None:
        """Show the window again after a capture; from a hotkey, without taking the focus."""
        if not was_hidden:
            return
        self.window.clearMask()
        if self.window.isVisible():
            return
        if quiet:
            self.window.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
            self.window.show()
            self.window.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, False)
        else:
            bring_to_front(self.window)

    def _grab_screen(self) -> IntakeImage:
        ratio = self.window.devicePixelRatioF()
        position = QCursor.pos()
        monitor = capture.monitor_at(int(position.x() * ratio), int(position.y() * ratio))
        shot = capture.ScreenGrabber().grab(monitor)
        # Another application's active window (from a global chord): its text goes first into a short prompt.
        active = capture.active_window_rect(exclude={int(self.window.winId())})
        focus = capture.window_box(active, capture.desktop_origin(monitor), shot.size)
        return intake.from_pil(shot, source=messages.THE_SCREEN, focus=focus)

    def _grab_window(self) -> IntakeImage:
        rect = capture.active_window_rect(exclude={int(self.window.winId())})
        whole = capture.ScreenGrabber().grab(0)
        if rect is None:
            self.voice.announce(messages.NO_WINDOW_FOUND, speak=True)
            return intake.from_pil(whole, source=messages.THE_SCREEN)
        window = capture.crop_to(whole, rect, capture.desktop_origin())
        return intake.from_pil(window, source=messages.THE_ACTIVE_WINDOW)


def bring_to_front(window: QMainWindow) -> None:
    """Show, raise and activate the window."""
    window.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, False)
    window.showNormal()
    window.raise_()
    window.activateWindow()


def has_pastable_image(data: QMimeData | None) -> bool:
    """Whether Ctrl+V in a text field should describe an image rather than paste text."""
    return data is not None and (data.hasImage() or (data.hasUrls() and not data.hasText()))


def _image_in(data: QMimeData | None, source: str) -> IntakeImage | None:
    if data is not None and data.hasUrls():
        files = [url.toLocalFile() for url in data.urls() if url.isLocalFile()]
        if files:
            return intake.load_path(files[0])
    if data is not None and data.hasImage():
        picture = QImage(data.imageData())
        if not picture.isNull():
            return intake.from_pil(_pil_image(picture), source=source)
    return None


def _pil_image(picture: QImage) -> Any:
    """A PIL copy of a QImage (RGBA)."""
    from PIL import Image

    rgba = picture.convertToFormat(QImage.Format.Format_RGBA8888)
    data = bytes(rgba.constBits())
    return Image.frombuffer("RGBA", (rgba.width(), rgba.height()), data, "raw", "RGBA", rgba.bytesPerLine(), 1).copy()
