"""The engine's thread: loading, answering with streamed pieces, dropping superseded requests, load failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from seeing_assistant.core import intake
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.errors import ModelUnavailableError
from seeing_assistant.core.seams import EngineFactory, EngineLike
from seeing_assistant.core.session import Reply
from seeing_assistant.desktop.worker import EngineWorker, Request
from tests.support.fakes import ScriptedEngine, picture

NOT_HERE = "The model example/missing is not on this computer: run 'seeing-assistant download example/missing' once."


@pytest.fixture
def start_worker(qtbot: QtBot) -> Iterator[Callable[[EngineFactory], EngineWorker]]:
    threads: list[QThread] = []

    def start(factory: EngineFactory) -> EngineWorker:
        thread = QThread()
        worker = EngineWorker(factory)
        worker.moveToThread(thread)
        thread.finished.connect(worker.deleteLater)
        thread.start()
        threads.append(thread)
        return worker

    yield start
    for thread in threads:
        thread.quit()
        assert thread.wait(10000)


def load(qtbot: QtBot, worker: EngineWorker, sentence_signal: str = "loaded") -> str:
    with qtbot.waitSignal(getattr(worker, sentence_signal), timeout=10000) as blocker:
        worker.load_requested.emit(EngineSettings(model="example/missing"))
    return str(blocker.args[0])


def test_a_question_is_answered_in_pieces_and_then_as_a_whole(
        qtbot: QtBot, tmp_path: Path, start_worker: Callable[[EngineFactory], EngineWorker]) -> None:
    engine = ScriptedEngine()
    worker = start_worker(lambda _: engine)
    assert load(qtbot, worker).startswith("Model ready")
    started: list[int] = []
    pieces: list[str] = []
    worker.started.connect(started.append)
    worker.chunk.connect(lambda request_id, piece: pieces.append(piece))
    image = intake.load_path(picture(tmp_path))
    with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
        worker.answer_requested.emit(Request(worker.session.new_request(image), "What is on the screen?", image))
    request_id, reply = blocker.args
    assert request_id == 1 and started == [1]
    assert isinstance(reply, Reply) and reply.text == "A window with a button. It says OK."
    qtbot.waitUntil(lambda: "".join(pieces).strip() == reply.text)
    assert engine.asked[0][1] == "What is on the screen?"


def test_a_request_superseded_before_it_starts_is_dropped(
        qtbot: QtBot, tmp_path: Path, start_worker: Callable[[EngineFactory], EngineWorker]) -> None:
    engine = ScriptedEngine()
    worker = start_worker(lambda _: engine)
    load(qtbot, worker)
    started: list[int] = []
    worker.started.connect(started.append)
    image = intake.load_path(picture(tmp_path))
    first = worker.session.new_request(image)
    second = worker.session.new_request(image)
    assert first.token.is_cancelled and not second.token.is_cancelled
    with qtbot.waitSignal(worker.finished, timeout=10000) as blocker:
        worker.answer_requested.emit(Request(first, "Describe it.", image))
        worker.answer_requested.emit(Request(second, "Read the text.", image))
    assert blocker.args[0] == 2
    assert started == [2]
    assert [question for _, question, _ in engine.asked] == ["Read the text."]


def test_a_model_that_cannot_load_is_told_now_and_again_at_the_next_question(
        qtbot: QtBot, tmp_path: Path, start_worker: Callable[[EngineFactory], EngineWorker]) -> None:
    def missing(settings: EngineSettings) -> EngineLike:
        raise ModelUnavailableError(NOT_HERE)

    worker = start_worker(missing)
    assert load(qtbot, worker, "load_failed") == NOT_HERE
    image = intake.load_path(picture(tmp_path))
    with qtbot.waitSignal(worker.failed, timeout=10000) as blocker:
        worker.answer_requested.emit(Request(worker.session.new_request(image), "Describe it.", image))
    assert blocker.args == [1, NOT_HERE]
