"""Emitting a Qt signal from Python without losing a reference to ``True``.

PySide6 6.12.0's ``SignalInstance.emit`` returns ``True`` without taking a reference to it: every emit from Python
leaves True's reference count one lower (measured: 50 emits, 50 references), and once it runs out Python aborts
("Fatal Python error: bool_dealloc"), mid-session or at exit. The app emits a signal for every piece of an answer,
so a long session would end that way. :func:`emit` hands the reference back, only where the bug is present: it is
looked for once, at import, on a signal of its own.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_PROBES = 16


def _give_back(count: int) -> None:
    for _ in range(count):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def _emit_loses_a_reference() -> bool:
    class Probe(QObject):
        ping = Signal()

    probe = Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    if lost >= _PROBES:
        _give_back(_PROBES)
        return True
    return False


EMIT_LOSES_A_REFERENCE = _emit_loses_a_reference()


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, keeping True's reference count whole."""
    signal.emit(*args)
    if EMIT_LOSES_A_REFERENCE:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
