"""The desktop app: capture an image, ask about it, hear the answer, follow up; all by keyboard and screen reader.

The window shows at once; the model loads on the worker thread (:mod:`seeing_assistant.worker`) while the user can
already capture an image. Every status change is shown in the status line, announced to screen readers and, when
speech is on, spoken.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QObject, QSize, QSocketNotifier, Qt, QThread, QTimer, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QCloseEvent,
    QCursor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from seeing_assistant import asr, capture, devices, intake, messages, qt_exit, settings, speech, tasks
from seeing_assistant.errors import SeeingAssistantError
from seeing_assistant.hotkeys import DEFAULT_HOTKEYS, Hotkeys
from seeing_assistant.intake import IntakeImage
from seeing_assistant.worker import (
    EngineFactory,
    EngineWorker,
    RecognizerFactory,
    Request,
    load_engine,
    load_recognizer,
)

PREVIEW_SIZE = QSize(240, 160)
CAPTURE_DELAY_MS = 250  # time for the window to disappear before the screen is grabbed


def engine_settings(chosen: settings.Settings) -> Any:
    """The engine's settings from the app's (the engine module is imported lazily, off the start-up path)."""
    from seeing_assistant.engine import EngineSettings

    return EngineSettings(model=chosen.model, device=chosen.device, dtype=chosen.dtype, quantize=chosen.quantize,
                          max_new_tokens=chosen.max_new_tokens)


class MainWindow(QMainWindow):
    """The one window of the app."""

    status_changed = Signal(str)
    action_requested = Signal(str)  # from hotkeys, the tray and `seeing-assistant trigger` (any thread)
    shut_down = Signal()  # the window has stopped its threads for good: the app can end

    def __init__(self, chosen: settings.Settings, factory: EngineFactory = load_engine,
                 speaker: speech.Speaker | None = None, settings_problem: str | None = None,
                 save_settings: bool = True, use_hotkeys: bool = False,
                 recognizer_factory: RecognizerFactory = load_recognizer) -> None:
        super().__init__()
        from seeing_assistant.microphone import Microphone  # Qt Multimedia: loaded once a window is made

        self.microphone = Microphone(self)
        self.is_quiet_listening = False
        self.transcribe_id: int | None = None
        self.released_at = 0.0
        self.pending_echo: str | None = None
        self.last_recording: tuple[float, float] | None = None  # seconds, level: what the microphone heard
        self.last_transcribe_wait_s: float | None = None  # from releasing the key to the transcript
        self.hotkeys: Hotkeys | None = None
        self.tray: QSystemTrayIcon | None = None
        self.is_quitting = False
        self.is_shut_down = False
        self.is_quiet_answer = False
        self.settings = chosen
        self.save_settings = save_settings
        self.setWindowTitle(messages.APP_NAME)
        self.setAccessibleName(messages.APP_NAME)
        self.setAcceptDrops(True)
        self.image: IntakeImage | None = None
        self.request_id = 0
        self.answering_id: int | None = None
        self.answer_text = ""
        self.last_answer = ""
        self.speech_problem: str | None = None
        self.speaker = speaker if speaker is not None else self._open_speaker()
        self._build()
        self._thread = QThread(self)
        self._thread.setObjectName("seeing-assistant-engine")
        self.worker = EngineWorker(factory, recognizer_factory)
        self.worker.moveToThread(self._thread)
        self._thread.finished.connect(self.worker.deleteLater)  # deleted on its own thread, not by the GC
        self.worker.loading.connect(self._on_loading)
        self.worker.loaded.connect(self._on_loaded)
        self.worker.load_failed.connect(self._on_load_failed)
        self.worker.started.connect(self._on_started)
        self.worker.chunk.connect(self._on_chunk)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.transcribed.connect(self._on_transcribed)
        self.worker.transcribe_failed.connect(self._on_transcribe_failed)
        self._thread.start()
        # Loading starts once the event loop runs, so that importing torch on the worker thread does not compete
        # with showing the window.
        QTimer.singleShot(0, lambda: self.worker.load_requested.emit(engine_settings(chosen)))
        QTimer.singleShot(0, lambda: self.worker.asr_load_requested.emit(chosen.asr_model))
        self.action_requested.connect(self.perform, Qt.ConnectionType.QueuedConnection)  # reply first
        problems = [settings_problem, self.speech_problem]
        if use_hotkeys:
            self.hotkeys = Hotkeys(chosen.hotkeys, self.action_requested.emit)
            problems += self.hotkeys.start()
        for problem in problems:
            if problem:
                QTimer.singleShot(0, lambda problem=problem: self.announce(problem, is_error=True))

    # --- Layout ---------------------------------------------------------------------------------------------------

    def _button(self, text: str, name: str, description: str, slot: Callable[[], None],
                shortcut: str | None = None) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        hint = f" ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})" if shortcut else ""
        button.setAccessibleDescription(description + hint)
        button.setToolTip(description + hint)
        button.clicked.connect(slot)
        if shortcut:
            QShortcut(QKeySequence(shortcut), self, slot)
        return button

    def _build(self) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        layout = QVBoxLayout(central)

        inputs = QGridLayout()
        self.screen_button = self._button("Describe &screen", "Describe screen",
                                          "Capture the screen the pointer is on and describe it",
                                          self.describe_screen, "Ctrl+Shift+S")
        self.window_button = self._button("Describe &window", "Describe window",
                                          "Capture the active window of another application and describe it",
                                          self.describe_window, "Ctrl+Shift+W")
        self.clipboard_button = self._button("Describe c&lipboard", "Describe clipboard",
                                             "Describe the image, or the image file, on the clipboard",
                                             self.describe_clipboard, "Ctrl+Shift+V")
        self.open_button = self._button("&Open image...", "Open image", "Choose an image file to describe",
                                        self.open_image, "Ctrl+O")
        for column, button in enumerate((self.screen_button, self.window_button, self.clipboard_button,
                                         self.open_button)):
            inputs.addWidget(button, 0, column)
        layout.addLayout(inputs)

        ask_row = QHBoxLayout()
        question_label = QLabel("&Question:")
        self.question = QLineEdit()
        self.question.setAccessibleName("Question")
        self.question.setAccessibleDescription(
            "Type a question about the current image and press Enter; leave it empty for a description")
        self.question.setPlaceholderText("Ask about the image, or leave empty to describe it")
        self.question.returnPressed.connect(self.ask)
        self.question.installEventFilter(self)
        question_label.setBuddy(self.question)
        task_label = QLabel("Tas&k:")
        self.task = QComboBox()
        self.task.setAccessibleName("Task")
        self.task.setAccessibleDescription("What to do when the question is empty")
        for name in tasks.TASKS:
            self.task.addItem(tasks.TASKS[name].label, name)
        self.task.setCurrentIndex(max(0, self.task.findData(self.settings.default_task)))
        task_label.setBuddy(self.task)
        self.ask_button = self._button("&Ask", "Ask", "Ask the question about the current image", self.ask)
        self.speak_button = self._button("S&peak question", "Speak question",
                                         "Record a spoken question: press to start and again to finish, or hold F2",
                                         self._toggle_listening, "Ctrl+Shift+Q")
        self.speak_button.setCheckable(True)
        self.speak_button.clicked.disconnect()
        self.speak_button.clicked.connect(lambda _checked: self._toggle_listening())
        ask_row.addWidget(question_label)
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(task_label)
        ask_row.addWidget(self.task)
        ask_row.addWidget(self.ask_button)
        ask_row.addWidget(self.speak_button)
        layout.addLayout(ask_row)

        middle = QHBoxLayout()
        conversation_column = QVBoxLayout()
        conversation_label = QLabel("Conve&rsation:")
        self.conversation = QPlainTextEdit()
        self.conversation.setReadOnly(True)
        self.conversation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                                  | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.conversation.setAccessibleName("Conversation")
        self.conversation.setAccessibleDescription(
            "The questions and answers so far, under 'You:' and 'Assistant:' headings; read it with the arrow keys")
        conversation_label.setBuddy(self.conversation)
        conversation_column.addWidget(conversation_label)
        conversation_column.addWidget(self.conversation, 1)
        middle.addLayout(conversation_column, 1)
        preview_column = QVBoxLayout()
        self.preview = QLabel("No image yet")
        self.preview.setAccessibleName("Image preview")
        self.preview.setAccessibleDescription("No image yet")
        self.preview.setFixedSize(PREVIEW_SIZE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFrameShape(QLabel.Shape.StyledPanel)
        preview_column.addWidget(self.preview)
        preview_column.addStretch(1)
        middle.addLayout(preview_column)
        layout.addLayout(middle, 1)

        actions = QHBoxLayout()
        self.stop_button = self._button("S&top", "Stop", "Stop the answer and the speech now", self.stop, "Escape")
        self.new_button = self._button("&New conversation", "New conversation",
                                       "Forget the image and the questions so far", self.new_conversation,
                                       "Ctrl+N")
        self.copy_button = self._button("&Copy answer", "Copy answer", "Copy the last answer to the clipboard",
                                        self.copy_answer, "Ctrl+Shift+C")
        self.settings_button = self._button("S&ettings...", "Settings", "Model, voice and capture settings",
                                            self.open_settings, "Ctrl+,")
        for button in (self.stop_button, self.new_button, self.copy_button, self.settings_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)

        self.status = QLabel("")
        # No accessible name: a label's name is its text, which is what a screen reader should read here.
        self.status.setAccessibleDescription("The app's status")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress")
        self.progress.setAccessibleDescription("Shown while the model loads or answers")
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)

        for first, second in zip(
            (self.screen_button, self.window_button, self.clipboard_button, self.open_button, self.question,
             self.task, self.ask_button, self.speak_button, self.conversation, self.stop_button, self.new_button,
             self.copy_button),
            (self.window_button, self.clipboard_button, self.open_button, self.question, self.task,
             self.ask_button, self.speak_button, self.conversation, self.stop_button, self.new_button,
             self.copy_button, self.settings_button),
            strict=True,
        ):
            QWidget.setTabOrder(first, second)
        self.resize(900, 600)

    # --- Speech and status ----------------------------------------------------------------------------------------

    def _open_speaker(self) -> speech.Speaker:
        voice = speech.VoiceSettings(voice=self.settings.voice, rate=self.settings.rate, volume=self.settings.volume)
        try:
            return speech.open_speaker(voice, earcons=self.settings.earcons)
        except SeeingAssistantError as error:  # no audio device, no engine, or an unknown voice in the settings
            self.speech_problem = messages.SPEECH_OFF.format(reason=str(error))
            return speech.SilentSpeaker()

    def announce(self, text: str, is_error: bool = False, speak: bool = False) -> None:
        """Show ``text`` in the status line and announce it to screen readers (and speak it, if asked)."""
        self.status.setText(text)
        event = QAccessibleAnnouncementEvent(self.status, text)
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive if is_error
                            else QAccessible.AnnouncementPoliteness.Polite)
        QAccessible.updateAccessibility(event)
        self.status_changed.emit(text)
        if is_error:
            self.speaker.earcon("error")
        if (speak or is_error) and self.settings.speak_automatically:
            self.speaker.say(text)

    @property
    def is_busy(self) -> bool:
        """Whether an answer is being written."""
        return self.answering_id is not None

    # --- Actions from outside the window (hotkeys, tray, trigger) -------------------------------------------------

    def perform(self, action: str) -> None:
        """Carry out an action without taking the focus from the user's application (except ask and show)."""
        if action == "describe-screen":
            self._capture(self._grab_screen, quiet=True)
        elif action == "describe-window":
            self._capture(self._grab_window, quiet=True)
        elif action == "describe-clipboard":
            self.describe_clipboard()
        elif action == "ask":
            # Held: a spoken question (recorded until "ask-release"); tapped: the Question field.
            self.start_listening(quiet=True)
            if not self.microphone.is_recording:
                self._show_question_field()
        elif action == "ask-release":
            if self.microphone.is_recording and time.perf_counter() - self.microphone.started_at < asr.MIN_SECONDS:
                self._cancel_listening(announce=False)
                self._show_question_field()
            else:
                self.finish_listening()
        elif action == "repeat":
            if self.last_answer:
                self.speaker.say(self.last_answer)
            else:
                self.announce(messages.NOTHING_TO_REPEAT, is_error=True)
        elif action == "stop":
            self.stop()
        elif action == "show":
            self.bring_to_front()
        elif action == "quit":
            self.quit()

    def _show_question_field(self) -> None:
        self.bring_to_front()
        self.question.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- Spoken questions -----------------------------------------------------------------------------------------

    def start_listening(self, quiet: bool = False) -> None:
        """Record a question from the microphone until :meth:`finish_listening` (F2 held, or Speak question)."""
        if self.microphone.is_recording:
            return
        self._stop_current()
        try:
            self.microphone.start()
        except SeeingAssistantError as error:
            self.speak_button.setChecked(False)
            self.announce(str(error), is_error=True)
            return
        self.is_quiet_listening = quiet
        self.speak_button.setChecked(True)
        self.announce(messages.LISTENING)  # shown and announced, not spoken: the microphone would hear it

    def finish_listening(self) -> None:
        """Stop recording and transcribe; the transcript is then asked about the image (or a new screen grab)."""
        if not self.microphone.is_recording:
            return
        self.speak_button.setChecked(False)
        self.released_at = time.perf_counter()
        try:
            heard = self.microphone.stop()
            self.last_recording = (heard.duration_s, heard.level)
            audio = heard.checked()
        except SeeingAssistantError as error:
            self.announce(str(error), is_error=True)
            return
        self.request_id += 1
        self.worker.supersede(self.request_id)
        self.transcribe_id = self.request_id
        self.progress.show()
        self.announce(messages.TRANSCRIBING)
        self.worker.transcribe_requested.emit(self.request_id, audio)

    def _cancel_listening(self, announce: bool = True) -> None:
        self.microphone.cancel()
        self.speak_button.setChecked(False)
        if announce:
            self.announce(messages.LISTENING_CANCELLED)

    def _toggle_listening(self) -> None:
        if self.microphone.is_recording:
            self.finish_listening()
        else:
            self.start_listening()

    def _on_transcribed(self, request_id: int, text: str, seconds: float) -> None:
        if request_id != self.transcribe_id:
            return
        self.transcribe_id = None
        self.progress.hide()
        self.last_transcribe_wait_s = time.perf_counter() - self.released_at
        if not text.strip():
            self.announce(messages.NOTHING_UNDERSTOOD, is_error=True)
            return
        self.pending_echo = messages.YOU_ASKED.format(text=text)
        self.question.setText(text)
        if self.image is None:
            self._capture(self._grab_screen, quiet=self.is_quiet_listening)
        else:
            self.ask()

    def _on_transcribe_failed(self, request_id: int, text: str) -> None:
        if request_id != self.transcribe_id:
            return
        self.transcribe_id = None
        self.progress.hide()
        self.announce(text, is_error=True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """F2 held records a spoken question; Ctrl+V anywhere else in the window pastes an image to describe."""
        if event.key() == Qt.Key.Key_F2 and not event.isAutoRepeat():
            self.start_listening()
            return
        if event.matches(QKeySequence.StandardKey.Paste):
            self.describe_clipboard()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        """Releasing F2 ends the spoken question."""
        if event.key() == Qt.Key.Key_F2 and not event.isAutoRepeat():
            self.finish_listening()
            return
        super().keyReleaseEvent(event)

    def bring_to_front(self) -> None:
        """Show, raise and activate the window."""
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, False)
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # --- Inputs ---------------------------------------------------------------------------------------------------

    def describe_screen(self) -> None:
        """Grab the monitor the pointer is on (hiding this window first, unless turned off) and describe it."""
        self._capture(self._grab_screen)

    def describe_window(self) -> None:
        """Grab the active window of another application; the whole screen when the platform cannot tell."""
        self._capture(self._grab_window)

    def _capture(self, grab: Callable[[], IntakeImage | None], quiet: bool = False) -> None:
        """``quiet``: asked from outside the window (hotkey, tray, trigger), which keeps the user's focus."""
        self._stop_current()
        if self.settings.hide_window_when_capturing and self.isVisible():
            self.hide()
            QTimer.singleShot(CAPTURE_DELAY_MS, lambda: self._grab_and_show(grab, quiet))
        else:
            self._grab_and_show(grab, quiet, was_hidden=False)

    def _grab_and_show(self, grab: Callable[[], IntakeImage | None], quiet: bool = False,
                       was_hidden: bool = True) -> None:
        try:
            image = grab()
        except SeeingAssistantError as error:
            self._restore_window(quiet, was_hidden)
            self.announce(str(error), is_error=True)
            return
        self._restore_window(quiet, was_hidden)
        if image is not None:
            self.describe(image, task=tasks.SCREEN_TASK, quiet=quiet)

    def _restore_window(self, quiet: bool, was_hidden: bool) -> None:
        """Show the window again after a capture; from a hotkey, without taking the focus."""
        if not was_hidden or self.isVisible():
            return
        if quiet:
            self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
            self.show()
            self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, False)
        else:
            self.bring_to_front()

    def _grab_screen(self) -> IntakeImage:
        ratio = self.devicePixelRatioF()
        position = QCursor.pos()
        monitor = capture.monitor_at(int(position.x() * ratio), int(position.y() * ratio))
        return intake.from_pil(capture.ScreenGrabber().grab(monitor), source="the screen")

    def _grab_window(self) -> IntakeImage:
        rect = capture.active_window_rect(exclude={int(self.winId())})
        whole = capture.ScreenGrabber().grab(0)
        if rect is None:
            self.announce(messages.NO_WINDOW_FOUND, speak=True)
            return intake.from_pil(whole, source="the screen")
        return intake.from_pil(capture.crop_to(whole, rect, capture.desktop_origin()), source="the active window")

    def describe_clipboard(self) -> None:
        """Describe the clipboard's image, or the image file copied in a file manager."""
        image = self._image_from_mime(QGuiApplication.clipboard().mimeData(), source="the clipboard image")
        if image is not None:
            self.describe(image)

    def _image_from_mime(self, data: QMimeData | None, source: str) -> IntakeImage | None:
        """The image in clipboard or drop data (image bytes or a local file), or None after saying why not."""
        try:
            if data is not None and data.hasUrls():
                files = [url.toLocalFile() for url in data.urls() if url.isLocalFile()]
                if files:
                    return intake.load_path(files[0])
            if data is not None and data.hasImage():
                picture = QImage(data.imageData())
                if not picture.isNull():
                    return intake.from_pil(_pil_image(picture), source=source)
        except SeeingAssistantError as error:
            self.announce(str(error), is_error=True)
            return None
        self.announce(messages.CLIPBOARD_HAS_NO_IMAGE if source == "the clipboard image"
                      else messages.DROP_HAS_NO_FILE, is_error=True)
        return None

    def open_image(self) -> None:
        """Choose an image file in a dialog and describe it."""
        path, _ = QFileDialog.getOpenFileName(
            self, "Open image", os.path.expanduser("~"),
            "Images (*.png *.jpg *.jpeg *.gif *.bmp *.tif *.tiff *.webp);;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> None:
        """Describe the image file at ``path`` (a bad file gets one sentence)."""
        try:
            image = intake.load_path(path)
        except SeeingAssistantError as error:
            self.announce(str(error), is_error=True)
            return
        self.describe(image)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept files and images."""
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Describe the dropped image file."""
        event.acceptProposedAction()
        image = self._image_from_mime(event.mimeData(), source="the dropped image")
        if image is not None:
            self.describe(image)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+V in the Question field pastes an image as a new image to describe (text pastes as usual)."""
        if (watched is self.question and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.matches(QKeySequence.StandardKey.Paste)):
            data = QGuiApplication.clipboard().mimeData()
            if data is not None and (data.hasImage() or (data.hasUrls() and not data.hasText())):
                self.describe_clipboard()
                return True
        return super().eventFilter(watched, event)

    # --- Asking ---------------------------------------------------------------------------------------------------

    def _question(self, task: str | None = None) -> tuple[str, str]:
        """The prompt for the model, and what the conversation shows under "You:"."""
        typed = self.question.text().strip()
        if typed:
            return tasks.prompt_for(self.task.currentData(), typed), typed
        chosen = tasks.task_named(task) if task else tasks.TASKS[self.task.currentData()]
        return tasks.prompt_for(chosen.name, None), chosen.label

    def describe(self, image: IntakeImage, task: str | None = None, quiet: bool = False) -> None:
        """Start a new conversation about ``image``: the typed question, else ``task`` (default: the chosen one)."""
        self.image = image
        self._show_preview(image)
        self.conversation.clear()
        self.last_answer = ""
        prompt, shown = self._question(task)
        self._send(Request(0, prompt, image, self.settings.max_new_tokens), shown,
                   messages.DESCRIBING.format(source=image.source), quiet=quiet)

    def ask(self) -> None:
        """Ask the question about the current image (a follow-up keeps the conversation)."""
        if self.image is None:
            self.announce(messages.NO_IMAGE_YET, is_error=True)
            return
        prompt, shown = self._question()
        self._send(Request(0, prompt, None, self.settings.max_new_tokens), shown, messages.ASKING)

    def _send(self, request: Request, shown: str, status: str, quiet: bool = False) -> None:
        self._stop_current()
        echo, self.pending_echo = self.pending_echo, None
        if echo and self.settings.speak_automatically:
            self.speaker.say(echo)  # "You asked: ...", then the answer, in order
        self.request_id += 1
        request = Request(self.request_id, request.question, request.image, request.max_new_tokens)
        self.worker.supersede(self.request_id)
        self._append(("\n\n" if self.conversation.toPlainText() else "") + f"You:\n{shown}\n\nAssistant:\n")
        self.question.clear()
        self.answering_id = self.request_id
        self.is_quiet_answer = quiet
        self.answer_text = ""
        self.progress.show()
        self.announce(status)
        self.speaker.earcon("start")
        self.worker.answer_requested.emit(request)

    def _stop_current(self) -> None:
        """Cancel the answer in progress and silence the speech (a new request interrupts the previous one)."""
        if self.answering_id is not None:
            self.worker.supersede(self.request_id + 1)
            self._end_answer(messages.ANSWER_STOPPED, announce=False)
        self.speaker.stop()

    def stop(self) -> None:
        """Stop generation, speech, listening and transcribing at once (the Stop button and Escape)."""
        if self.microphone.is_recording:
            self._cancel_listening()
        if self.transcribe_id is not None:
            self.transcribe_id = None
            self.progress.hide()
            self.announce(messages.LISTENING_CANCELLED)
        was_busy = self.answering_id is not None
        self.request_id += 1
        self.worker.supersede(self.request_id)
        self.speaker.stop()
        if was_busy:
            self._end_answer(messages.ANSWER_STOPPED)

    def _end_answer(self, status: str, announce: bool = True) -> None:
        if self.answering_id is not None and self.answer_text:
            self.last_answer = self.answer_text
        self.answering_id = None
        self.progress.hide()
        if announce:
            self.announce(status)

    def _on_started(self, request_id: int) -> None:
        if request_id == self.answering_id and not self.is_quiet_answer:
            self.question.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_chunk(self, request_id: int, piece: str) -> None:
        if request_id != self.answering_id:
            return
        if not self.answer_text:
            piece = piece.lstrip()
        self.answer_text += piece
        self._append(piece)
        if self.settings.speak_automatically:
            self.speaker.feed(piece)

    def _on_finished(self, request_id: int, details: dict[str, Any]) -> None:
        if request_id != self.answering_id:
            return
        if not self.answer_text.strip():
            self._append(messages.EMPTY_ANSWER)
            self.answer_text = messages.EMPTY_ANSWER
            if self.settings.speak_automatically:
                self.speaker.feed(messages.EMPTY_ANSWER)
        if self.settings.speak_automatically:
            self.speaker.finish()
            self.speaker.earcon("done")
        self.last_answer = self.answer_text
        self._end_answer(messages.ANSWER_STOPPED if details.get("is_cancelled") else messages.ANSWER_DONE)

    def _on_failed(self, request_id: int, text: str) -> None:
        if request_id != self.answering_id:
            return
        self._append(text)
        self.answering_id = None
        self.progress.hide()
        self.announce(text, is_error=True)

    def _append(self, text: str) -> None:
        cursor = self.conversation.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)

    def _show_preview(self, image: IntakeImage) -> None:
        picture = image.image.copy()
        picture.thumbnail((PREVIEW_SIZE.width(), PREVIEW_SIZE.height()))
        data = picture.convert("RGB").tobytes("raw", "RGB")
        qimage = QImage(data, picture.width, picture.height, picture.width * 3, QImage.Format.Format_RGB888).copy()
        self.preview.setPixmap(QPixmap.fromImage(qimage))
        width, height = image.original_size
        alternative = f"Preview of {image.source}, {width} by {height} pixels"
        self.preview.setAccessibleDescription(alternative)
        self.preview.setToolTip(alternative)

    # --- Other actions --------------------------------------------------------------------------------------------

    def new_conversation(self) -> None:
        """Forget the image and the turns."""
        self.stop()
        self.image = None
        self.last_answer = ""
        self.conversation.clear()
        self.preview.clear()
        self.preview.setText("No image yet")
        self.preview.setAccessibleDescription("No image yet")
        self.announce(messages.NEW_CONVERSATION)
        self.screen_button.setFocus()

    def copy_answer(self) -> None:
        """Put the last answer on the clipboard."""
        text = self.answer_text if self.answering_id is not None else self.last_answer
        if not text:
            self.announce(messages.NOTHING_TO_COPY, is_error=True)
            return
        QGuiApplication.clipboard().setText(text)
        self.announce(messages.ANSWER_COPIED)

    def open_settings(self) -> None:
        """Show the Settings dialog; a changed model reloads in the background."""
        dialog = SettingsDialog(self.settings, self, voices=speech.list_voices(self.speaker))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.apply_settings(dialog.chosen())

    def apply_settings(self, chosen: settings.Settings) -> None:
        """Use and save ``chosen``: a new voice reopens the speaker, a new model reloads in the background."""
        reload = (chosen.model, chosen.device, chosen.dtype, chosen.quantize) != (
            self.settings.model, self.settings.device, self.settings.dtype, self.settings.quantize)
        voice_changed = (chosen.voice, chosen.rate, chosen.volume, chosen.earcons) != (
            self.settings.voice, self.settings.rate, self.settings.volume, self.settings.earcons)
        before, self.settings = self.settings, chosen
        if self.save_settings:
            try:
                settings.save(chosen)
            except OSError as error:
                self.announce(messages.SETTINGS_NOT_SAVED.format(reason=error.strerror or error), is_error=True)
                return
        if chosen.start_at_login != before.start_at_login:
            command = shutil.which("seeing-assistant") or f"{sys.executable} -m seeing_assistant"
            settings.set_start_at_login(chosen.start_at_login, command)
        if self.hotkeys is not None and chosen.hotkeys != before.hotkeys:
            self.hotkeys.stop()
            self.hotkeys = Hotkeys(chosen.hotkeys, self.action_requested.emit)
            for problem in self.hotkeys.start():
                self.announce(problem, is_error=True)
        if voice_changed and isinstance(self.speaker, speech.VoiceSpeaker):
            self.speaker.close()
            self.speaker = self._open_speaker()
        if reload:
            self.stop()
            self.worker.load_requested.emit(engine_settings(chosen))
        if chosen.asr_model != before.asr_model:
            self.worker.asr_load_requested.emit(chosen.asr_model)
        self.announce(messages.SETTINGS_SAVED)

    # --- Worker status --------------------------------------------------------------------------------------------

    def _on_loading(self, model: str) -> None:
        self.progress.show()
        self.announce(messages.MODEL_LOADING.format(model=model))

    def _on_loaded(self, text: str) -> None:
        if not self.is_busy:
            self.progress.hide()
        self.announce(text)

    def _on_load_failed(self, text: str) -> None:
        if not self.is_busy:
            self.progress.hide()
        self.announce(text, is_error=True)

    def quit(self) -> None:
        """Quit the app (the tray's Quit): closing the window then really ends it."""
        self.is_quitting = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop everything and end the worker thread before the window goes (also mid-answer).

        With a tray icon, closing the window only hides it: the app stays at hand until Quit.
        """
        if self.tray is not None and not self.is_quitting:
            self.hide()
            event.ignore()
            return
        self.hide()
        event.accept()
        if self.is_shut_down:
            return
        self.is_shut_down = True
        if self.hotkeys is not None:
            self.hotkeys.stop()
        if self.tray is not None:
            self.tray.hide()
        self.request_id += 1
        self.worker.supersede(self.request_id)
        self.speaker.close()
        self._thread.quit()
        self._thread.wait()
        self.shut_down.emit()


class SettingsDialog(QDialog):
    """Model, device, precision, 4-bit; voice, rate, volume, speak automatically; capture and answers."""

    def __init__(self, current: settings.Settings, parent: QWidget | None = None,
                 voices: list[speech.Voice] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.current = current
        form = QFormLayout(self)

        def named(widget: QWidget, name: str, description: str) -> Any:
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(description)
            widget.setToolTip(description)
            return widget

        def checkbox(label: str, description: str, checked: bool, name: str | None = None) -> QCheckBox:
            box: QCheckBox = named(QCheckBox(label), name or label.replace("&", ""), description)
            box.setChecked(checked)
            return box

        self.model = named(QLineEdit(current.model), "Model", "A downloaded model id or a model folder")
        self.asr_model = named(QLineEdit(current.asr_model), "Speech recognition model",
                               "A downloaded Whisper model id or folder, for spoken questions")
        self.device = named(QComboBox(), "Device", "Where the model runs")
        for device in ("auto", "cpu", "cuda", "mps"):
            self.device.addItem(device)
        if self.device.findText(current.device) < 0:
            self.device.addItem(current.device)
        self.device.setCurrentText(current.device)
        self.dtype = named(QComboBox(), "Precision", "auto: float16 on a GPU, float32 on the CPU")
        for dtype in devices.DTYPE_CHOICES:
            self.dtype.addItem(dtype)
        self.dtype.setCurrentText(current.dtype)
        self.four_bit = checkbox("&4-bit weights (NVIDIA GPUs)",
                                 "Load the model in 4 bits with bitsandbytes: far less GPU memory",
                                 current.quantize == "4bit", name="4-bit weights")
        self.voice = named(QComboBox(), "Voice",
                           "Choose a voice, or type a voice id, name or language code; Default is the engine's own")
        self.voice.setEditable(True)
        self.voice.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.voice.setCompleter(None)  # typing "es" must stay "es", not be completed to "Esperanto (eo)"
        self.voice.lineEdit().setAccessibleName("Voice")
        self.voice.addItem("Default", "")
        for voice in voices or []:
            label = f"{voice.name} ({', '.join(voice.languages)})" if voice.languages else voice.name
            self.voice.addItem(label, voice.id)
        known = self.voice.findData(current.voice or "")
        if known >= 0:
            self.voice.setCurrentIndex(known)
        else:
            self.voice.setEditText(current.voice or "")
        self.rate = named(QSpinBox(), "Speech rate", "Words per minute, 80 to 500; below 80 uses the voice's default")
        self.rate.setRange(0, 500)
        self.rate.setSpecialValueText("default")
        self.rate.setValue(current.rate or 0)
        self.volume = named(QDoubleSpinBox(), "Volume", "From 0 to 1")
        self.volume.setRange(0.0, 1.0)
        self.volume.setSingleStep(0.1)
        self.volume.setValue(current.volume)
        self.speak = checkbox("S&peak answers automatically", "Read each answer aloud while it is written",
                              current.speak_automatically)
        self.earcons = checkbox("Play &sounds at start and end", "Short sounds when an answer starts, ends or fails",
                                current.earcons)
        self.hide_window = checkbox("&Hide this window while capturing",
                                    "Keep the app's own window out of screen captures",
                                    current.hide_window_when_capturing)
        self.default_task = named(QComboBox(), "Default task", "What to do when no question is typed")
        for name in tasks.TASKS:
            self.default_task.addItem(tasks.TASKS[name].label, name)
        self.default_task.setCurrentIndex(max(0, self.default_task.findData(current.default_task)))
        self.max_tokens = named(QSpinBox(), "Maximum answer length", "In tokens (about three quarters of a word)")
        self.max_tokens.setRange(16, 4096)
        self.max_tokens.setValue(current.max_new_tokens)
        self.start_minimised = checkbox("Start minimised to the tra&y",
                                        "Start without showing the window, where the desktop has a tray",
                                        current.start_minimised)
        self.start_at_login = checkbox("Start at &login", "Start the app when you log in (an autostart entry on Linux)",
                                       current.start_at_login)
        self.chords: dict[str, QLineEdit] = {}
        for action, chord in {**DEFAULT_HOTKEYS, **current.hotkeys}.items():
            spoken = action.replace("-", " ")
            self.chords[action] = named(QLineEdit(chord), f"Hotkey: {spoken}",
                                        f"The key chord for {spoken}, such as Ctrl+Alt+Shift+S; empty for none")
        for label, widget in (("&Model:", self.model), ("Spee&ch recognition model:", self.asr_model),
                              ("&Device:", self.device), ("P&recision:", self.dtype),
                              ("", self.four_bit), ("&Voice:", self.voice), ("R&ate:", self.rate),
                              ("Vol&ume:", self.volume), ("", self.speak), ("", self.earcons),
                              ("", self.hide_window), ("Default &task:", self.default_task),
                              ("Ma&ximum answer length:", self.max_tokens), ("", self.start_minimised),
                              ("", self.start_at_login),
                              *((f"Hotkey, {name.replace('-', ' ')}:", edit) for name, edit in self.chords.items())):
            if label:
                form.addRow(label, widget)
            else:
                form.addRow(widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for button in buttons.buttons():
            button.setAccessibleName(button.text().replace("&", ""))
        form.addRow(buttons)

    def chosen_voice(self) -> str | None:
        """The id of the listed voice shown, else what was typed; None for the default voice."""
        text = self.voice.currentText().strip()
        listed = self.voice.findText(text, Qt.MatchFlag.MatchFixedString)  # a listed name, in any case
        return (self.voice.itemData(listed) if listed >= 0 else text) or None

    def chosen(self) -> settings.Settings:
        """The settings as the dialog shows them."""
        return settings.Settings(
            model=self.model.text().strip() or self.current.model,
            device=self.device.currentText(),
            dtype=self.dtype.currentText(),
            quantize="4bit" if self.four_bit.isChecked() else None,
            voice=self.chosen_voice(),
            rate=self.rate.value() if self.rate.value() >= 80 else None,
            volume=round(self.volume.value(), 2),
            speak_automatically=self.speak.isChecked(),
            earcons=self.earcons.isChecked(),
            hide_window_when_capturing=self.hide_window.isChecked(),
            default_task=self.default_task.currentData(),
            max_new_tokens=self.max_tokens.value(),
            asr_model=self.asr_model.text().strip() or self.current.asr_model,
            hotkeys={action: edit.text().strip() for action, edit in self.chords.items() if edit.text().strip()},
            start_minimised=self.start_minimised.isChecked(),
            start_at_login=self.start_at_login.isChecked(),
        )


def _pil_image(picture: QImage) -> Any:
    """A PIL copy of a QImage (RGBA)."""
    from PIL import Image

    rgba = picture.convertToFormat(QImage.Format.Format_RGBA8888)
    data = bytes(rgba.constBits())
    return Image.frombuffer("RGBA", (rgba.width(), rgba.height()), data, "raw", "RGBA", rgba.bytesPerLine(), 1).copy()


def _performer(window: MainWindow, action: str) -> Callable[[], None]:
    return lambda: window.perform(action)


def add_tray(window: MainWindow) -> QSystemTrayIcon | None:
    """A tray icon with the same actions and Quit, where the desktop has a tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(window.windowIcon() if not window.windowIcon().isNull() else
                           QApplication.style().standardIcon(QApplication.style().StandardPixmap.SP_ComputerIcon),
                           window)
    tray.setToolTip(messages.APP_NAME)
    menu = QMenu(window)
    for label, action in (("Describe screen", "describe-screen"), ("Describe window", "describe-window"),
                          ("Describe clipboard", "describe-clipboard"), ("Ask a question", "ask"),
                          ("Repeat the last answer", "repeat"), ("Stop", "stop"), ("Show the window", "show")):
        menu.addAction(label, _performer(window, action))
    menu.addSeparator()
    menu.addAction("Quit", window.quit)
    tray.setContextMenu(menu)
    tray.activated.connect(lambda reason: window.bring_to_front()
                           if reason == QSystemTrayIcon.ActivationReason.Trigger else None)
    tray.show()
    window.tray = tray
    QApplication.setQuitOnLastWindowClosed(False)
    return tray


def quit_on_signals(window: MainWindow) -> Callable[[], None]:
    """Quit cleanly on SIGINT (Ctrl+C in a terminal) and SIGTERM (logging out), as the tray's Quit does.

    Python runs its signal handlers only between bytecodes, never while Qt waits for events, so the signal is
    written to a socket that Qt watches. Returns a function that puts the previous handlers back.
    """
    read_end, write_end = socket.socketpair()
    for end in (read_end, write_end):
        end.setblocking(False)
    previous_fd = signal.set_wakeup_fd(write_end.fileno(), warn_on_full_buffer=False)
    caught = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda *_: None) for number in caught}
    notifier = QSocketNotifier(read_end.fileno(), QSocketNotifier.Type.Read, window)

    def received() -> None:
        with contextlib.suppress(OSError):  # another signal's byte may already have been read
            read_end.recv(64)
        for number in caught:  # a second Ctrl+C or SIGTERM ends the process at once, even mid-way through loading
            signal.signal(number, signal.SIG_DFL)
        window.quit()

    notifier.activated.connect(received)

    def restore() -> None:
        notifier.setEnabled(False)
        signal.set_wakeup_fd(previous_fd)
        for number, handler in previous.items():
            signal.signal(number, handler)
        read_end.close()
        write_end.close()

    return restore


