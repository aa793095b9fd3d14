"""No "&" in what a screen reader reads: every accessible name and description of the window, the Settings dialog
and the model offer, read through Qt's accessibility interfaces; every label with a mnemonic named without it; each
Alt+letter still reaching its field.

Qt's interfaces report a label's name without the "&" already, and yet Orca 48 read the Settings dialog's labels with
it ("Answers come &from: A model on this computer combo box"; Orca 43 skipped it) until each label was given its name
explicitly: what Orca 48 really says is checked in ``test_orca.py``; this checks the names that fix it are there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QAccessibleInterface
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from seeing_assistant.desktop.main_window import MainWindow
from seeing_assistant.desktop.model_offer import ModelOffer
from seeing_assistant.desktop.settings_dialog import SettingsDialog
from seeing_assistant.desktop.widgets import without_mnemonic

pytestmark = pytest.mark.display


def accessibles(interface: QAccessibleInterface, depth: int = 0) -> Iterator[QAccessibleInterface]:
    yield interface
    if depth < 40:
        for index in range(interface.childCount()):
            child = interface.child(index)
            if child is not None and child.isValid():
                yield from accessibles(child, depth + 1)


def texts_with_ampersand(root: QWidget) -> list[tuple[str, str]]:
    found = []
    for interface in accessibles(QAccessible.queryAccessibleInterface(root)):
        for kind in (QAccessible.Text.Name, QAccessible.Text.Description):
            text = interface.text(kind)
            if "&" in text.replace("&&", ""):
                found.append((interface.role().name, text))
    return found


def test_a_mnemonic_is_taken_out_and_a_doubled_ampersand_kept() -> None:
    assert without_mnemonic("Spee&ch recognition model:") == "Speech recognition model:"
    assert without_mnemonic("Answers come &from:") == "Answers come from:"
    assert without_mnemonic("Salt && pepper") == "Salt & pepper"


def test_no_accessible_name_or_description_has_a_mnemonic_marker_and_alt_letters_still_work(
        make_window: Callable[..., MainWindow], qtbot: QtBot) -> None:
    window = make_window()
    assert texts_with_ampersand(window) == []
    labels = {label.accessibleName() for label in window.findChildren(QLabel) if label.buddy() is not None}
    assert {"Question:", "Task:", "Conversation:"} <= labels

    dialog = SettingsDialog(window.settings, window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    assert texts_with_ampersand(dialog) == []
    spoken = {label.accessibleName(): label.buddy() for label in dialog.findChildren(QLabel) if label.buddy()}
    for name in ("Answers come from:", "Model:", "Speech recognition model:", "Device:", "Precision:"):
        assert name in spoken, sorted(spoken)
    # The mnemonic still takes the focus to the field: Alt+C to "Spee&ch recognition model:", Alt+R to "P&recision:".
    for key, name in ((Qt.Key.Key_C, "Speech recognition model:"), (Qt.Key.Key_R, "Precision:")):
        QTest.keyClick(dialog, key, Qt.KeyboardModifier.AltModifier)
        field: QWidget = spoken[name]

        def reached(field: QWidget = field) -> bool:
            return field.hasFocus() or field.isAncestorOf(dialog.focusWidget())

        qtbot.waitUntil(reached, timeout=5000)
    dialog.reject()

    offer = ModelOffer("llava-hf/llava-1.5-7b-hf", lambda sentence, is_error: None, window)
    qtbot.addWidget(offer)
    offer.show()
    assert texts_with_ampersand(offer) == []
    offer.close()
