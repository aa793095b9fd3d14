"""First run without a model: offer the one that suits this computer, or a model server; download only on request.

The download runs as ``seeing-assistant download MODEL --progress`` in a process of its own, so the app itself
stays offline, Cancel ends it at once, and a download stopped part-way keeps every file it finished (the next one
fetches only the rest). The disk space is checked before anything is fetched. Progress is shown in a bar and
announced every 10 percent, at most every 5 seconds, so that speech does not drown in numbers.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QProcess, QProcessEnvironment, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from seeing_assistant.core import catalogue, launcher, messages
from seeing_assistant.desktop.widgets import name_labels
from seeing_assistant.qt_signals import emit

Announce = Callable[[str, bool], None]  # (sentence, is_error)
ANNOUNCE_EVERY_PERCENT = 10
ANNOUNCE_AT_MOST_EVERY_S = 5.0


class ModelOffer(QDialog):
    """Choose a model to download (this computer's suggested one first), or a server, or neither for now.

    Signals:
        downloaded(model_id): the model is on disk; the window switches to it.
        server_wanted(): the user chose to answer from a model server (the window opens Settings).
    """

    downloaded = Signal(str)
    server_wanted = Signal()
    recommended = Signal(str, str)  # (catalogue key, reason), from the thread that looks at the GPU

    def __init__(self, missing_model: str, announce: Announce, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(messages.MODEL_OFFER_TITLE)
        self.setAccessibleName(messages.MODEL_OFFER_TITLE)
        self.announce = announce
        self.process: QProcess | None = None
        self.last_told: tuple[int, float] = (-ANNOUNCE_EVERY_PERCENT, 0.0)
        self.chosen_id = ""
        form = QFormLayout(self)
        self.explanation = QLabel(messages.MODEL_OFFER_TEXT.format(model=missing_model, reason=""))
        self.explanation.setWordWrap(True)  # named by its text (no name set), as the window's status line is
        form.addRow(self.explanation)
        self.choice = QComboBox()
        self.choice.setAccessibleName("Model to download")
        self.choice.setAccessibleDescription("Each with its download size and what it needs")
        for entry in catalogue.CATALOGUE:
            self.choice.addItem(f"{entry.title} ({entry.download_bytes / 1e9:.1f} GB)", entry.model_id)
        form.addRow("&Model to download:", self.choice)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.progress.setRange(0, 100)
        self.progress.hide()
        form.addRow(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("How the download is going")  # named by its text, read as it is
        self.status.hide()
        form.addRow(self.status)
        buttons = QHBoxLayout()
        self.download_button = QPushButton("&Download")
        self.download_button.setAccessibleName("Download")
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self._download_or_cancel)
        self.server_button = QPushButton("Use a model &server")
        self.server_button.setAccessibleName("Use a model server")
        self.server_button.clicked.connect(self._use_server)
        self.later_button = QPushButton("&Not now")
        self.later_button.setAccessibleName("Not now")
        self.later_button.clicked.connect(self.reject)
        for button in (self.download_button, self.server_button, self.later_button):
            buttons.addWidget(button)
        form.addRow(buttons)
        name_labels(self)
        self.recommended.connect(self._on_recommended)
        self._missing = missing_model
        threading.Thread(target=self._recommend, name="model-for-this-computer", daemon=True).start()

    def _recommend(self) -> None:
        try:
            entry, reason = catalogue.for_this_computer()
        except Exception:  # noqa: BLE001 - no suggestion is no harm: the list is still there
            return
        with contextlib.suppress(RuntimeError):  # the dialog was closed meanwhile
            emit(self.recommended, entry.key, reason)

    def _on_recommended(self, key: str, reason: str) -> None:
        self.explanation.setText(messages.MODEL_OFFER_TEXT.format(model=self._missing, reason=reason))
        if self.process is None:
            self.choice.setCurrentIndex(max(0, self.choice.findData(catalogue.by_key(key).model_id)))

    # --- Downloading ---------------------------------------------------------------------------------------------

    def _download_or_cancel(self) -> None:
        if self.process is not None:
            self.cancel()
            return
        self.chosen_id = self.choice.currentData()
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.remove("HF_HUB_OFFLINE")  # the user said yes: this one process may reach the hub
        process.setProcessEnvironment(environment)
        program, *arguments = launcher.this_program()
        process.setProgram(program)
        process.setArguments([*arguments, "download", self.chosen_id, "--progress"])
        process.readyReadStandardOutput.connect(self._read_progress)
        process.finished.connect(self._finished)
        self.process = process
        self.progress.setValue(0)
        self.progress.show()
        self.choice.setEnabled(False)
        self.download_button.setText("&Cancel download")
        self.download_button.setAccessibleName("Cancel download")
        self._tell(messages.DOWNLOAD_STARTED.format(model=self.chosen_id), is_error=False)
        process.start()

    def cancel(self) -> None:
        """Stop the download now; the files it finished stay for the next try."""
        process, self.process = self.process, None
        if process is not None:
            process.finished.disconnect(self._finished)
            process.kill()
            process.waitForFinished(5000)
        self._reset()
        self._tell(messages.DOWNLOAD_STOPPED.format(model=self.chosen_id), is_error=False)

    def _read_progress(self) -> None:
        if self.process is not None:
            self._read_progress_of(self.process)

    def _read_progress_of(self, process: QProcess) -> None:
        """Show (and now and then announce) each progress line the download has written so far."""
        while process.canReadLine():
            line = bytes(process.readLine().data()).decode("utf-8", "replace").strip()
            parts = line.split()
            if len(parts) == 3 and parts[0] == "progress" and int(parts[2]) > 0:
                percent = int(int(parts[1]) * 100 / int(parts[2]))
                self.progress.setValue(percent)
                told_percent, told_at = self.last_told
                now = time.monotonic()
                if percent >= told_percent + ANNOUNCE_EVERY_PERCENT and now - told_at >= ANNOUNCE_AT_MOST_EVERY_S \
                        and percent < 100:
                    self.last_told = (percent - percent % ANNOUNCE_EVERY_PERCENT, now)
                    self.announce(messages.DOWNLOAD_PERCENT.format(percent=percent), False)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        self._read_progress_of(process)
        if code == 0 and status == QProcess.ExitStatus.NormalExit:
            self.progress.setValue(100)
            self._tell(messages.DOWNLOAD_FINISHED.format(model=self.chosen_id), is_error=False)
            emit(self.downloaded, self.chosen_id)
            self.accept()
            return
        errors = bytes(process.readAllStandardError().data()).decode("utf-8", "replace").strip().splitlines()
        sentence = next((line.split("error: ", 1)[1] for line in reversed(errors) if "error: " in line),
                        messages.DOWNLOAD_FAILED.format(model=self.chosen_id, reason=f"exit code {code}"))
        self._reset()
        self._tell(sentence, is_error=True)

    def _reset(self) -> None:
        self.choice.setEnabled(True)
        self.download_button.setText("&Download")
        self.download_button.setAccessibleName("Download")
        self.last_told = (-ANNOUNCE_EVERY_PERCENT, 0.0)

    def _tell(self, text: str, is_error: bool) -> None:
        self.status.setText(text)
        self.status.show()
        self.announce(text, is_error)

    def _use_server(self) -> None:
        if self.process is not None:
            self.cancel()
        emit(self.server_wanted)
        self.accept()

    def reject(self) -> None:
        """Not now (or Escape): a download under way is stopped first."""
        if self.process is not None:
            self.cancel()
        super().reject()