def run(args: argparse.Namespace) -> int:
    """Open the app; ``--model``, ``--device``, ``--dtype`` and ``--quantize`` override the settings for this run.

    When the app is already running, it is asked to show its window instead, and this process ends.
    """
    from seeing_assistant import instance

    started = time.perf_counter()
    if not capture.has_display() and os.environ.get("QT_QPA_PLATFORM") not in ("offscreen", "minimal"):
        raise SeeingAssistantError(messages.NO_DISPLAY_FOR_APP)
    QApplication.setApplicationName(messages.APP_NAME)
    QApplication.setApplicationDisplayName(messages.APP_NAME)
    QApplication.setDesktopFileName("seeing-assistant")
    application = QApplication.instance() or QApplication(sys.argv[:1])
    if instance.send("show") == "ok":
        print(messages.ALREADY_RUNNING, flush=True)
        return 0
    chosen, problem = settings.load()
    overrides = {name: getattr(args, name) for name in ("model", "device", "dtype", "quantize")
                 if getattr(args, name, None) is not None}
    for name, value in overrides.items():
        setattr(chosen, name, value)
    window = MainWindow(chosen, settings_problem=problem, save_settings=True, use_hotkeys=True)
    window.shut_down.connect(application.quit, Qt.ConnectionType.QueuedConnection)
    restore_signals = quit_on_signals(window)
    server = instance.InstanceServer(lambda action: window.action_requested.emit(action))
    if not server.listen():
        QTimer.singleShot(0, lambda: window.announce(messages.INSTANCE_SOCKET_FAILED, is_error=True))
    add_tray(window)
    if not (chosen.start_minimised and window.tray is not None):
        window.show()
        window.screen_button.setFocus()
    if os.environ.get("SEEING_ASSISTANT_REPORT_STARTUP"):
        QTimer.singleShot(0, lambda: print(f"window shown after {time.perf_counter() - started:.3f} s "
                                           f"(torch imported: {'torch' in sys.modules})", flush=True))
    try:
        return int(application.exec())
    finally:
        server.close()
        window.quit()  # a no-op when the window already shut down; otherwise its threads stop here
        restore_signals()
        qt_exit.release()
