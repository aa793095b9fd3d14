"""The window's own widgets: buttons with names and shortcuts, the conversation, the image preview, the status line."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QWidget

from seeing_assistant.core import tasks
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.qt_signals import emit

PREVIEW_SIZE = QSize(240, 160)
NO_IMAGE = "No image yet"
HEADINGS = ("You:", "Assistant:")  # each turn's heading line in the conversation


def make_button(text: str, name: str, description: str, slot: Callable[[], None], shortcut: str | None = None,
                shortcut_parent: QWidget | None = None) -> QPushButton:
    """A push button with its accessible name, a description that gives its shortcut, and the shortcut itself."""
    button = QPushButton(text)
    button.setAccessibleName(name)
    hint = f" ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})" if shortcut else ""
    button.setAccessibleDescription(description + hint)
    button.setToolTip(description + hint)
    button.clicked.connect(slot)
    if shortcut and shortcut_parent is not None:
        QShortcut(QKeySequence(shortcut), shortcut_parent, slot)
    return button


def without_mnemonic(text: str) -> str:
    """``text`` as it reads: the mnemonic's "&" taken out ("Spee&ch" -> "Speech"), a doubled "&&" left as one."""
    return re.sub(r"&(&?)", lambda found: found.group(1), text)


def name_labels(root: QWidget) -> None:
    """Name every label that has a mnemonic (a buddy, and "&" in its text) by its text without the "&".

    Qt names a label by its text, "&" and all, and Orca 48 reads a field by its label's name ("Answers come &from:
    ... combo box"); Orca 43 skipped the "&". The mnemonic (Alt+letter to the label's field) still works: it is the
    label's text, not its accessible name, that carries it. Call again after adding labels.
    """
    for label in root.findChildren(QLabel):
        if label.buddy() is not None and "&" in label.text() and not label.accessibleName():
            label.setAccessibleName(without_mnemonic(label.text()))


def make_progress() -> QProgressBar:
    """A busy indicator for the status bar, hidden until the model loads or answers."""
    progress = QProgressBar()
    progress.setAccessibleName("Progress")
    progress.setAccessibleDescription("Shown while the model loads or answers")
    progress.setRange(0, 0)
    progress.setMaximumWidth(160)
    progress.hide()
    return progress


