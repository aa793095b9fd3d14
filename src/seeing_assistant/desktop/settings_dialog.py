"""The Settings dialog: where answers come from, device and precision; voice; capture, answers, start-up, hotkeys.

Answers come from a model on this computer or from a model server.

Test connection reaches the server on a thread of its own, so the dialog never freezes; what it found is shown under
the button and announced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from seeing_assistant import speech
from seeing_assistant.core import catalogue, limits, messages, servers, settings, tasks
from seeing_assistant.core.actions import DEFAULT_HOTKEYS
from seeing_assistant.core.errors import SeeingAssistantError, unexpected
from seeing_assistant.desktop.widgets import TextField, name_labels
from seeing_assistant.qt_signals import emit

Announce = Callable[[str, bool], None]  # (sentence, is_error)


class SettingsDialog(QDialog):
    """Model or server, device, precision, 4-bit; voice, rate, volume, who speaks; capture and answers."""

    tested = Signal(str, bool, object)  # (sentence, is_error, served models): from Test connection's thread

    def __init__(self, current: settings.Settings, parent: QWidget | None = None,
                 voices: list[speech.Voice] | None = None, announce: Announce | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.current = current
        self.announce = announce
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

        self.answers_from = named(QComboBox(), "Answers come from",
                            "A model on this computer (nothing leaves it), or a model server you choose (the "
                            "pictures are sent to it)")
        self.answers_from.addItem("A model on this computer", servers.LOCAL)
        self.answers_from.addItem("A model server", servers.SERVER)
        self.answers_from.setCurrentIndex(max(0, self.answers_from.findData(current.answers_from)))
        self.server_url = named(TextField(current.server_url), "Server address",
                                "The server's OpenAI-compatible address, such as http://gpu-box:8000/v1")
        self.server_model = named(QComboBox(), "Server model",
                                  "The served model to use; empty for the first it serves. Test connection lists them")
        self.server_model.setEditable(True)
        self.server_model.setLineEdit(TextField())
        self.server_model.lineEdit().setAccessibleName("Server model")
        self.server_model.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.server_model.setEditText(current.server_model)
        self.saved_key = servers.api_key(current.server_url) if current.server_url.strip() else None
        self.api_key = named(TextField(self.saved_key or ""), "API key",
                             "The key the server's administrator gave you, kept in the system keyring; empty for none")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.server_timeout = named(QSpinBox(), "Server timeout",
                                    "The longest the server may stay silent, in seconds")
        self.server_timeout.setRange(int(limits.SERVER_TIMEOUT_S.low), int(limits.SERVER_TIMEOUT_S.high))
        self.server_timeout.setValue(current.server_timeout_s)
        self.server_ca_file = named(TextField(current.server_ca_file), "Certificate authority file",
                                    "For a server with a private certificate: its certificate authority's PEM file")
        self.test_button = named(QPushButton("Test co&nnection"), "Test connection",
                                 "Reach the server: list its models, check that it sees pictures, time its first word")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel("")  # named by its text (no name set), as the window's status line is
        self.test_result.setAccessibleDescription("What Test connection found")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard
                                                 | Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_result.hide()  # shown with the first result: an empty line is not read out with the dialog
        self.tested.connect(self._on_tested)
        self.model = named(QComboBox(), "Model",
                           "Choose a model sized for this computer, or type a downloaded model id or a model folder")
        self.model.setEditable(True)
        self.model.setLineEdit(TextField())
        self.model.lineEdit().setAccessibleName("Model")
        self.model.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model.setCompleter(None)
        for entry in catalogue.CATALOGUE:
            self.model.addItem(f"{entry.model_id}: {entry.title}", entry.model_id)
        self.model.activated.connect(lambda index: self.model.setEditText(self.model.itemData(index)))
        self.model.setEditText(current.model)
        self.asr_model = named(TextField(current.asr_model), "Speech recognition model",
                               "A downloaded Whisper model id or folder, for spoken questions")
        self.device = named(QComboBox(), "Device", "Where the model runs")
        for device in limits.DEVICE_CHOICES:
            self.device.addItem(device)
        if self.device.findText(current.device) < 0:
            self.device.addItem(current.device)
        self.device.setCurrentText(current.device)
        self.dtype = named(QComboBox(), "Precision", "auto: float16 on a GPU, float32 on the CPU")
        for dtype in limits.DTYPE_CHOICES:
            self.dtype.addItem(dtype)
        self.dtype.setCurrentText(current.dtype)
        self.four_bit = checkbox("&4-bit weights (NVIDIA GPUs)",
                                 "Load the model in 4 bits with bitsandbytes: far less GPU memory",
                                 current.quantize == "4bit", name="4-bit weights")
        self.image_fit = named(QComboBox(), "Picture shown to the model",
                               "Whole: all of the picture on a square (the default, as the model was trained); "
                               "centre: only its middle square, as before")
        self.image_fit.addItem("Whole picture, padded to a square", "pad")
        self.image_fit.addItem("Centre only, cropped to a square", "crop")
        self.image_fit.setCurrentIndex(max(0, self.image_fit.findData(current.image_fit)))
        self.voice = named(QComboBox(), "Voice",
                           "Choose a voice, or type a voice id, name or language code; Default is the engine's own")
        self.voice.setEditable(True)
        self.voice.setLineEdit(TextField())
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
        low, high = int(limits.RATE.low), int(limits.RATE.high)
        self.rate = named(QSpinBox(), "Speech rate",
                          f"Words per minute, {low} to {high}; below {low} uses the voice's default")
        self.rate.setRange(0, high)
        self.rate.setSpecialValueText("default")
        self.rate.setValue(current.rate or 0)
        self.volume = named(QDoubleSpinBox(), "Volume", "From 0 to 1")
        self.volume.setRange(limits.VOLUME.low, limits.VOLUME.high)
        self.volume.setSingleStep(0.1)
        self.volume.setValue(current.volume)
        self.spoken_by = named(QComboBox(), "Answers are spoken by",
                               "Who reads each answer aloud while it is written; automatic follows the screen reader")
        for choice in limits.SPOKEN_BY_CHOICES:
            self.spoken_by.addItem(messages.SPOKEN_BY_LABELS[choice], choice)
        self.spoken_by.setCurrentIndex(max(0, self.spoken_by.findData(current.spoken_by)))
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
        self.max_tokens.setRange(int(limits.ANSWER_TOKENS.low), int(limits.ANSWER_TOKENS.high))
        self.max_tokens.setValue(current.max_new_tokens)
        self.microphone_limit = named(QSpinBox(), "Longest spoken question",
                                      "Listening stops by itself after this many seconds, and what was said is "
                                      "transcribed")
        self.microphone_limit.setRange(int(limits.MICROPHONE_LIMIT_S.low), int(limits.MICROPHONE_LIMIT_S.high))
        self.microphone_limit.setSuffix(" seconds")
        self.microphone_limit.setValue(current.microphone_limit_s)
        self.start_minimised = checkbox("Start minimised to the tra&y",
                                        "Start without showing the window, where the desktop has a tray",
                                        current.start_minimised)
        self.start_at_login = checkbox("Start at &login", "Start the app when you log in (an autostart entry on Linux)",
                                       current.start_at_login)
        self.chords: dict[str, QLineEdit] = {}
        for action, chord in {**DEFAULT_HOTKEYS, **current.hotkeys}.items():
            spoken = action.replace("-", " ")
            self.chords[action] = named(TextField(chord), f"Hotkey: {spoken}",
                                        f"The key chord for {spoken}, such as Ctrl+Alt+Shift+S; empty for none")
        for label, widget in (("Answers come &from:", self.answers_from), ("Server addr&ess:", self.server_url),
                              ("Server m&odel:", self.server_model), ("API &key:", self.api_key),
                              ("Server timeout:", self.server_timeout),
                              ("Certificate authority file:", self.server_ca_file), ("", self.test_button),
                              ("", self.test_result),
                              ("&Model:", self.model), ("Spee&ch recognition model:", self.asr_model),
                              ("&Device:", self.device), ("P&recision:", self.dtype),
                              ("", self.four_bit),
                              ("P&icture shown to the model:", self.image_fit), ("&Voice:", self.voice),
                              ("Speech r&ate:", self.rate),
                              ("Vol&ume:", self.volume), ("Answers are s&poken by:", self.spoken_by),
                              ("", self.earcons),
                              ("", self.hide_window), ("Default &task:", self.default_task),
                              ("Ma&ximum answer length:", self.max_tokens),
                              ("Longest spoken &question:", self.microphone_limit), ("", self.start_minimised),
                              ("", self.start_at_login),
                              *((f"Hotkey, {name.replace('-', ' ')}:", edit) for name, edit in self.chords.items())):
            if label:
                form.addRow(label, widget)
            else:
                form.addRow(widget)
        # Only the fields of where answers come from are shown (and tabbed through): a screen reader user is not walked
        # through six server fields to reach the voice, nor through the local model's to reach the server's.
        self._form = form
        self._server_fields: list[QWidget] = [self.server_url, self.server_model, self.api_key, self.server_timeout,
                                              self.server_ca_file, self.test_button]
        self._local_fields: list[QWidget] = [self.model, self.device, self.dtype, self.four_bit]
        self.answers_from.currentIndexChanged.connect(self._show_fields_for_answers)
        self._show_fields_for_answers()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for button in buttons.buttons():
            button.setAccessibleName(button.text().replace("&", ""))
        form.addRow(buttons)
        name_labels(self)

    def _show_fields_for_answers(self) -> None:
        """Show the server's fields or the local model's, as "Answers come from" says."""
        is_server = self.answers_from.currentData() == servers.SERVER
        for widget in self._server_fields:
            self._form.setRowVisible(widget, is_server)
        self._form.setRowVisible(self.test_result, is_server and bool(self.test_result.text()))
        for widget in self._local_fields:
            self._form.setRowVisible(widget, not is_server)

    def chosen_voice(self) -> str | None:
        """The id of the listed voice shown, else what was typed; None for the default voice."""
        text = self.voice.currentText().strip()
        listed = self.voice.findText(text, Qt.MatchFlag.MatchFixedString)  # a listed name, in any case
        return (self.voice.itemData(listed) if listed >= 0 else text) or None

    def chosen_model(self) -> str:
        """The model id or folder typed or chosen (a catalogue line stands for its id)."""
        text = self.model.currentText().strip()
        listed = self.model.findText(text)
        return (self.model.itemData(listed) if listed >= 0 else text) or self.current.model

    def chosen_server(self) -> servers.ServerSettings | None:
        """The server as the dialog shows it (whatever "Answers come from" says), or None without an address."""
        url = self.server_url.text().strip()
        if not url:
            return None
        return servers.ServerSettings(url=url, model=self.server_model.currentText().strip(),
                                      api_key=self.api_key.text() or None,
                                      read_timeout_s=self.server_timeout.value(),
                                      ca_file=self.server_ca_file.text().strip())

    def test_connection(self) -> None:
        """Reach the server in the background; the result is shown under the button and announced."""
        server = self.chosen_server()
        if server is None:
            self._on_tested(messages.SERVER_ADDRESS_MISSING, True, [])
            return
        try:
            server.base_url  # noqa: B018 - an address that is no address, or has the key in it: said, not raised
        except SeeingAssistantError as error:
            self._on_tested(str(error), True, [])
            return
        self.test_button.setEnabled(False)
        self.test_result.setText(messages.SERVER_TESTING.format(url=server.base_url))
        self.test_result.show()
        if self.announce is not None:
            self.announce(messages.SERVER_TESTING.format(url=server.base_url), False)

        def work() -> None:
            from seeing_assistant.core.engine_settings import EngineSettings
            from seeing_assistant.core.server_engine import ServerEngine

            try:
                engine = ServerEngine.load(EngineSettings(server=server))
            except SeeingAssistantError as error:
                result: tuple[str, bool, list[str]] = (str(error), True, [])
            except Exception as error:  # noqa: BLE001 - one sentence; the dialog stays usable
                result = (unexpected(error), True, [])
            else:
                check = engine.last_check
                engine.close()
                result = (messages.SERVER_TESTED.format(models=", ".join(engine.models),
                                                        summary=check.summary() if check else ""), False,
                          engine.models)
            with contextlib.suppress(RuntimeError):  # the dialog was closed meanwhile: nobody waits for it
                emit(self.tested, *result)

        threading.Thread(target=work, name="test-connection", daemon=True).start()

    def _on_tested(self, text: str, is_error: bool, models: list[str]) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setText(text)
        self.test_result.show()
        if models:
            typed = self.server_model.currentText()
            self.server_model.clear()
            self.server_model.addItems(models)
            self.server_model.setEditText(typed or models[0])
        if self.announce is not None:
            self.announce(text, is_error)

    def chosen_api_key(self) -> str:
        """The API key as typed (empty: none)."""
        return self.api_key.text()

    def chosen(self) -> settings.Settings:
        """The settings as the dialog shows them (what it does not show is kept as it was)."""
        return dataclasses.replace(
            self.current,
            answers_from=self.answers_from.currentData(),
            server_url=self.server_url.text().strip(),
            server_model=self.server_model.currentText().strip(),
            server_timeout_s=self.server_timeout.value(),
            server_ca_file=self.server_ca_file.text().strip(),
            model=self.chosen_model(),
            device=self.device.currentText(),
            dtype=self.dtype.currentText(),
            quantize="4bit" if self.four_bit.isChecked() else None,
            voice=self.chosen_voice(),
            rate=self.rate.value() if self.rate.value() in limits.RATE else None,
            volume=round(self.volume.value(), 2),
            spoken_by=self.spoken_by.currentData(),
            earcons=self.earcons.isChecked(),
            hide_window_when_capturing=self.hide_window.isChecked(),
            default_task=self.default_task.currentData(),
            max_new_tokens=self.max_tokens.value(),
            microphone_limit_s=self.microphone_limit.value(),
            asr_model=self.asr_model.text().strip() or self.current.asr_model,
            hotkeys={action: edit.text().strip() for action, edit in self.chords.items() if edit.text().strip()},
            start_minimised=self.start_minimised.isChecked(),
            start_at_login=self.start_at_login.isChecked(),
            image_fit=self.image_fit.currentData(),
        )

