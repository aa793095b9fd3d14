"""Waiting on the app in benchmarks: run the Qt event loop in short slices until a condition holds."""

from __future__ import annotations

import time
from collections.abc import Callable


def run_until(condition: Callable[[], object], timeout: float = 60.0) -> None:
    """Run the event loop in 5 ms slices until ``condition()`` is true; RuntimeError after ``timeout`` seconds.

    A tight ``processEvents()`` loop crashed PySide here (a reference-count error after many thousand calls).
    """
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        pause = QEventLoop()
        QTimer.singleShot(5, pause.quit)
        pause.exec()


def finish(status: int) -> None:
    """End a benchmark process: delete its Qt windows while the application exists, then exit with ``status``."""
    from seeing_assistant.desktop import qt_exit

    qt_exit.release()
    raise SystemExit(status)
