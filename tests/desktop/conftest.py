"""Fixtures for the window's tests: an isolated config folder, and windows with a scripted engine and no sound."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QAccessible, QColor, QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from seeing_assistant import speech
from seeing_assistant.core import settings
from seeing_assistant.desktop.main_window import MainWindow
from tests.support.fakes import ScriptedEngine


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv(settings.CONFIG_ENV, str(folder))
    return folder


@pytest.fixture
def make_window(qtbot: QtBot) -> Iterator[Callable[..., MainWindow]]:
    made: list[MainWindow] = []

    def make(engine: Any = None, factory: Any = None, reader: Any = None, offer_models: bool = False,
             **chosen: Any) -> MainWindow:
        options: dict[str, Any] = {"hide_window_when_capturing": False, "spoken_by": "app", **chosen}
        window = MainWindow(settings.Settings(**options), factory=factory or (lambda _: engine or ScriptedEngine()),
                            speaker=speech.SilentSpeaker(), save_settings=False, reader=reader,
                            offer_models=offer_models)
        qtbot.addWidget(window)
        window.show()
        window.raise_()
        window.activateWindow()
        made.append(window)
        qtbot.waitUntil(lambda: window.status.text().startswith(("Model ready", "Ready:", "Nothing answers"))
                        or "not on this computer" in window.status.text(), timeout=60000)
        return window

    yield make
    for window in made:
        window.close()
        assert window.answers.engine_thread.isFinished()


def wait_painted(qtbot: QtBot, widget: QWidget, colour: QColor | None = None, timeout: int = 5000) -> None:
    """Wait until the X server shows ``widget``'s background (or ``colour``) on the screen, as a capture sees it."""
    wanted = colour or widget.palette().color(widget.backgroundRole())
    corner = widget.mapToGlobal(QPoint(2, 2))

    def shown() -> bool:
        image = QGuiApplication.primaryScreen().grabWindow(0, corner.x(), corner.y(), 1, 1).toImage()
        return image.pixelColor(0, 0).rgb() == wanted.rgb()

    qtbot.waitUntil(shown, timeout=timeout)


def wait_done(qtbot: QtBot, window: MainWindow, timeout: int = 30000) -> None:
    qtbot.waitUntil(lambda: window.answers.answering_id is None, timeout=timeout)


def accessible_name(widget: QWidget) -> str:
    """The name a screen reader gets for ``widget`` (a label's is its text unless a name was set)."""
    return QAccessible.queryAccessibleInterface(widget).text(QAccessible.Text.Name)
