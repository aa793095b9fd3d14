"""Failures nobody foresaw, in a real window under Xvfb: each is logged with its traceback, said in one sentence
through the window's status, and the window stays whole and answers the keyboard."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import mss.exception
import pytest
from PySide6.QtCore import QObject, QThread, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QRegion
from pytestqt.qtbot import QtBot

from seeing_assistant.core import capture, logs, messages
from seeing_assistant.desktop import app
from seeing_assistant.desktop.main_window import MainWindow

pytestmark = [pytest.mark.display, pytest.mark.qt_no_exception_capture]  # the app's own hooks catch them here


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(logs.LOG_ENV, str(tmp_path / "log"))
    return tmp_path / "log" / logs.FILE_NAME


@pytest.fixture
def reporting_window(make_window: Callable[..., MainWindow], log_file: Path) -> Iterator[MainWindow]:
    """A window with the app's failure hooks in place, as ``seeing-assistant`` runs it; the old hooks come back."""
    window = make_window()
    restore = app.report_failures(window)
    yield window
    restore()


def said_sentences(window: MainWindow) -> list[str]:
    heard: list[str] = []
    window.status.changed.connect(lambda text, _error: heard.append(text))
    return heard


def still_answers_the_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    window.question.clear()
    window.question.setFocus()
    qtbot.keyClicks(window.question, "still here?")
    assert window.question.text() == "still here?"


def sentence_for(error: BaseException, log_file: Path) -> str:
    return messages.APP_UNEXPECTED_ERROR.format(reason=f"{type(error).__name__}: {error}", log=log_file)


def test_a_screen_grab_that_fails_inside_mss_gives_the_window_back_whole_and_says_so(
        qtbot: QtBot, make_window: Callable[..., MainWindow], log_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert QGuiApplication.platformName() == "xcb"  # where the window is shrunk to one pixel, not hidden
    window = make_window(hide_window_when_capturing=True)
    qtbot.waitExposed(window)
    geometry = window.geometry()
    heard = said_sentences(window)

    def broken_monitor_at(x: int, y: int) -> int:  # what mss raises when the X server refuses the grab
        raise mss.exception.ScreenShotError("XGetImage() failed")

    monkeypatch.setattr(capture, "monitor_at", broken_monitor_at)
    window.capturer.screen()
    assert window.mask() == QRegion(0, 0, 1, 1)  # out of the picture while it grabs: what must be undone
    expected = messages.SCREEN_CAPTURE_FAILED.format(reason="ScreenShotError: XGetImage() failed")
    qtbot.waitUntil(lambda: expected in heard, timeout=5000)
    assert heard == [expected]  # one sentence
    assert window.mask().isEmpty() and window.isVisible() and window.geometry() == geometry
    assert "Traceback" in log_file.read_text() and "broken_monitor_at" in log_file.read_text()
    still_answers_the_keyboard(qtbot, window)


def test_a_slot_that_raises_on_the_gui_thread_is_one_sentence_and_the_log(
        qtbot: QtBot, reporting_window: MainWindow, log_file: Path) -> None:
    window = reporting_window
    heard = said_sentences(window)
    error = ValueError("the preview's size was negative")

    def broken_slot() -> None:
        raise error

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: bool(heard), timeout=5000)
    assert heard == [sentence_for(error, log_file)]
    logged = log_file.read_text()
    assert "Traceback" in logged and "broken_slot" in logged and "MainThread" in logged
    still_answers_the_keyboard(qtbot, window)


def test_an_exception_on_a_python_thread_is_one_sentence_and_the_log(
        qtbot: QtBot, reporting_window: MainWindow, log_file: Path) -> None:
    window = reporting_window
    heard = said_sentences(window)
    error = KeyError("voice")

    def broken_work() -> None:
        raise error

    worker = threading.Thread(target=broken_work, name="speech-synthesis")
    worker.start()
    worker.join(timeout=10)
    qtbot.waitUntil(lambda: bool(heard), timeout=5000)
    assert heard == [sentence_for(error, log_file)]
    logged = log_file.read_text()
    assert "speech-synthesis" in logged and "broken_work" in logged
    still_answers_the_keyboard(qtbot, window)


class BrokenWorker(QObject):
    """A worker on a QThread whose slot raises, as the engine's worker would on a bug."""

    requested = Signal()

    def work(self) -> None:
        """Fail."""
        raise RuntimeError("the decoder's cache was empty")


def test_a_slot_that_raises_on_a_qthread_is_one_sentence_and_the_log(
        qtbot: QtBot, reporting_window: MainWindow, log_file: Path) -> None:
    window = reporting_window
    heard = said_sentences(window)
    thread = QThread()
    thread.setObjectName("engine")
    worker = BrokenWorker()
    worker.moveToThread(thread)
    worker.requested.connect(worker.work)
    thread.start()
    try:
        worker.requested.emit()
        qtbot.waitUntil(lambda: bool(heard), timeout=5000)
    finally:
        thread.quit()
        assert thread.wait(10000)
    assert heard == [sentence_for(RuntimeError("the decoder's cache was empty"), log_file)]
    assert "BrokenWorker" not in heard[0] and "def work" not in heard[0]  # the traceback is in the log, not said
    assert "in work" in log_file.read_text()
    still_answers_the_keyboard(qtbot, window)


def test_a_burst_of_one_failure_is_said_once_and_logged_each_time(
        qtbot: QtBot, reporting_window: MainWindow, log_file: Path) -> None:
    window = reporting_window
    heard = said_sentences(window)
    error = ZeroDivisionError("division by zero")

    def broken_paint() -> None:
        raise error

    other = LookupError("another failure")

    def other_failure() -> None:
        raise other

    for _ in range(5):
        QTimer.singleShot(0, broken_paint)
    qtbot.waitUntil(lambda: log_file.exists() and log_file.read_text().count("Traceback") == 5, timeout=5000)
    QTimer.singleShot(0, other_failure)  # its sentence is queued after the burst's five: once it is heard, all were
    qtbot.waitUntil(lambda: len(heard) >= 2, timeout=5000)
    assert heard == [sentence_for(error, log_file), sentence_for(other, log_file)]


def test_the_hooks_go_back_as_they_were(reporting_window: MainWindow) -> None:
    import sys

    before = (sys.excepthook, threading.excepthook)
    restore = app.report_failures(reporting_window)
    assert (sys.excepthook, threading.excepthook) != before
    restore()
    assert (sys.excepthook, threading.excepthook) == before


def test_a_log_that_cannot_be_written_still_gives_the_sentence(
        qtbot: QtBot, reporting_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log's folder should be")
    monkeypatch.setenv(logs.LOG_ENV, str(blocked))
    heard = said_sentences(reporting_window)
    error = OSError("no space")

    def broken_slot() -> None:
        raise error

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: bool(heard), timeout=5000)
    assert heard == [messages.APP_UNEXPECTED_ERROR_NO_LOG.format(reason="OSError: no space")]
