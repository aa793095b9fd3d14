"""The one window: it lays out the widgets and wires them to the controllers that do the work.

The window shows at once; the model loads on the engine's thread while the user can already capture an image.
Answering (:mod:`.answering`), listening (:mod:`.listening`) and capturing (:mod:`.capturing`) each live in their
own controller; every status goes through :meth:`.voice.Voice.announce`.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from seeing_assistant import speech
from seeing_assistant.core import actions, intake, launcher, messages, servers, settings, tasks
from seeing_assistant.core.engine_settings import normalised
from seeing_assistant.core.errors import ServerError
from seeing_assistant.core.factories import load_engine, load_recognizer
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.core.seams import EngineFactory, RecognizerFactory, TextReaderLike
from seeing_assistant.desktop.answering import Answerer
from seeing_assistant.desktop.capturing import Capturer, bring_to_front
from seeing_assistant.desktop.hotkeys import Hotkeys
from seeing_assistant.desktop.listening import Listener
from seeing_assistant.desktop.model_offer import ModelOffer
from seeing_assistant.desktop.settings_dialog import SettingsDialog
from seeing_assistant.desktop.tray import add_tray
from seeing_assistant.desktop.voice import Voice
from seeing_assistant.desktop.widgets import (
    ConversationView,
    ImagePreview,
    QuestionField,
    StatusLine,
    TaskChoice,
    make_button,
    make_progress,
    name_labels,
)
from seeing_assistant.qt_signals import emit

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.gif *.bmp *.tif *.tiff *.webp);;All files (*)"


class MainWindow(QMainWindow):
    """The one window of the app.

    Signals:
        action_requested(action id): from hotkeys, the tray and ``seeing-assistant trigger`` (any thread).
        shut_down: the window has stopped its threads for good; the app can end.
    """

    action_requested = Signal(str)
    ask_released = Signal()  # the held Ask chord was let go (from the hotkeys' thread)
    shut_down = Signal()

    def __init__(self, chosen: settings.Settings, factory: EngineFactory = load_engine,
                 speaker: speech.Speaker | None = None, settings_problem: str | None = None,
                 save_settings: bool = True, use_hotkeys: bool = False,
                 recognizer_factory: RecognizerFactory = load_recognizer,
                 reader: TextReaderLike | None = None, offer_models: bool = False) -> None:
        super().__init__()
        self.settings = chosen
        self.save_settings = save_settings
        self.offer_models = offer_models  # first run without a model: offer one (the app, not the tests' windows)
        self.model_offer: ModelOffer | None = None
        self.pending_echo: str | None = None  # "You asked: ...", said before the answer to a spoken question
        self.hotkeys: Hotkeys | None = None
        self.tray: QSystemTrayIcon | None = None
        self.is_quitting = False
        self.is_shut_down = False
        self.setWindowTitle(messages.APP_NAME)
        self.setAccessibleName(messages.APP_NAME)
        self._build()
        name_labels(self)
        self.voice = Voice(chosen, self.status, speaker, self)
        self.statusBar().addPermanentWidget(self.voice.spoken_by)
        self.answers = Answerer(factory, recognizer_factory, self.voice, self.conversation, self.progress, self,
                                reader=reader, text_budget=chosen.screen_text_tokens)
        self.listener = Listener(self.answers, self.voice, self.speak_button, self.progress, self)
        self.capturer = Capturer(self, self.voice, self.answers.stop_current,
                                 lambda: self.settings.hide_window_when_capturing)
        self.capturer.take_paste_and_drop(self.question)
        self.listener.take_f2(self)
        self.answers.worker.load_failed.connect(self._on_load_failed)
        self.capturer.captured.connect(self.describe)
        self.listener.heard.connect(self._ask_heard)
        # A capture leaves the focus where it is: moved to the Question field, Orca 48 read that field's name and help
        # over "Describing the screen." (Alt+Q goes there for a follow-up).
        self._performers: dict[str, Callable[[], None]] = {
            actions.DESCRIBE_SCREEN.id: lambda: self.capturer.screen(quiet=True),
            actions.DESCRIBE_WINDOW.id: lambda: self.capturer.active_window(quiet=True),
            actions.DESCRIBE_CLIPBOARD.id: self.capturer.clipboard,
            actions.READ_TEXT.id: lambda: self.capturer.screen(quiet=True, task=tasks.READ_TEXT),
            actions.ASK.id: self._ask_pressed,
            actions.REPEAT.id: self.answers.repeat,
            actions.STOP.id: self.stop,
            actions.SHOW.id: lambda: bring_to_front(self),
            actions.QUIT.id: self.quit,
        }
        self.action_requested.connect(self.perform, Qt.ConnectionType.QueuedConnection)  # reply first
        self.ask_released.connect(self._ask_released, Qt.ConnectionType.QueuedConnection)
        self.answers.load(chosen)
        problems = [settings_problem, self.voice.problem]
        if use_hotkeys:
            problems += self.start_hotkeys(chosen.hotkeys)
        for problem in problems:
            if problem:
                QTimer.singleShot(0, lambda problem=problem: self.voice.announce(problem, is_error=True))

    def _build(self) -> None:
        def button(text: str, name: str, description: str, slot: Callable[[], None],
                   shortcut: str | None = None) -> QPushButton:
            return make_button(text, name, description, slot, shortcut, self)

        self.screen_button = button("Describe &screen", "Describe screen",
                                    "Capture the screen the pointer is on and describe it",
                                    lambda: self.capturer.screen(), "Ctrl+Shift+S")
        self.window_button = button("Describe &window", "Describe window",
                                    "Capture the active window of another application and describe it",
                                    lambda: self.capturer.active_window(), "Ctrl+Shift+W")
        self.clipboard_button = button("Describe c&lipboard", "Describe clipboard",
                                       "Describe the image, or the image file, on the clipboard",
                                       lambda: self.capturer.clipboard(), "Ctrl+Shift+V")
        self.read_text_button = button("Read screen te&xt", "Read screen text",
                                       "Read the text on the screen aloud, in reading order, without the model",
                                       lambda: self.capturer.screen(task=tasks.READ_TEXT), "Ctrl+Shift+T")
        self.open_button = button("&Open image...", "Open image", "Choose an image file to describe", self.open_image,
                                  "Ctrl+O")
        self.question = QuestionField()
        self.question.returnPressed.connect(self.ask)
        self.task = TaskChoice(self.settings.default_task)
        self.ask_button = button("&Ask", "Ask", "Ask the question about the current image", self.ask)
        self.speak_button = button("S&peak question", "Speak question",
                                   "Record a spoken question: press to start and again to finish, or hold F2",
                                   lambda: self.listener.toggle(), "Ctrl+Shift+Q")
        self.conversation = ConversationView()
        self.preview = ImagePreview()
        self.stop_button = button("S&top", "Stop", "Stop the answer and the speech now", self.stop, "Escape")
        self.new_button = button("&New conversation", "New conversation", "Forget the image and the questions so far",
                                 self.new_conversation, "Ctrl+N")
        self.copy_button = button("&Copy answer", "Copy answer", "Copy the last answer to the clipboard",
                                  lambda: self.answers.copy(), "Ctrl+Shift+C")
        self.settings_button = button("S&ettings...", "Settings", "Model, voice and capture settings",
                                      self.open_settings, "Ctrl+,")
        self.save_button = button("Sa&ve picture...", "Save picture",
                                  "Save the picture that was described, as the model was given it, as PNG",
                                  lambda: self.save_picture(), "Ctrl+S")
        self.status = StatusLine()
        self.progress = make_progress()

        inputs = QGridLayout()
        for column, input_button in enumerate((self.screen_button, self.window_button, self.clipboard_button,
                                               self.read_text_button, self.open_button)):
            inputs.addWidget(input_button, 0, column)
        ask_row = QHBoxLayout()
        row: list[tuple[str | None, QWidget, int]] = [("&Question:", self.question, 1), ("Tas&k:", self.task, 0),
                                                       (None, self.ask_button, 0), (None, self.speak_button, 0)]
        for label, widget, stretch in row:
            if label is not None:
                buddy = QLabel(label)
                buddy.setBuddy(widget)
                ask_row.addWidget(buddy)
            ask_row.addWidget(widget, stretch)
        conversation_column = QVBoxLayout()
        conversation_label = QLabel("Conve&rsation:")
        conversation_label.setBuddy(self.conversation)
        conversation_column.addWidget(conversation_label)
        conversation_column.addWidget(self.conversation, 1)
        preview_column = QVBoxLayout()
        preview_column.addWidget(self.preview)
        preview_column.addStretch(1)
        middle = QHBoxLayout()
        middle.addLayout(conversation_column, 1)
        middle.addLayout(preview_column)
        bottom = QHBoxLayout()
        for widget in (self.stop_button, self.new_button, self.copy_button, self.settings_button, self.save_button):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(inputs)
        layout.addLayout(ask_row)
        layout.addLayout(middle, 1)
        layout.addLayout(bottom)
        self.setCentralWidget(central)
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        order = (self.screen_button, self.window_button, self.clipboard_button, self.read_text_button,
                 self.open_button, self.question,
                 self.task, self.ask_button, self.speak_button, self.conversation, self.stop_button, self.new_button,
                 self.copy_button, self.settings_button, self.save_button)
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)
        self.resize(900, 600)

    # --- Actions --------------------------------------------------------------------------------------------------

    def perform(self, action_id: str) -> None:
        """Carry out an action without taking the focus from the user's application (except ask and show)."""
        self._performers[action_id]()

    def _ask_pressed(self) -> None:
        # Held: a spoken question (recorded until the chord is released); tapped: the Question field.
        self.listener.start(quiet=True)
        if not self.listener.is_recording:
            self._show_question_field()

    def _ask_released(self) -> None:
        if self.listener.is_tap():
            self.listener.cancel_recording(announce=False)
            self._show_question_field()
        else:
            self.listener.finish()

    def _show_question_field(self) -> None:
        bring_to_front(self)
        self.question.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- Asking ---------------------------------------------------------------------------------------------------

    def _question(self, task: str | None = None) -> tuple[str, str]:
        """The prompt for the model, and what the conversation shows under "You:" (the field is emptied)."""
        typed = self.question.text()
        self.question.clear()
        return tasks.prompt_and_label(task or self.task.currentData(), typed)

    @property
    def image(self) -> IntakeImage | None:
        """The conversation's picture, as the session holds it: the one shown and announced last."""
        return self.answers.session.image

    def describe(self, image: IntakeImage, task: str | None = None, quiet: bool = False) -> None:
        """Start a new conversation about ``image``: the typed question, else ``task`` (default: the chosen one).

        Read screen text (``task`` tasks.READ_TEXT), and the text task with no question typed, read the picture's
        text with the text recogniser instead of asking the model.
        """
        self.preview.show_image(image)
        chosen = task or self.task.currentData()
        if chosen == tasks.READ_TEXT or (chosen == tasks.TEXT_TASK and not self.question.text().strip()):
            self.answers.read_text(image, messages.READ_TEXT_SHOWN.format(source=image.source),
                                   messages.READING_TEXT.format(source=image.source), quiet=quiet)
            return
        prompt, shown = self._question(task)
        echo, self.pending_echo = self.pending_echo, None
        self.answers.send(prompt, shown, messages.DESCRIBING.format(source=image.source), image,
                          self.settings.max_new_tokens, quiet=quiet, echo=echo)

    def ask(self) -> None:
        """Ask the question about the current image (a follow-up keeps the conversation)."""
        if self.image is None:
            self.voice.announce(messages.NO_IMAGE_YET, is_error=True)
            return
        prompt, shown = self._question()
        echo, self.pending_echo = self.pending_echo, None
        self.answers.send(prompt, shown, messages.ASKING, None, self.settings.max_new_tokens, echo=echo)

    def _ask_heard(self, text: str, quiet: bool) -> None:
        self.question.setText(text)
        self.pending_echo = messages.YOU_ASKED.format(text=text)
        if self.image is None:
            self.capturer.screen(quiet=quiet)
        else:
            self.ask()

    def stop(self) -> None:
        """Stop generation, speech, listening and transcribing at once (the Stop button and Escape)."""
        self.listener.cancel()
        self.answers.stop()

    def new_conversation(self) -> None:
        """Forget the image and the turns."""
        self.stop()
        self.answers.forget()
        self.preview.show_nothing()
        self.voice.announce(messages.NEW_CONVERSATION)
        self.screen_button.setFocus()

    def open_image(self) -> None:
        """Choose an image file in a dialog and describe it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open image", os.path.expanduser("~"), IMAGE_FILTER)
        if path:
            self.capturer.path(path)

    def save_picture(self, path: str | None = None) -> None:
        """Save the conversation's picture, as the model was given it, as PNG (a dialog asks where, unless told)."""
        image = self.image
        if image is None:
            self.voice.announce(messages.NO_PICTURE_TO_SAVE, is_error=True)
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save picture", os.path.expanduser("~/picture.png"),
                                                  "PNG images (*.png)")
            if not path:
                return
            if not path.lower().endswith(".png"):
                path += ".png"
        try:
            intake.save_png(image, Path(path))
        except ValueError as error:
            self.voice.announce(str(error), is_error=True)
        except OSError as error:
            self.voice.announce(messages.SAVE_IMAGE_FAILED.format(path=path, reason=error.strerror or error),
                                is_error=True)
        else:
            self.voice.announce(messages.PICTURE_SAVED.format(path=path))

    def _on_load_failed(self, text: str) -> None:
        """A model that is not on this computer, at the first run: offer one for this computer, once."""
        chosen = self.settings
        if not self.offer_models or self.model_offer is not None or chosen.answers_from != servers.LOCAL:
            return
        if text != messages.MODEL_NOT_DOWNLOADED.format(model=chosen.model):
            return
        self.model_offer = ModelOffer(chosen.model, lambda sentence, is_error: self.voice.announce(
            sentence, is_error=is_error, speak=is_error), self)
        self.model_offer.downloaded.connect(
            lambda model: self.apply_settings(dataclasses.replace(self.settings, model=model)))
        self.model_offer.server_wanted.connect(self.open_settings, Qt.ConnectionType.QueuedConnection)
        self.model_offer.open()

    def open_settings(self) -> None:
        """Show the Settings dialog, and use what it saves."""
        dialog = SettingsDialog(self.settings, self, voices=speech.list_voices(self.voice.speaker),
                                announce=lambda text, is_error: self.voice.announce(text, is_error=is_error,
                                                                                    speak=True))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.apply_settings(dialog.chosen(), api_key=dialog.chosen_api_key())

    def apply_settings(self, chosen: settings.Settings, api_key: str | None = None) -> None:
        """Use ``chosen`` everywhere at once, each part taking its own share, then save it for the next start.

        ``api_key`` (None: unchanged) goes to the system keyring, never to the settings file. A failed save never
        leaves the app half on the old settings: the new ones are used for this run, and the user is told that they
        will not last.
        """
        if chosen.server_url:
            try:  # an address with user:key@ in it is refused before it is announced, used or saved anywhere
                normalised(chosen.server_url)
            except ServerError as error:
                self.voice.announce(str(error), is_error=True)
                return
        before, self.settings = self.settings, chosen
        is_key_changed = False
        if api_key is not None and chosen.server_url and api_key != (servers.api_key(chosen.server_url) or ""):
            is_key_changed = True
            note = servers.save_api_key(chosen.server_url, api_key)
            if note is not None:
                self.voice.announce(note, is_error=True)
        if chosen.start_at_login != before.start_at_login:
            settings.set_start_at_login(chosen.start_at_login, launcher.command())
        if self.hotkeys is not None and chosen.hotkeys != before.hotkeys:
            for problem in self.start_hotkeys(chosen.hotkeys):
                self.voice.announce(problem, is_error=True)
        self.voice.apply(chosen)
        self.answers.apply(chosen, is_key_changed)
        if self.save_settings:
            try:
                settings.save(chosen)
            except OSError as error:
                self.voice.announce(messages.SETTINGS_NOT_SAVED.format(reason=error.strerror or error), is_error=True)
                return
        self.voice.announce(messages.SETTINGS_SAVED)

    def start_hotkeys(self, bindings: dict[str, str]) -> list[str]:
        """Listen for these global chords (replacing any before); the sentences say which could not be used."""
        if self.hotkeys is not None:
            self.hotkeys.stop()
        self.hotkeys = Hotkeys(bindings, lambda action: emit(self.action_requested, action),
                               lambda: emit(self.ask_released))
        return self.hotkeys.start()

    def add_tray(self) -> None:
        """A tray icon with the actions and Quit, where the desktop has a tray."""
        self.tray = add_tray(self, lambda action: self.perform(action.id), self.quit, lambda: bring_to_front(self))

    # --- The end --------------------------------------------------------------------------------------------------

    def quit(self) -> None:
        """Quit the app (the tray's Quit): closing the window then really ends it."""
        self.is_quitting = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop everything and end the engine's thread before the window goes (also mid-answer).

        With a tray icon, closing the window only hides it: the app stays at hand until Quit.
        """
        self.hide()
        if self.tray is not None and not self.is_quitting:
            event.ignore()
            return
        event.accept()
        if self.is_shut_down:
            return
        self.is_shut_down = True
        if self.hotkeys is not None:
            self.hotkeys.stop()
        if self.tray is not None:
            self.tray.hide()
        self.answers.shut_down()
        self.voice.close()
        emit(self.shut_down)
