"""The actions the running app carries out from its window, global hotkeys, the tray and ``seeing-assistant trigger``.

One definition per action: its id (what ``trigger`` takes), the label menus show and the global chord it has by
default. Every place that lists actions reads them from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    """One thing the app can be asked to do from outside its window."""

    id: str
    # Translators: an item in the tray icon's menu.
    label: str
    chord: str | None = None  # the default global hotkey, None for none
    is_in_tray: bool = True


DESCRIBE_SCREEN = Action("describe-screen", "Describe screen", "Ctrl+Alt+Shift+S")
DESCRIBE_WINDOW = Action("describe-window", "Describe window", "Ctrl+Alt+Shift+W")
DESCRIBE_CLIPBOARD = Action("describe-clipboard", "Describe clipboard", "Ctrl+Alt+Shift+C")
# The screen's text read aloud in reading order by the text recogniser, without the model.
READ_TEXT = Action("read-text", "Read screen text", "Ctrl+Alt+Shift+T")
# Tapped: the Question field; held: a spoken question, recorded until the chord is released.
ASK = Action("ask", "Ask a question", "Ctrl+Alt+Shift+A")
REPEAT = Action("repeat", "Repeat the last answer", "Ctrl+Alt+Shift+R")
STOP = Action("stop", "Stop", "Ctrl+Alt+Shift+X")
SHOW = Action("show", "Show the window")
QUIT = Action("quit", "Quit", is_in_tray=False)  # the tray has its own Quit, below a separator

ACTIONS: tuple[Action, ...] = (DESCRIBE_SCREEN, DESCRIBE_WINDOW, DESCRIBE_CLIPBOARD, READ_TEXT, ASK, REPEAT, STOP, SHOW,
                               QUIT)
ACTION_IDS: tuple[str, ...] = tuple(action.id for action in ACTIONS)
DEFAULT_HOTKEYS: dict[str, str] = {action.id: action.chord for action in ACTIONS if action.chord}


def action_named(action_id: str) -> Action | None:
    """The action with this id, or None when there is none."""
    return next((action for action in ACTIONS if action.id == action_id), None)
