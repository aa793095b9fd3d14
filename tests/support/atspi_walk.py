"""Walk the running app's accessibility tree as Orca would, press "Describe screen", read "Conversation".

Runs with Debian's own python3 (pyatspi is not on PyPI), inside the app's D-Bus session. Prints one JSON object:
the unnamed interactive controls, the names seen, the announcements heard, the conversation text after a description
and after a follow-up question, and timings. Exit status 0 when it got that far, 1 with a reason otherwise.
"""

import json
import sys
import time
from typing import Any

import pyatspi
from gi.repository import GLib

APP_NAME = "Seeing Assistant"
INTERACTIVE = {"push button", "toggle button", "check box", "radio button", "combo box", "text", "entry",
               "password text", "spin button", "slider", "list", "list item", "menu item", "page tab", "table",
               "tree", "link", "scroll bar"}


def fail(reason: str) -> None:
    print(json.dumps({"error": reason}))
    sys.exit(1)


def find_app(timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        for index in range(desktop.childCount):
            app = desktop.getChildAtIndex(index)
            if app is not None and app.name == APP_NAME:
                return app
        time.sleep(0.2)
    return None


def pump() -> None:
    """Deliver the accessibility events that have arrived (they come through GLib's main context)."""
    context = GLib.MainContext.default()
    while context.iteration(False):
        pass


def walk(node: Any, depth: int = 0) -> Any:
    yield node
    if depth > 40:
        return
    for index in range(node.childCount):
        child = node.getChildAtIndex(index)
        if child is not None:
            yield from walk(child, depth + 1)


def text_of(node: Any) -> str:
    text = node.queryText()
    return text.getText(0, -1)


def by_name(app: Any, role: str, name: str) -> Any:
    for node in walk(app):
        if node.getRoleName() == role and node.name == name:
            return node
    return None


def wait_for(condition: Any, timeout: float, what: str, details: Any = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump()
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    fail(f"timed out waiting for {what} {details()}")
    return None


def main() -> None:
    announcements = []

    def on_announcement(event: Any) -> None:
        announcements.append(str(event.any_data))

    pyatspi.Registry.registerEventListener(on_announcement, "object:announcement")
    insertions: list[float] = []

    def on_insert(event: Any) -> None:
        if event.source is not None and event.source.name == "Conversation":
            insertions.append(time.monotonic())

    pyatspi.Registry.registerEventListener(on_insert, "object:text-changed:insert")
    started = time.monotonic()
    app = find_app(60)
    if app is None:
        fail("the app did not appear on the accessibility bus")
    found_s = time.monotonic() - started
    unnamed, names = [], []
    for node in walk(app):
        role = node.getRoleName()
        states = node.getState()
        if role in INTERACTIVE and states.contains(pyatspi.STATE_SHOWING):
            names.append([role, node.name])
            if not node.name.strip():
                unnamed.append([role, node.description, node.parent.getRoleName() if node.parent else ""])
    status: Any = None
    for node in walk(app):
        if node.getRoleName() == "label" and node.description == "The app's status":
            status = node
    conversation = by_name(app, "text", "Conversation")
    button = by_name(app, "push button", "Describe screen")
    question = by_name(app, "text", "Question")
    ask = by_name(app, "push button", "Ask")
    if None in (conversation, button, question, ask):
        fail(f"missing controls: {names}")
    if status is None:
        fail("no status line")
    wait_for(lambda: status.name.startswith("Model ready"), 60, "the model to load")
    pressed = time.monotonic()
    button.queryAction().doAction(0)
    first_text_s = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = text_of(conversation)
        answer = text.split("Assistant:\n", 1)[1] if "Assistant:\n" in text else ""
        if answer.strip() and first_text_s is None:
            first_text_s = time.monotonic() - pressed
        if status.name == "Answer complete.":
            break
        pump()
        time.sleep(0.02)
    first = text_of(conversation)
    pump()
    first_answer_insertions = sum(1 for stamp in insertions if stamp >= pressed)
    question.queryEditableText().setTextContents("What colours are there?")
    ask.queryAction().doAction(0)
    wait_for(lambda: text_of(conversation).count("Assistant:\n") == 2 and status.name == "Answer complete.", 60,
             "the follow-up answer", lambda: f"(status {status.name!r}, question {text_of(question)!r}, "
             f"conversation {text_of(conversation)!r})")
    pump()
    print(json.dumps({
        "found_s": found_s,
        "unnamed": unnamed,
        "names": names,
        "announcements": announcements,
        "first_conversation": first,
        "conversation": text_of(conversation),
        "describe_to_first_text_s": first_text_s,
        "first_answer_text_events": first_answer_insertions,
    }))


if __name__ == "__main__":
    main()
