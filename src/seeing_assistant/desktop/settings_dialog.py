"""The Settings dialog: model, device and precision; voice, rate and volume; capture, answers, start-up and hotkeys."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from seeing_assistant import speech
from seeing_assistant.core import limits, messages, settings, tasks
from seeing_assistant.core.actions import DEFAULT_HOTKEYS
from seeing_assistant.desktop.widgets import TextField


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

        self.model = named(TextField(current.model), "Model", "A downloaded model id or a model folder")
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
        for label, widget in (("&Model:", self.model), ("Spee&ch recognition model:", self.asr_model),
                              ("&Device:", self.device), ("P&recision:", self.dtype),
                              ("", self.four_bit),
                              ("P&icture shown to the model:", self.image_fit), ("&Voice:", self.voice),
                              ("Speech r&ate:", self.rate),
                              ("Vol&ume:", self.volume), ("Answers are s&poken by:", self.spoken_by),
                              ("", self.earcons),
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
            rate=self.rate.value() if self.rate.value() in limits.RATE else None,
            volume=round(self.volume.value(), 2),
            spoken_by=self.spoken_by.currentData(),
            earcons=self.earcons.isChecked(),
            hide_window_when_capturing=self.hide_window.isChecked(),
            default_task=self.default_task.currentData(),
            max_new_tokens=self.max_tokens.value(),
            asr_model=self.asr_model.text().strip() or self.current.asr_model,
            hotkeys={action: edit.text().strip() for action, edit in self.chords.items() if edit.text().strip()},
            start_minimised=self.start_minimised.isChecked(),
            start_at_login=self.start_at_login.isChecked(),
            image_fit=self.image_fit.currentData(),
        )

