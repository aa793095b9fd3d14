"""What the window takes in by drop, paste and Open goes through intake's one gate: a file in a format the app does
not promise (an EPS, which Pillow would hand to Ghostscript) is one sentence, and Ghostscript never runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from seeing_assistant.core import messages
from seeing_assistant.desktop.main_window import MainWindow
from tests.support.ghostscript import eps_file, stand_in_ghostscript

pytestmark = pytest.mark.display


def with_file(path: Path) -> QMimeData:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    return data


def drop(window: MainWindow, data: QMimeData) -> None:
    for kind in (QDragEnterEvent, QDropEvent):
        QApplication.sendEvent(window, kind(QPointF(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                                            Qt.KeyboardModifier.NoModifier))


def test_an_eps_file_dropped_pasted_or_opened_is_refused_and_ghostscript_never_runs(
        qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = stand_in_ghostscript(tmp_path, monkeypatch)
    eps = eps_file(tmp_path / "poster.eps")
    window = make_window()
    heard: list[str] = []
    window.status.changed.connect(lambda text, _error: heard.append(text))
    described: list[object] = []
    window.capturer.captured.connect(lambda image, *_: described.append(image))
    refused = messages.NOT_AN_IMAGE.format(source=eps)

    drop(window, with_file(eps))
    QGuiApplication.clipboard().setMimeData(with_file(eps))  # a file copied in a file manager
    window.capturer.clipboard()
    window.capturer.path(str(eps))  # Open image...
    assert heard == [refused] * 3 and described == []
    assert not ran.exists(), ran.read_text()
