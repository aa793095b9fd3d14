"""Ending a Qt process cleanly under PySide: delete what Python still owns while the application exists.

At interpreter exit PySide deletes every Qt object that Python still owns, while it destroys the application.
Deleting a window with its child widgets there crashed PySide 6.12 in most runs ("shared QObject was deleted
directly", then a segmentation fault), after the app or the tests had finished their work. So top-level windows
are deleted here first, through Qt's own deferred deletion, while the event loop's machinery still exists. Other
objects Python owns (an audio thread's QThread, for one) are still left to PySide, which has not crashed on them.
"""

from __future__ import annotations

import gc


def release() -> None:
    """Delete the top-level widgets Python owns and everything already scheduled for deletion.

    Call it after the event loop has ended (or when a test session ends), with every window already closed: a
    window's close handler is where its threads are stopped.
    """
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication
    from shiboken6 import Shiboken

    application = QCoreApplication.instance()
    if application is None:
        return
    gc.collect()  # Qt objects that only Python cycles kept alive are deleted now, not at exit
    if isinstance(application, QApplication):
        for widget in QApplication.topLevelWidgets():
            if Shiboken.isValid(widget) and Shiboken.ownedByPython(widget) and widget.parent() is None:
                widget.deleteLater()
    for _ in range(2):  # a deletion can schedule more (a window's children, a finished thread's worker)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
