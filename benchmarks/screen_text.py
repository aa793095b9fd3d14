"""Reading a screen's text: accuracy, OCR time, and the wait from Read screen text to the first sound.

    python -m benchmarks.screen_text [--json FILE] [--runs N] [--quick]

Screens at 1920x1080 with known text: a real Qt window (menu bar, a list, a form with fields, check boxes and
buttons, a paragraph and a status bar, rendered by Qt itself at 9-11 pt), four drawn ones from
``tests/support/screens.py`` (a document editor at 13-15 px, a dense 12 px terminal, a web-style page with small grey
text, a dark chat app), and a news page rendered by a real browser (Chromium, headless; skipped with a line saying
so when it is not installed). For each, median of ``--runs``:

- character error rate: for each known piece of text, the edits from it to the best-matching stretch of what was read,
  over all its characters (spaces collapsed: a voice does not say them); word recall; pieces lost (over half wrong);
  whether the pieces came out in reading order;
- OCR time: the recogniser on the screen (already loaded, as in the app, which loads it at start);
- first sound: in the real window, under a private Xvfb of that size with the screen shown full-screen, from the
  Read screen text action (the global chord's and the tray's way in) to the first sample of speech handed to the
  audio device (a private PulseAudio server; earcons off, so it is speech).

Targets on a 2-core CPU: CER at most 1% (UI, web, dark) and 2% (terminal), no piece lost, OCR at most 2 s, first
sound within 2.5 s. ``--quick``: the Qt window only, one run (the test suite runs it so that it cannot rot).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.audio_lab import PrivatePulse
from tests.support.qt_wait import finish, run_until
from tests.support.screens import SIZE, Screen, all_screens, browser, browser_page
from tests.support.xvfb import start_xvfb

TARGETS = {"cer": 0.01, "cer_terminal": 0.02, "ocr_s": 2.0, "first_sound_s": 2.5}


# --- The real Qt window ----------------------------------------------------------------------------------------------

def qt_window() -> Screen:
    """A real Qt main window at the screen's size, rendered by Qt (the QApplication must exist)."""
    from PIL import Image
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import (
        QCheckBox,
        QComboBox,
        QFormLayout,
        QHBoxLayout,
        QLabel,
        QLineEdit,
        QListWidget,
        QMainWindow,
        QPushButton,
        QVBoxLayout,
        QWidget,
    )

    window = QMainWindow()
    window.setFont(QFont("DejaVu Sans", 10))
    window.setStyleSheet("QMainWindow { background: #f4f4f4; }")
    screen = Screen("Qt window (controls 9-11 pt)", Image.new("RGB", SIZE))
    menus = ["File", "Edit", "View", "Tools", "Help"]
    for menu in menus:
        window.menuBar().addMenu(menu)
    screen.lines += [("top bar", menu) for menu in menus]
    central = QWidget()
    row = QHBoxLayout(central)
    folders = QListWidget()
    folders.setFont(QFont("DejaVu Sans", 9))
    folders.setFixedWidth(250)
    folder_names = ["Inbox (7)", "Flagged", "Sent", "Invoices 2026", "Receipts", "Newsletters", "Trash"]
    folders.addItems(folder_names)
    screen.lines += [("left column", name) for name in folder_names]
    row.addWidget(folders)
    column = QVBoxLayout()
    title = QLabel("Account details")
    title.setFont(QFont("DejaVu Sans", 11, QFont.Weight.Bold))
    column.addWidget(title)
    screen.lines.append(("main area", "Account details"))
    form = QFormLayout()
    fields = [("Full name:", "Maria Lopez"), ("Email:", "maria.lopez@example.org"), ("Phone:", "+44 20 7946 0958")]
    for label, value in fields:
        edit = QLineEdit(value)
        edit.setFixedWidth(360)
        form.addRow(label, edit)
        screen.lines += [("main area", label), ("main area", value)]
    department = QComboBox()
    department.addItem("Customer service")
    form.addRow("Department:", department)
    screen.lines += [("main area", "Department:"), ("main area", "Customer service")]
    column.addLayout(form)
    for text in ("Send me the weekly newsletter", "Remember this computer for 30 days"):
        column.addWidget(QCheckBox(text))
        screen.lines.append(("main area", text))
    note = QLabel("Changes to your email address take effect after you confirm the link we send to it.")
    note.setFont(QFont("DejaVu Sans", 11))
    column.addWidget(note)
    screen.lines.append(("main area", note.text()))
    buttons = QHBoxLayout()
    for text in ("Save changes", "Cancel"):
        buttons.addWidget(QPushButton(text))
        screen.lines.append(("main area", text))
    buttons.addStretch(1)
    column.addLayout(buttons)
    column.addStretch(1)
    row.addLayout(column, 1)
    window.setCentralWidget(central)
    window.statusBar().showMessage("Signed in as maria.lopez - last synchronised at 09:42")
    screen.lines.append(("bottom bar", "Signed in as maria.lopez - last synchronised at 09:42"))
    window.resize(*SIZE)
    rendered = window.grab().toImage()
    screen.image = _pil(rendered)
    window.deleteLater()
    return screen


