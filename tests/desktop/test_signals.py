"""Signals emitted from Python keep True's reference count whole (PySide6 6.12.0's emit returns True without a
reference: the app, emitting one per piece of an answer, would abort with "bool_dealloc" in a long session)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from seeing_assistant.desktop.main_window import MainWindow
from seeing_assistant.qt_signals import emit


class Source(QObject):
    piece = Signal(int, str)


def test_emit_keeps_trues_reference_count() -> None:
    source = Source()
    before = sys.getrefcount(True)
    for number in range(2000):
        emit(source.piece, number, "word ")
    assert abs(sys.getrefcount(True) - before) < 20


def test_a_window_announcing_many_statuses_keeps_trues_reference_count(
        make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    window.voice.announce("warm up")
    before = sys.getrefcount(True)
    for number in range(500):
        window.voice.announce(f"Status {number}.")
    assert abs(sys.getrefcount(True) - before) < 50
