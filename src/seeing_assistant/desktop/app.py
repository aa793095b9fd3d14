"""Running the desktop app: one instance per user, its local socket, the tray, signals, failures, and a clean end."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, QSocketNotifier, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from seeing_assistant.core import capture, launcher, logs, messages, servers, settings
from seeing_assistant.core.errors import SeeingAssistantError, unexpected_in_app
from seeing_assistant.core.ocr import TextReader
from seeing_assistant.desktop import qt_exit
from seeing_assistant.desktop.main_window import MainWindow
from seeing_assistant.qt_signals import emit


def quit_on_signals(window: MainWindow) -> Callable[[], None]:
    """Quit cleanly on SIGINT (Ctrl+C in a terminal) and SIGTERM (logging out), as the tray's Quit does.

    Python runs its signal handlers only between bytecodes, never while Qt waits for events, so the signal is
    written to a socket that Qt watches. Returns a function that puts the previous handlers back.
    """
    read_end, write_end = socket.socketpair()
    for end in (read_end, write_end):
        end.setblocking(False)
    previous_fd = signal.set_wakeup_fd(write_end.fileno(), warn_on_full_buffer=False)
    caught = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda *_: None) for number in caught}
    notifier = QSocketNotifier(read_end.fileno(), QSocketNotifier.Type.Read, window)

    def received() -> None:
        with contextlib.suppress(OSError):  # another signal's byte may already have been read
            read_end.recv(64)
        for number in caught:  # a second Ctrl+C or SIGTERM ends the process at once, even mid-way through loading
            signal.signal(number, signal.SIG_DFL)
        window.quit()

    notifier.activated.connect(received)

    def restore() -> None:
        notifier.setEnabled(False)
        signal.set_wakeup_fd(previous_fd)
        for number, handler in previous.items():
            signal.signal(number, handler)
        read_end.close()
        write_end.close()

    return restore


REPEAT_QUIET_S = 5.0  # the same failure again within this long is logged, not said again


class FailureReporter(QObject):
    """Tells the user, in one sentence, of an exception nobody caught, on any thread; its traceback goes to the log.

    Python hands such exceptions to ``sys.excepthook`` (a slot that raised, on the GUI thread or a QThread: PySide6
    passes them there) or ``threading.excepthook`` (a Python thread); until now they went to a terminal that a
    desktop app does not have, and the user heard nothing. The sentence goes through the window's one status
    function, queued to the GUI thread, so that it is said after whatever raised has unwound, and the window goes on.

    Signals:
        failed(sentence): queued from the thread that failed to the GUI thread.
    """

    failed = Signal(str)

    def __init__(self, announce: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.announce = announce
        self.last: tuple[str, float] | None = None  # the last sentence said, and when
        self.failed.connect(self._say, Qt.ConnectionType.QueuedConnection)

    def install(self) -> Callable[[], None]:
        """Take over both hooks; returns a function that puts the previous ones back."""
        previous_sys, previous_thread = sys.excepthook, threading.excepthook
        sys.excepthook = self.on_exception
        threading.excepthook = self.on_thread_exception

        def restore() -> None:
            sys.excepthook, threading.excepthook = previous_sys, previous_thread

        return restore

    def on_exception(self, error_type: type[BaseException], error: BaseException,
                     trace: TracebackType | None) -> None:
        """``sys.excepthook``: log the exception with its traceback and say one sentence."""
        if issubclass(error_type, KeyboardInterrupt):
            sys.__excepthook__(error_type, error, trace)  # Ctrl+C has its own path (quit_on_signals)
            return
        self._report(error, threading.current_thread().name, error_type, trace)

    def on_thread_exception(self, failure: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``: as :meth:`on_exception`, for a Python thread (a thread's SystemExit is quiet)."""
        if failure.exc_value is None or issubclass(failure.exc_type, SystemExit):
            return
        where = failure.thread.name if failure.thread is not None else "a thread"
        self._report(failure.exc_value, where, failure.exc_type, failure.exc_traceback)

    def _report(self, error: BaseException, where: str, error_type: type[BaseException],
                trace: TracebackType | None) -> None:
        logged = logs.record(error, where, error_type, trace)
        with contextlib.suppress(RuntimeError):  # the window is gone (at exit): the log has it
            emit(self.failed, unexpected_in_app(error, logged))

    @Slot(str)
    def _say(self, sentence: str) -> None:
        now = time.monotonic()
        if self.last is not None and self.last[0] == sentence and now - self.last[1] < REPEAT_QUIET_S:
            return  # a burst of one failure (a paint event that raises each time) is said once, not a hundred times
        self.last = (sentence, now)
        self.announce(sentence)