def _pil(picture: Any) -> Any:
    from PIL import Image
    from PySide6.QtGui import QImage

    rgba = picture.convertToFormat(QImage.Format.Format_RGBA8888)
    return Image.frombuffer("RGBA", (rgba.width(), rgba.height()), bytes(rgba.constBits()), "raw", "RGBA",
                            rgba.bytesPerLine(), 1).convert("RGB")


# --- Scoring ---------------------------------------------------------------------------------------------------------

def _squeeze(text: str) -> str:
    return " ".join(text.split())


def substring_distance(piece: str, text: str, after: int = 0) -> tuple[int, int]:
    """Fewest edits from ``piece`` to any stretch of ``text`` (approximate matching), and where that stretch ends.

    Of equally good stretches, the first that ends at or after ``after`` (a name said twice is matched in order).
    """
    previous = [0] * (len(text) + 1)  # a match may start anywhere in text
    for index, char in enumerate(piece, 1):
        current = [index] + [0] * len(text)
        for position, other in enumerate(text, 1):
            current[position] = min(previous[position] + 1, current[position - 1] + 1,
                                    previous[position - 1] + (char != other))
        previous = current
    fewest = min(previous)
    ends = [end for end, distance in enumerate(previous) if distance == fewest]
    return fewest, next((end for end in ends if end >= after), ends[0])


def score(screen: Screen, read_lines: list[str]) -> dict[str, Any]:
    """Character error rate, word recall, pieces lost and reading order of what was read against the known text."""
    text = "\n".join(_squeeze(line) for line in read_lines)
    edits = characters = lost = 0
    positions: list[int] = []
    for _, piece in screen.lines:
        want = _squeeze(piece)
        distance, end = substring_distance(want, text, positions[-1] if positions else 0)
        edits += distance
        characters += len(want)
        lost += distance > len(want) / 2
        positions.append(end)
    read_words = text.split()
    wanted_words = [word for _, piece in screen.lines for word in piece.split()]
    found = sum(1 for word in wanted_words if word in read_words)
    in_order = sum(1 for first, second in itertools.pairwise(positions) if first <= second)
    return {"cer": edits / max(1, characters), "word_recall": found / max(1, len(wanted_words)),
            "pieces": len(screen.lines), "pieces_lost": lost,
            "in_reading_order": in_order / max(1, len(positions) - 1)}


# --- The app's path --------------------------------------------------------------------------------------------------

