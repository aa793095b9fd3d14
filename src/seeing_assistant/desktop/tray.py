"""The tray icon: the same actions as the global hotkeys, Show the window, and Quit, where the desktop has a tray."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QSystemTrayIcon

from seeing_assistant.core import messages
from seeing_assistant.core.actions import ACTIONS, Action


def add_tray(window: QMainWindow, perform: Callable[[Action], None], quit_app: Callable[[], None],
             show: Callable[[], None]) -> QSystemTrayIcon | None:
    """A tray icon whose menu lists the actions, then Quit; None where the desktop has no tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    style = QApplication.style()
    icon = window.windowIcon() if not window.windowIcon().isNull() else style.standardIcon(
        style.StandardPixmap.SP_ComputerIcon)
    tray = QSystemTrayIcon(icon, window)
    tray.setToolTip(messages.APP_NAME)
    menu = QMenu(window)
    for action in ACTIONS:
        if action.is_in_tray:
            menu.addAction(action.label, _performer(perform, action))
    menu.addSeparator()
    menu.addAction("Quit", quit_app)
    tray.setContextMenu(menu)
    tray.activated.connect(lambda reason: show() if reason == QSystemTrayIcon.ActivationReason.Trigger else None)
    tray.show()
    QApplication.setQuitOnLastWindowClosed(False)
    return tray


def _performer(perform: Callable[[Action], None], action: Action) -> Callable[[], None]:
    return lambda: perform(action)