class TextField(QLineEdit):
    """A line edit that neither selects its text when tabbed into nor unselects it when left.

    A QLineEdit selects all its text on Tab, and unselects it on leaving, before Qt sends the focus event. Orca
    takes the caret event of that selection as the focus move, silently, and then ignores the focus event: tabbing to
    the field said nothing, or "Text unselected." over the next control; and Orca 43 reads Qt's selection one
    character short ("Ctrl+Alt+Shift+ selected"). Without the selection, the field is read by its label, then its
    whole text; Ctrl+A still selects it all.
    """

    _SELECTING = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason, Qt.FocusReason.ShortcutFocusReason)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: D102 (Qt's handler, with the reason changed)
        if event.reason() in self._SELECTING:
            event = QFocusEvent(QEvent.Type.FocusIn, Qt.FocusReason.OtherFocusReason)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: D102 (Qt's handler, keeping the selection)
        super().focusOutEvent(QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.ActiveWindowFocusReason))


class QuestionField(TextField):
    """Where the user types a question; empty asks for the chosen task."""

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Question")
        self.setAccessibleDescription(
            "Type a question about the current image and press Enter; leave it empty for a description")
        self.setPlaceholderText("Ask about the image, or leave empty to describe it")


class TaskChoice(QComboBox):
    """The preset asked when the question is empty; its item data is the task's name."""

    def __init__(self, default_task: str) -> None:
        super().__init__()
        self.setAccessibleName("Task")
        self.setAccessibleDescription("What to do when the question is empty")
        for name, task in tasks.TASKS.items():
            self.addItem(task.label, name)
        self.setCurrentIndex(max(0, self.findData(default_task)))


class ConversationView(QPlainTextEdit):
    """The questions and answers so far: read-only, readable by caret, written to as the answer streams.

    The answer is added a sentence at a time, not a token at a time: each insertion is an event a screen reader
    hears about (401 of them for one answer, token by token).
    """

    # The end of a sentence or clause, or a line: text up to the last one is written out.
    _BOUNDARY = re.compile(r"""[.!?;:…]["')\]]*\s|\n""")
    LONGEST_UNWRITTEN = 300  # characters; a long run without a boundary is written out anyway

    def __init__(self) -> None:
        super().__init__()
        self._unwritten = ""
        self.setReadOnly(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                     | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName("Conversation")
        self.setAccessibleDescription(
            "The questions and answers so far, under 'You:' and 'Assistant:' headings; read it with the arrow keys, "
            "and press H or Shift+H to jump to the next or previous heading")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """H and Shift+H move to the next and previous turn's heading, as in a screen reader's browse mode."""
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if event.key() == Qt.Key.Key_H and modifiers in (Qt.KeyboardModifier.NoModifier,
                                                         Qt.KeyboardModifier.ShiftModifier):
            self.jump_to_heading(forward=modifiers == Qt.KeyboardModifier.NoModifier)
            return
        super().keyPressEvent(event)

    def jump_to_heading(self, forward: bool = True) -> bool:
        """Put the caret at the start of the next (or previous) "You:" or "Assistant:" line; False if there is none.

        The caret's move is what the screen reader follows: it reads the heading's line.
        """
        block = self.textCursor().block()
        block = block.next() if forward else block.previous()
        while block.isValid():
            if block.text() in HEADINGS:
                cursor = self.textCursor()
                cursor.setPosition(block.position())
                self.setTextCursor(cursor)
                return True
            block = block.next() if forward else block.previous()
        return False

    def stream(self, piece: str) -> None:
        """Add a piece of the answer; it appears once its sentence is complete."""
        self._unwritten += piece
        ends = [match.end() for match in self._BOUNDARY.finditer(self._unwritten)]
        if ends:
            self.append_text(self._unwritten[: ends[-1]])
            self._unwritten = self._unwritten[ends[-1]:]
        elif len(self._unwritten) > self.LONGEST_UNWRITTEN:
            self.flush()

    def flush(self) -> None:
        """Write out what is left of the answer (it has ended, or been stopped)."""
        if self._unwritten:
            self.append_text(self._unwritten)
            self._unwritten = ""

    def clear(self) -> None:
        """Empty the view, and forget any part of an answer not yet written."""
        self._unwritten = ""
        super().clear()

    def add_turn(self, shown: str) -> None:
        """Start a turn: the question as the user sees it, then the heading the answer streams under."""
        self.flush()
        self.append_text(("\n\n" if self.toPlainText() else "") + f"You:\n{shown}\n\nAssistant:\n")

    def append_text(self, text: str) -> None:
        """Add ``text`` at the end, without moving the reader's caret."""
        cursor = self.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)


class ImagePreview(QLabel):
    """A thumbnail of the current image, with a text alternative (its source and size)."""

    def __init__(self) -> None:
        super().__init__(NO_IMAGE)
        self.setAccessibleName("Image preview")
        self.setAccessibleDescription(NO_IMAGE)
        self.setFixedSize(PREVIEW_SIZE)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFrameShape(QLabel.Shape.StyledPanel)

    def show_image(self, image: IntakeImage) -> None:
        """Show ``image`` scaled down, and describe it in words."""
        picture = image.image.copy()
        picture.thumbnail((PREVIEW_SIZE.width(), PREVIEW_SIZE.height()))
        data = picture.convert("RGB").tobytes("raw", "RGB")
        qimage = QImage(data, picture.width, picture.height, picture.width * 3, QImage.Format.Format_RGB888).copy()
        self.setPixmap(QPixmap.fromImage(qimage))
        width, height = image.original_size
        alternative = f"Preview of {image.source}, {width} by {height} pixels"
        self.setAccessibleDescription(alternative)
        self.setToolTip(alternative)

    def show_nothing(self) -> None:
        """Back to "No image yet"."""
        self.clear()
        self.setText(NO_IMAGE)
        self.setAccessibleDescription(NO_IMAGE)
        self.setToolTip("")


class StatusLine(QLabel):
    """The status line's text, announced to screen readers at every change (assertively for errors).

    No accessible name: a label's name is its text, which is what a screen reader should read here.

    Signals:
        changed(text, is_error): after every announcement.
    """

    changed = Signal(str, bool)

    def __init__(self) -> None:
        super().__init__("")
        self.setAccessibleDescription("The app's status")
        self.setWordWrap(True)

    def display(self, text: str, is_error: bool = False) -> None:
        """Show ``text`` without announcing it (the user hears it another way)."""
        self.setText(text)
        emit(self.changed, text, is_error)

    def announce(self, text: str, is_error: bool = False) -> None:
        """Show ``text`` and announce it."""
        self.setText(text)
        event = QAccessibleAnnouncementEvent(self, text)
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive if is_error
                            else QAccessible.AnnouncementPoliteness.Polite)
        QAccessible.updateAccessibility(event)
        emit(self.changed, text, is_error)


class Relay(QObject):
    """Carries a sentence from any thread to the GUI thread (a queued signal), e.g. a speech engine's failure."""

    sentence = Signal(str)
