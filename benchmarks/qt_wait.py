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


def settle() -> None:
    """Let Qt delete what was closed while the application exists, before Python's final collection.

    Otherwise objects can be deleted after the application at exit, which crashed PySide here.
    """
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    if QCoreApplication.instance() is None:
        return
    for _ in range(3):
        gc.collect()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def finish(status: int) -> None:
    """Let Qt settle, then end a benchmark process (its figures printed and written) without Python's teardown.

    PySide still sometimes crashed while Python tore the interpreter down after a benchmark with the app's window
    ("shared QObject was deleted directly"), which would turn a finished run into a failed exit status.
    """
    import os
    import sys

    settle()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