def report_failures(window: MainWindow) -> Callable[[], None]:
    """Say every uncaught exception through the window's status (``Voice.announce``); returns the undo."""
    reporter = FailureReporter(lambda sentence: window.voice.announce(sentence, is_error=True), window)
    return reporter.install()


def run(args: argparse.Namespace) -> int:
    """Open the app; the model options (``--model``, ``--image-fit`` and the rest) override Settings for this run.

    When the app is already running, it is asked to show its window instead, and this process ends.
    """
    from seeing_assistant.desktop import instance

    started = time.perf_counter()
    if not capture.has_display() and os.environ.get("QT_QPA_PLATFORM") not in ("offscreen", "minimal"):
        raise SeeingAssistantError(messages.NO_DISPLAY_FOR_APP)
    QApplication.setApplicationName(messages.APP_NAME)
    QApplication.setApplicationDisplayName(messages.APP_NAME)
    QApplication.setDesktopFileName(launcher.APP_ID)  # the launcher's name: the desktop pairs window and entry
    application = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setWindowIcon(QIcon(str(launcher.resource("icons", launcher.ICON_FILE))))  # window and tray
    if instance.send("show") == "ok":
        print(messages.ALREADY_RUNNING, flush=True)
        return 0
    chosen, problem = settings.load()
    overrides = {name: getattr(args, name) for name in ("model", "device", "dtype", "quantize", "image_fit")
                 if getattr(args, name, None) is not None}
    for name, value in overrides.items():
        setattr(chosen, name, value)
    model_server = servers.of_args(args)  # --server for this run: its key (--api-key-env) is kept only in memory
    if model_server is not None:
        chosen.answers_from, chosen.server_url = servers.SERVER, model_server.url
        chosen.server_model = model_server.model
        chosen.server_timeout_s, chosen.server_ca_file = int(model_server.read_timeout_s), model_server.ca_file
        if model_server.api_key:
            servers.remember_for_this_run(model_server.url, model_server.api_key)
    window = MainWindow(chosen, settings_problem=problem, save_settings=True, use_hotkeys=True, reader=TextReader(),
                        offer_models=True)
    window.shut_down.connect(application.quit, Qt.ConnectionType.QueuedConnection)
    restore_signals = quit_on_signals(window)
    restore_hooks = report_failures(window)
    server = instance.InstanceServer(lambda action: emit(window.action_requested, action))
    if not server.listen():
        QTimer.singleShot(0, lambda: window.voice.announce(messages.INSTANCE_SOCKET_FAILED, is_error=True))
    window.add_tray()
    if not (chosen.start_minimised and window.tray is not None):
        window.show()
        window.screen_button.setFocus()
    if os.environ.get("SEEING_ASSISTANT_REPORT_STARTUP"):
        QTimer.singleShot(0, lambda: print(f"window shown after {time.perf_counter() - started:.3f} s "
                                           f"(torch imported: {'torch' in sys.modules})", flush=True))
    try:
        return int(application.exec())
    finally:
        server.close()
        window.quit()  # a no-op when the window already shut down; otherwise its threads stop here
        restore_signals()
        restore_hooks()
        qt_exit.release()