def first_sound(screen: Screen, runs: int, folder: Path) -> list[float]:
    """Seconds from the Read screen text action to the first sample of speech, in the real window."""
    from PySide6.QtCore import QCoreApplication, QEvent, Qt
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QLabel

    from seeing_assistant import speech
    from seeing_assistant.core import actions, settings
    from seeing_assistant.core.ocr import TextReader
    from seeing_assistant.desktop.main_window import MainWindow

    path = folder / "screen.png"
    screen.image.save(path)
    shown = QLabel()
    shown.setWindowFlag(Qt.WindowType.FramelessWindowHint)
    shown.setPixmap(QPixmap(str(path)))
    shown.setGeometry(0, 0, *SIZE)
    shown.show()
    output = speech.QtAudioOutput()
    speaker = speech.VoiceSpeaker(output)
    reader = TextReader()
    chosen = settings.Settings(spoken_by="app", earcons=False, hide_window_when_capturing=True)
    window = MainWindow(chosen, factory=lambda _: _no_model(), speaker=speaker, save_settings=False, reader=reader)
    window.setGeometry(1300, 700, 600, 350)
    window.show()
    seconds = []
    try:
        run_until(lambda: reader._engine is not None or reader._load_error is not None, 60)  # loaded at start
        _pump_for(1.0)
        for _ in range(runs):
            output.clear()
            pressed = time.perf_counter()
            window.perform(actions.READ_TEXT.id)
            try:
                run_until(lambda: output.audio_started_at is not None, 30)
            except RuntimeError:
                raise RuntimeError(f"nothing was heard: {window.status.text()} (the output: {output.failure}; "
                                   f"the speaker: {speaker.errors}; spoken by {window.voice.speaking_now}; "
                                   f"sentences {speaker.sentences})") from None
            heard = output.audio_started_at
            assert heard is not None
            seconds.append(heard - pressed)
            run_until(lambda: window.answers.answering_id is None, 60)
            window.stop()
            _pump_for(0.3)
    finally:
        window.close()
        shown.close()
        speaker.close()
        for made in (window, shown):  # deleted now, each screen's, not all left to the interpreter's exit
            made.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        QCoreApplication.processEvents()
    return seconds


def _no_model() -> Any:
    raise RuntimeError("no model is loaded for reading text")


def _pump_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    run_until(lambda: time.monotonic() >= end, seconds + 5)


def _start_xvfb() -> subprocess.Popen[bytes]:
    xvfb, display = start_xvfb(*SIZE)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    return xvfb


# --- The report ------------------------------------------------------------------------------------------------------

def measure(screen: Screen, reader: Any, runs: int, folder: Path) -> dict[str, Any]:
    """All the figures for one screen."""
    timings, scores = [], []
    for _ in range(runs):
        read = reader.read(screen.image)
        timings.append(read.seconds)
        scores.append(score(screen, [line.text for line in read.lines]))
    sounds = first_sound(screen, runs, folder)
    middle = scores[len(scores) // 2]
    return {"screen": screen.name, **middle, "ocr_s": statistics.median(timings), "ocr_s_all": timings,
            "first_sound_s": statistics.median(sounds), "first_sound_s_all": sounds}


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of the figures."""
    lines = ["| screen | CER | word recall | pieces lost | in reading order | OCR (s) | first sound (s) |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['screen']} | {row['cer']:.2%} | {row['word_recall']:.1%} | "
                     f"{row['pieces_lost']} of {row['pieces']} | {row['in_reading_order']:.0%} | "
                     f"{row['ocr_s']:.2f} | {row['first_sound_s']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run it all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="write the figures here")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the Qt window only, one run")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    xvfb = _start_xvfb()
    try:
        with tempfile.TemporaryDirectory() as scratch, PrivatePulse() as pulse:
            os.environ.update(pulse.env)
            from PySide6.QtWidgets import QApplication

            from seeing_assistant.core.ocr import TextReader

            _application = QApplication.instance() or QApplication([])
            reader = TextReader()
            reader.load()
            screens = [qt_window()] + ([] if args.quick else all_screens())
            if not args.quick and browser() is not None:
                screens.append(browser_page())
            elif not args.quick:
                print("web page in Chromium: skipped: Chromium is not installed (Debian: apt-get install chromium)")
            rows = [measure(screen, reader, runs, Path(scratch)) for screen in screens]
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
              "measured_at": time.strftime("%Y-%m-%d %H:%M"), "runs": runs, "targets": TARGETS, "screens": rows}
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    finish(main())
