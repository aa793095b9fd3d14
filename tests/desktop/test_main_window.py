"""The desktop app under a real X server (Xvfb): the window's logic with a scripted engine, and the tiny real model
end to end; real screenshots, a real clipboard (xclip), drop events, settings files."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from PySide6.QtCore import QMimeData, QPointF, QSize, Qt, QUrl
from PySide6.QtGui import QAccessible, QColor, QDragEnterEvent, QDropEvent, QFont, QGuiApplication, QImage
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from seeing_assistant import speech
from seeing_assistant.core import actions, grounding, messages, settings
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.factories import load_engine
from seeing_assistant.core.ocr import TextReader
from seeing_assistant.desktop.main_window import MainWindow, SettingsDialog
from tests.desktop.conftest import wait_done, wait_painted
from tests.support.audio_lab import PrivatePulse, Recorder
from tests.support.cli import ARTIFACTS, COMMAND, SHOW_IMAGE, launched_app
from tests.support.fakes import ScriptedEngine, ScriptedFactory, picture

NAMES = ["Describe screen", "Describe window", "Describe clipboard", "Read screen text", "Open image", "Question",
         "Ask", "Stop", "New conversation", "Copy answer", "Conversation", "Settings"]

pytestmark = pytest.mark.display


# --- Accessibility --------------------------------------------------------------------------------------------


def test_controls_carry_exactly_the_names_a_screen_reader_reads(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    names = {QAccessible.queryAccessibleInterface(widget).text(QAccessible.Text.Name)
             for widget in window.findChildren(QWidget) if widget.isVisible()}
    assert set(NAMES) <= names
    for widget in window.findChildren(QWidget):
        if widget.isVisible() and widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
            interface = QAccessible.queryAccessibleInterface(widget)
            assert interface.text(QAccessible.Text.Name), f"{type(widget).__name__} has no accessible name"
    # Mnemonics on every button, and a tab order that runs from the inputs to the answer to the actions.
    for button in (window.screen_button, window.window_button, window.clipboard_button, window.read_text_button,
                   window.open_button, window.ask_button, window.speak_button, window.stop_button, window.new_button,
                   window.copy_button, window.settings_button):
        assert "&" in button.text()
    # Each Alt+letter reaches exactly one control, in the window and in the Settings dialog.
    for parent in (window, SettingsDialog(window.settings, window)):
        labelled: list[QPushButton | QLabel | QCheckBox] = [
            *parent.findChildren(QPushButton), *parent.findChildren(QLabel), *parent.findChildren(QCheckBox)]
        texts = [widget.text() for widget in labelled if "&" in widget.text() and widget.window() is parent]
        letters = [text[text.index("&") + 1].lower() for text in texts]
        assert len(letters) == len(set(letters)), sorted(zip(letters, texts, strict=True))
    order: list[QWidget] = [window.screen_button]
    following: QWidget | None = window.screen_button.nextInFocusChain()
    while following is not None and following is not window.screen_button and len(order) < 40:
        if following.isVisible() and following.focusPolicy() & Qt.FocusPolicy.TabFocus:
            order.append(following)
        following = following.nextInFocusChain()
    assert order[:14] == [window.screen_button, window.window_button, window.clipboard_button,
                          window.read_text_button, window.open_button, window.question, window.task,
                          window.ask_button, window.speak_button, window.conversation, window.stop_button,
                          window.new_button, window.copy_button, window.settings_button]
    # On Linux a combo box's name is its value; Orca reads its label through the label's buddy relation.
    assert window.task.accessibleName() == "Task"


def test_large_text_and_high_contrast_keep_everything_readable(qtbot: QtBot) -> None:
    from PySide6.QtGui import QPalette

    application = QApplication.instance()
    assert isinstance(application, QApplication)
    font, palette = application.font(), application.palette()
    big = application.font()
    big.setPointSizeF(font.pointSizeF() * 2)
    contrast = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "black"), (QPalette.ColorRole.WindowText, "white"),
                         (QPalette.ColorRole.Base, "black"), (QPalette.ColorRole.Text, "yellow"),
                         (QPalette.ColorRole.Button, "black"), (QPalette.ColorRole.ButtonText, "white")):
        contrast.setColor(role, QColor(colour))
    application.setFont(big)
    application.setPalette(contrast)
    try:
        window = MainWindow(settings.Settings(), factory=lambda _: ScriptedEngine(), speaker=speech.SilentSpeaker(),
                            save_settings=False)
        qtbot.addWidget(window)
        with qtbot.waitExposed(window):
            window.show()
        screen = QGuiApplication.primaryScreen().availableGeometry()
        needed = window.minimumSizeHint()
        assert needed.width() <= screen.width() and needed.height() <= screen.height(), needed
        for button in window.findChildren(QPushButton):
            label = button.text().replace("&", "")
            assert button.width() >= button.fontMetrics().horizontalAdvance(label), label  # no clipped labels
        ARTIFACTS.mkdir(exist_ok=True)
        size = QSize(min(1280, needed.width() + 100), min(800, needed.height() + 100))
        window.resize(size)
        qtbot.waitUntil(lambda: window.size() == size, timeout=5000)
        shot = window.grab().toImage()
        shot.save(str(ARTIFACTS / "app-window-200-percent-high-contrast.png"))
        centre = shot.pixelColor(window.conversation.geometry().center())
        assert (centre.red(), centre.green(), centre.blue()) == (0, 0, 0)  # the theme's colours, not ours
        window.close()
    finally:
        application.setFont(font)
        application.setPalette(palette)


def test_every_status_is_shown_and_announced(make_window: Callable[..., MainWindow], tmp_path: Path,
                                             qtbot: QtBot) -> None:
    window = make_window()
    heard: list[str] = []
    window.status.changed.connect(lambda text, _is_error: heard.append(text))
    window.capturer.path(str(picture(tmp_path)))
    wait_done(qtbot, window)
    assert heard == ["Describing " + str(tmp_path / "shot.png") + ".", messages.ANSWER_DONE]
    assert window.status.text() == messages.ANSWER_DONE


# --- Asking and following up ----------------------------------------------------------------------------------


def test_a_quiet_describe_from_outside_leaves_the_next_button_press_as_usual(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    # A trigger or tray describe-clipboard keeps the user's focus; a later press of Describe screen in the window is
    # an ordinary one, and the focus stays on the button (moved to the Question field, Orca 48 read the field's name
    # and help over "Describing the screen.").
    window = make_window(ScriptedEngine(delay=0.02))
    QGuiApplication.clipboard().setImage(QImage(str(picture(tmp_path))))
    window.perform("describe-clipboard")
    wait_done(qtbot, window)
    window.activateWindow()
    window.screen_button.setFocus()
    qtbot.waitUntil(window.screen_button.hasFocus, timeout=5000)
    moves: list[object] = []
    QApplication.instance().focusChanged.connect(lambda _old, new: moves.append(new))  # type: ignore[union-attr]
    window.screen_button.click()
    wait_done(qtbot, window)
    assert window.screen_button.hasFocus() and moves == []


def test_an_answer_streams_into_the_conversation_and_a_follow_up_keeps_it(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    engine = ScriptedEngine(delay=0.02)
    window = make_window(engine)
    seen: list[str] = []
    window.conversation.textChanged.connect(lambda: seen.append(window.conversation.toPlainText()))
    window.capturer.path(str(picture(tmp_path)))
    wait_done(qtbot, window)
    first = "You:\nDescribe a photo or scene\n\nAssistant:\nA window with a button. It says OK."
    assert window.conversation.toPlainText() == first
    # It grew a sentence at a time (each insertion is an event a screen reader hears): the heading, then each
    # sentence as it was completed, not each of the 8 pieces.
    heading = "You:\nDescribe a photo or scene\n\nAssistant:\n"
    assert seen[-3:] == [heading, heading + "A window with a button. ", first]
    assert window.voice.speaker.sentences == ["A window with a button.", "It says OK."]

    qtbot.keyClicks(window.question, "What does the button say?")
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    wait_done(qtbot, window)
    image, question, earlier = engine.asked[-1]
    assert question == "What does the button say?" and len(earlier) == 1
    assert image is engine.asked[0][0]
    assert window.conversation.toPlainText() == (
        first + "\n\nYou:\nWhat does the button say?\n\nAssistant:\nA window with a button. It says OK.")

    QApplication.clipboard().clear()
    window.copy_button.click()
    assert QGuiApplication.clipboard().text() == "A window with a button. It says OK."
    window.new_button.click()
    assert window.conversation.toPlainText() == "" and window.image is None
    window.ask_button.click()
    assert window.status.text() == messages.NO_IMAGE_YET


def test_the_conversation_is_walked_turn_by_turn_with_h_and_shift_h(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    window = make_window()
    window.capturer.path(str(picture(tmp_path)))
    wait_done(qtbot, window)
    window.question.setText("What does the button say?")
    window.ask()
    wait_done(qtbot, window)
    conversation = window.conversation
    conversation.setFocus()
    cursor = conversation.textCursor()
    cursor.setPosition(0)
    conversation.setTextCursor(cursor)
    visited = []
    for key, modifier in [(Qt.Key.Key_H, Qt.KeyboardModifier.NoModifier)] * 4 + [
            (Qt.Key.Key_H, Qt.KeyboardModifier.ShiftModifier)] * 2:
        qtbot.keyClick(conversation, key, modifier)
        block = conversation.textCursor().block()
        visited.append((block.blockNumber(), block.text()))
    # The caret moves from heading to heading (the screen reader reads each line the caret lands on), and stays at
    # the last one when there is no further heading.
    assert [text for _, text in visited] == ["Assistant:", "You:", "Assistant:", "Assistant:", "You:", "Assistant:"]
    assert visited[2][0] == visited[3][0] and visited[1][0] == visited[4][0] and visited[0][0] == visited[5][0]
    assert conversation.toPlainText().count("Assistant:") == 2  # reading keys never type into the conversation


def test_stop_and_escape_end_the_answer_and_the_speech_at_once(make_window: Callable[..., MainWindow],
                                                                 tmp_path: Path, qtbot: QtBot) -> None:
    engine = ScriptedEngine(["word. "] * 500, delay=0.01)
    window = make_window(engine)
    window.capturer.path(str(picture(tmp_path)))
    qtbot.waitUntil(lambda: "word." in window.conversation.toPlainText(), timeout=10000)
    assert isinstance(window.voice.speaker, speech.SilentSpeaker)
    stops = window.voice.speaker.stops
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.answers.answering_id is None and window.status.text() == messages.ANSWER_STOPPED
    assert window.voice.speaker.stops == stops + 1
    words_then = window.conversation.toPlainText().count("word.")
    qtbot.waitUntil(lambda: len(engine.answered) == len(engine.asked) == 1, timeout=5000)  # the engine stopped
    QApplication.processEvents()  # any piece it sent before it stopped has been delivered
    assert window.conversation.toPlainText().count("word.") == words_then  # nothing more arrived
    assert words_then < 500


def test_ten_quick_presses_give_one_answer(make_window: Callable[..., MainWindow], tmp_path: Path,
                                           qtbot: QtBot) -> None:
    engine = ScriptedEngine(delay=0.05)
    window = make_window(engine)
    path = str(picture(tmp_path))
    for _ in range(10):
        window.capturer.path(path)
    wait_done(qtbot, window)
    qtbot.waitUntil(lambda: len(engine.answered) == len(engine.asked), timeout=5000)
    QApplication.processEvents()
    assert window.conversation.toPlainText().count("Assistant:") == 1
    assert window.conversation.toPlainText().endswith("It says OK.")
    # However many the engine's thread began before the next press came, each was stopped by it: one answer ran.
    assert [answer.is_cancelled for answer in engine.answered] == [True] * (len(engine.answered) - 1) + [False]


def test_a_question_after_a_stopped_describe_goes_to_the_picture_just_announced(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    # Describe B while a new model loads, Stop, type a question: the answer must be about B, which the preview
    # shows and the status announced, not about A; B never reached the model, so it goes with the question.
    engine = ScriptedEngine(delay=0.01)
    loading = threading.Event()
    loads: list[str] = []

    def factory(chosen: EngineSettings) -> ScriptedEngine:
        loads.append(chosen.model)
        if len(loads) > 1:
            assert loading.wait(30)
        return engine

    window = make_window(factory=factory)
    first, second = (picture(tmp_path, f"{name}.png", colour=colour)
                     for name, colour in (("a", (200, 30, 30)), ("b", (30, 200, 30))))
    window.capturer.path(str(first))
    wait_done(qtbot, window)
    window.apply_settings(dataclasses.replace(window.settings, model="example/another-model"))
    qtbot.waitUntil(lambda: len(loads) == 2, timeout=5000)
    window.capturer.path(str(second))
    assert window.status.text() == messages.DESCRIBING.format(source=window.image.source if window.image else "")
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.status.text() == messages.ANSWER_STOPPED
    qtbot.keyClicks(window.question, "What colour is it?")
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    loading.set()
    qtbot.waitUntil(lambda: len(engine.asked) == 2, timeout=10000)
    wait_done(qtbot, window)
    image, question, earlier = engine.asked[-1]
    assert question == "What colour is it?" and earlier == []
    assert image.image.getpixel((300, 190)) == (30, 200, 30), "the question went to the picture before"
    assert image is window.image


def test_closing_mid_answer_shuts_down_cleanly(qtbot: QtBot, tmp_path: Path) -> None:
    engine = ScriptedEngine(["word "] * 2000, delay=0.01)
    window = MainWindow(settings.Settings(), factory=lambda _: engine, speaker=speech.SilentSpeaker(),
                        save_settings=False)
    qtbot.addWidget(window)  # deleted after the test, while the application exists
    window.show()
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready"), timeout=10000)
    window.capturer.path(str(picture(tmp_path)))
    qtbot.waitUntil(lambda: "word" in window.conversation.toPlainText(), timeout=10000)
    started = time.monotonic()
    assert window.close()
    assert window.answers.engine_thread.isFinished()
    assert time.monotonic() - started < 2


def test_a_blank_image_is_called_blank_and_so_are_follow_ups(make_window: Callable[..., MainWindow],
                                                             tmp_path: Path, qtbot: QtBot) -> None:
    engine = ScriptedEngine()
    window = make_window(engine)
    window.capturer.path(str(picture(tmp_path, "black.png", (640, 480), (0, 0, 0)).with_name("black.png")))
    wait_done(qtbot, window)
    black = tmp_path / "curtain.png"
    Image.new("RGB", (640, 480), "black").save(black)
    window.capturer.path(str(black))
    wait_done(qtbot, window)
    window.question.setText("Is there a button?")
    window.ask_button.click()
    wait_done(qtbot, window)
    blank = "The image is blank: it is a single colour (black)."
    assert window.conversation.toPlainText().endswith(f"Assistant:\n{blank}\n\nYou:\nIs there a button?\n\n"
                                                      f"Assistant:\n{blank}")
    assert len(engine.asked) == 1  # only the first, non-blank picture went to the model


# --- Inputs: files, drops, the clipboard and the real screen --------------------------------------------------


def drop(window: MainWindow, data: QMimeData) -> None:
    enter = QDragEnterEvent(QPointF(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)


def test_a_dropped_image_is_described_and_a_corrupt_one_gets_one_sentence(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    engine = ScriptedEngine()
    window = make_window(engine)
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(picture(tmp_path).read_bytes()[:300])
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(corrupt))])
    drop(window, data)
    assert window.status.text() == messages.DAMAGED_IMAGE.format(source=corrupt)
    assert window.isVisible() and not engine.asked and window.conversation.toPlainText() == ""
    good = QMimeData()
    good.setUrls([QUrl.fromLocalFile(str(picture(tmp_path, "good.png", (300, 120))))])
    drop(window, good)
    wait_done(qtbot, window)
    assert engine.asked[0][0].original_size == (300, 120)
    assert "Preview of" in window.preview.accessibleDescription()


def test_describe_clipboard_reads_an_image_put_there_by_another_program(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    engine = ScriptedEngine()
    window = make_window(engine)
    window.clipboard_button.click()
    assert window.status.text() in (messages.CLIPBOARD_HAS_NO_IMAGE,)
    path = picture(tmp_path, "clip.png", (222, 111))
    xclip = subprocess.Popen(["xclip", "-quiet", "-selection", "clipboard", "-t", "image/png", "-i", str(path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        qtbot.waitUntil(lambda: QGuiApplication.clipboard().mimeData().hasImage(), timeout=10000)
        window.clipboard_button.click()
        wait_done(qtbot, window)
    finally:
        xclip.terminate()
        xclip.wait(10)
    assert engine.asked[0][0].original_size == (222, 111)
    assert engine.asked[0][0].source == "the clipboard image"


def test_describe_screen_takes_the_window_out_of_the_picture_without_moving_the_focus(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    engine = ScriptedEngine()
    window = make_window(engine, hide_window_when_capturing=True)
    window.move(0, 0)
    other = QWidget()  # another application's window, away from the app's own
    other.setWindowFlag(Qt.WindowType.FramelessWindowHint)
    other.setStyleSheet("background: rgb(250, 120, 0);")
    other.setGeometry(950, 620, 300, 160)
    qtbot.addWidget(other)
    with qtbot.waitExposed(other):
        other.show()
    wait_painted(qtbot, other, QColor(250, 120, 0))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    focus_moves: list[object] = []
    QGuiApplication.instance().focusWindowChanged.connect(focus_moves.append)  # type: ignore[union-attr]
    qtbot.mouseClick(window.screen_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(engine.asked) and window.answers.answering_id is None, timeout=10000)
    # Hiding the window had made the screen reader announce another window, then this one again.
    assert focus_moves == [] and window.isVisible() and window.isActiveWindow() and window.mask().isEmpty()
    image = engine.asked[0][0]
    screen = QGuiApplication.primaryScreen().geometry()
    assert image.original_size == (screen.width(), screen.height())
    assert window.conversation.toPlainText().startswith("You:\nDescribe the screen\n")
    # The other window is in the grab; the app's own window is not: where it stood is the bare root window (black),
    # but for the one pixel the window kept.
    assert image.image.getpixel((1100, 700)) == (250, 120, 0)
    assert image.image.getpixel((20, 20)) == (0, 0, 0)
    ARTIFACTS.mkdir(exist_ok=True)
    window.grab().save(str(ARTIFACTS / "app-window.png"))


def test_describe_window_cuts_out_the_other_applications_active_window(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    engine = ScriptedEngine()
    window = make_window(engine)
    window.move(0, 0)
    other = picture(tmp_path, "other.png", (300, 200), (250, 120, 0))
    shown = subprocess.Popen([sys.executable, str(SHOW_IMAGE), str(other), "800", "500"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert shown.stdout is not None
        line = shown.stdout.readline()
        assert line.startswith("shown "), line
        # No window manager under Xvfb: give the other application the input focus, as clicking on it would.
        subprocess.run(["xdotool", "windowfocus", "--sync", line.split()[1]], check=True, timeout=10)
        window.window_button.click()
        qtbot.waitUntil(lambda: bool(engine.asked) and window.answers.answering_id is None, timeout=10000)
    finally:
        shown.terminate()
        shown.wait(10)
    image = engine.asked[0][0]
    assert (image.source, image.original_size) == ("the active window", (300, 200))
    assert image.image.getpixel((150, 150)) == (250, 120, 0) and image.image.getpixel((20, 20)) == (20, 20, 220)


def test_describe_window_falls_back_to_the_screen_with_a_note(make_window: Callable[..., MainWindow],
                                                                 qtbot: QtBot) -> None:
    engine = ScriptedEngine()
    window = make_window(engine)
    heard: list[str] = []
    window.status.changed.connect(lambda text, _is_error: heard.append(text))
    window.window_button.click()
    qtbot.waitUntil(lambda: bool(engine.asked) and window.answers.answering_id is None, timeout=10000)
    # Xvfb has no window manager, so no other application's window is active.
    assert heard[0] == messages.NO_WINDOW_FOUND
    assert engine.asked[0][0].source == "the screen"


# --- Settings -------------------------------------------------------------------------------------------------


def test_settings_are_saved_in_the_config_folder_and_a_corrupt_file_is_replaced(config_dir: Path) -> None:
    assert settings.load() == (settings.Settings(), None)
    chosen = settings.Settings(model="/models/x", rate=200, spoken_by="none")
    path = settings.save(chosen)
    assert path == config_dir / "settings.json" and settings.load() == (chosen, None)
    path.write_text("{not json")
    loaded, problem = settings.load()
    assert loaded == settings.Settings()
    assert problem is not None and problem.startswith(f"The settings file {path} was damaged")
    assert (config_dir / "settings.json.broken").read_text() == "{not json"
    path.write_text(json.dumps({"rate": 5, "volume": 0.5, "max_new_tokens": True, "unknown": 1}))
    loaded, problem = settings.load()
    assert loaded == settings.Settings() and problem is not None and "wrong kind" in problem
    path.write_text(json.dumps({"rate": 5, "volume": 0.5}))
    loaded, problem = settings.load()
    assert (loaded.rate, loaded.volume) == (None, 0.5)
    assert problem == f"Some settings in {path} were out of range and are back to their defaults: rate."


def test_the_settings_dialog_saves_and_a_new_model_reloads(make_window: Callable[..., MainWindow],
                                                            qtbot: QtBot, config_dir: Path) -> None:
    factory = ScriptedFactory()
    loads = factory.loads
    window = make_window(factory=factory)
    window.save_settings = True
    dialog = SettingsDialog(window.settings, window)
    for widget in dialog.findChildren(QWidget):
        is_part = isinstance(widget.parent(), QAbstractSpinBox)  # a spin box's own text field
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus and widget.isVisibleTo(dialog) and not is_part:
            assert QAccessible.queryAccessibleInterface(widget).text(QAccessible.Text.Name), widget
    dialog.model.setEditText("/models/other")
    dialog.spoken_by.setCurrentIndex(dialog.spoken_by.findData("none"))
    chosen = dialog.chosen()
    assert chosen.model == "/models/other" and chosen.spoken_by == "none"
    window.apply_settings(chosen)
    assert settings.load() == (chosen, None)
    assert window.settings == chosen
    qtbot.waitUntil(lambda: loads == [settings.Settings().model, "/models/other"], timeout=10000)
    qtbot.waitUntil(lambda: window.status.text().startswith("Model ready: /models/other"), timeout=10000)


def test_the_voice_is_chosen_from_the_engines_list_or_typed(qtbot: QtBot) -> None:
    voices = speech.list_voices()  # eSpeak NG's own list, from the installed engine
    english = next(voice for voice in voices if "en-gb" in voice.languages)
    dialog = SettingsDialog(settings.Settings(), voices=voices)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.voice.count() == len(voices) + 1 and dialog.voice.currentText() == "Default"
    assert dialog.chosen().voice is None
    dialog.voice.setCurrentIndex(dialog.voice.findData(english.id))
    assert dialog.voice.currentText() == f"{english.name} ({', '.join(english.languages)})"  # what is read out
    assert dialog.chosen().voice == english.id
    for typed in ("es", "fr", "de"):  # language codes typed key by key stay as typed (no completion to a name)
        with qtbot.waitActive(dialog):  # completion, if any, only happens in the active window
            dialog.activateWindow()
        dialog.voice.setFocus()
        dialog.voice.lineEdit().selectAll()
        qtbot.keyClicks(dialog.voice.lineEdit(), typed)
        assert dialog.chosen().voice == typed, dialog.voice.currentText()
    dialog.voice.setEditText("default")  # a listed name typed in any case is that entry
    assert dialog.chosen().voice is None
    reopened = SettingsDialog(settings.Settings(voice=english.id), voices=voices)
    qtbot.addWidget(reopened)
    assert reopened.chosen().voice == english.id and reopened.voice.currentIndex() > 0
    unlisted = SettingsDialog(settings.Settings(voice="de"), voices=voices)
    qtbot.addWidget(unlisted)
    assert unlisted.voice.currentText() == "de" and unlisted.chosen().voice == "de"


# --- The real engine ------------------------------------------------------------------------------------------


def test_the_tiny_model_answers_and_follows_up_in_the_window(make_window: Callable[..., MainWindow],
                                                              tiny_model: Path, photo: Path, qtbot: QtBot) -> None:
    window = make_window(factory=load_engine, model=str(tiny_model), max_new_tokens=12)
    assert window.status.text().startswith(f"Model ready: {tiny_model} (cpu, float32)")
    window.capturer.path(str(photo))
    wait_done(qtbot, window, timeout=60000)
    text = window.conversation.toPlainText()
    answer = text.split("Assistant:\n", 1)[1]
    assert answer.strip() and window.status.text() == messages.ANSWER_DONE
    window.question.setText("And the colours?")
    window.ask_button.click()
    wait_done(qtbot, window, timeout=60000)
    assert window.conversation.toPlainText().count("Assistant:\n") == 2
    assert window.status.text() == messages.ANSWER_DONE


def test_a_missing_model_is_one_sentence_and_the_app_keeps_running(make_window: Callable[..., MainWindow],
                                                                   tmp_path: Path, qtbot: QtBot) -> None:
    window = make_window(factory=load_engine, model="someone/not-downloaded")
    expected = messages.MODEL_NOT_DOWNLOADED.format(model="someone/not-downloaded")
    assert window.status.text() == expected
    window.capturer.path(str(picture(tmp_path)))
    qtbot.waitUntil(lambda: window.answers.answering_id is None, timeout=10000)
    assert window.status.text() == expected
    assert window.conversation.toPlainText().endswith(expected)
    assert window.isVisible()


# --- Starting the app -----------------------------------------------------------------------------------------


def test_the_app_command_shows_the_window_at_once_without_torch(tiny_model: Path, tmp_path: Path,
                                                                config_dir: Path) -> None:
    env = dict(os.environ, SEEING_ASSISTANT_REPORT_STARTUP="1", QT_QPA_PLATFORM="xcb")
    process = subprocess.Popen([str(COMMAND), "app", "--model", str(tiny_model)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
    finally:
        process.terminate()
        rest, errors = process.communicate(timeout=30)
    assert line.startswith("window shown after "), (line, rest, errors)
    # torch is imported on the worker thread, never on the way to the window.
    imports = subprocess.run([sys.executable, "-c", "import sys, seeing_assistant.desktop.app, seeing_assistant.cli; "
                              "print('torch' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert imports.stdout.strip() == "False", imports.stderr
    assert not (config_dir / "settings.json").exists()  # --model applied to this run only


def test_without_a_display_the_app_says_so_in_one_line(env: dict[str, str]) -> None:
    bare = {name: value for name, value in env.items() if name not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                       "QT_QPA_PLATFORM")}
    done = subprocess.run([str(COMMAND)], env=bare, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr == f"seeing-assistant: error: {messages.NO_DISPLAY_FOR_APP}\n"


@pytest.mark.display
@pytest.mark.audio
@pytest.mark.parametrize("how", ["trigger quit", "SIGTERM", "SIGINT"])
def test_the_app_quits_cleanly_mid_answer(how: str, tiny_model: Path, tmp_path: Path, config_dir: Path,
                                          audio_server: PrivatePulse) -> None:
    # The whole process, as a user runs it: its threads stop, its windows are deleted before Python exits, and it
    # ends with status 0 and nothing on stderr (PySide crashed at exit in most runs while a window was left).
    config_dir.mkdir()
    (config_dir / "settings.json").write_text(json.dumps({"max_new_tokens": 3000, "earcons": False,
                                                          "hide_window_when_capturing": False}))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
    with launched_app(tiny_model, env) as process:

        def trigger(action: str) -> None:
            done = subprocess.run([str(COMMAND), "trigger", action], env=env, capture_output=True, text=True,
                                  timeout=60)
            assert (done.returncode, done.stderr) == (0, ""), done

        with Recorder(audio_server) as recorder:
            asked = time.monotonic()
            trigger("describe-screen")
            # Mid-answer: the 3000-token answer is being spoken (no earcons, so the first sound is the answer).
            assert recorder.first_loud(asked, timeout=60) is not None, "the answer was not heard"
        assert process.poll() is None
        if how == "trigger quit":
            trigger("quit")
        else:
            process.send_signal(getattr(signal, how))
        rest, errors = process.communicate(timeout=30)
    assert (process.returncode, errors) == (0, ""), rest
    assert not (runtime / "seeing-assistant.sock").exists()  # the socket went with the app


# --- Read screen text ---------------------------------------------------------------------------------------------


def test_read_screen_text_reads_another_window_in_reading_order_without_the_model_and_grounds_a_question(
        make_window: Callable[..., MainWindow], qtbot: QtBot) -> None:
    engine = ScriptedEngine()
    window = make_window(engine, reader=TextReader())
    window.move(0, 0)
    other = QWidget()  # another application's window: real Qt controls at 10 pt
    other.setWindowFlag(Qt.WindowType.FramelessWindowHint)
    other.setStyleSheet("background: white; color: black;")
    layout = QVBoxLayout(other)
    lines = ["Invoice 2231 from Harbour Street Books", "Total due: 48.50 EUR", "Pay before 30 April 2026"]
    for line in lines:
        label = QLabel(line)
        label.setFont(QFont("DejaVu Sans", 10))
        layout.addWidget(label)
    other.setGeometry(900, 500, 360, 140)
    qtbot.addWidget(other)
    with qtbot.waitExposed(other):
        other.show()
    wait_painted(qtbot, other)
    window.perform(actions.READ_TEXT.id)  # the global chord's, the tray's and `trigger read-text`'s way in
    wait_done(qtbot, window)
    shown = window.conversation.toPlainText()
    assert shown.startswith("You:\nRead the text of the screen\n\nAssistant:\n"), shown
    positions = [shown.find(line) for line in lines]
    assert -1 not in positions and positions == sorted(positions), shown
    assert engine.asked == [] and window.status.text() == messages.ANSWER_DONE
    assert window.answers.last_answer.endswith(lines[-1])
    # A follow-up goes to the model, with the screen's text (read once) before the question.
    window.question.setText("What is the total?")
    window.ask()
    wait_done(qtbot, window)
    question = engine.asked[0][1]
    assert question.startswith(grounding.HEADER) and question.endswith("\n\nWhat is the total?")
    assert "Total due: 48.50 EUR" in question


def test_save_picture_keeps_the_picture_the_model_was_given_and_says_where(
        make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: QtBot) -> None:
    window = make_window(ScriptedEngine(delay=0.01))
    told: list[tuple[str, bool]] = []
    window.status.changed.connect(lambda text, is_error: told.append((text, is_error)))
    window.save_picture(str(tmp_path / "nothing.png"))
    assert told[-1] == (messages.NO_PICTURE_TO_SAVE, True) and not (tmp_path / "nothing.png").exists()
    window.capturer.path(str(picture(tmp_path)))
    wait_done(qtbot, window)
    saved = tmp_path / "saved.png"
    window.save_picture(str(saved))
    assert told[-1] == (messages.PICTURE_SAVED.format(path=saved), False)
    image = window.image
    assert image is not None
    with Image.open(saved) as kept:
        assert kept.size == image.image.size
        assert ImageChops.difference(kept.convert("RGB"), image.image).getbbox() is None
    window.save_picture(str(tmp_path / "picture.jpg"))  # PNG only: one sentence, nothing written
    assert told[-1][1] and told[-1][0].startswith("The picture is saved as PNG")
    assert not (tmp_path / "picture.jpg").exists()
    window.save_picture(str(tmp_path / "missing" / "picture.png"))  # a folder that is not there
    assert told[-1][1] and told[-1][0].startswith("The picture could not be saved")
    assert window.save_button.accessibleName() == "Save picture" and "&" in window.save_button.text()
