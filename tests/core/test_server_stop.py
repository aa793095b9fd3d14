"""Stop with a model server: each request's own token frees ``ask`` within 100 ms wherever the request is, and hangs up.

Before the request is sent, nothing is sent; while the server thinks (no byte yet) or streams, the connection is
closed, which the scripted server (:mod:`tests.support.scripted_server`) sees as the client hanging up; mid-answer
on the real ``transformers serve``, what was written is kept and the engine answers the next question.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from PIL import Image

from seeing_assistant.core import intake
from seeing_assistant.core.cancel import CancelToken
from seeing_assistant.core.engine_settings import EngineSettings, ServerSettings
from seeing_assistant.core.server_engine import ServerAnswer, ServerEngine
from tests.support.model_server import ModelServer
from tests.support.scripted_server import ScriptedServer, chunk

STOP_WITHIN_S = 0.1


@pytest.fixture
def picture() -> intake.IntakeImage:
    return intake.from_pil(Image.new("RGB", (640, 480), "white"))


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


def connect(url: str, max_new_tokens: int = 16) -> ServerEngine:
    return ServerEngine.load(EngineSettings(max_new_tokens=max_new_tokens, server=ServerSettings(url=url)))


def stop_when(ready: Callable[[], object], token: CancelToken, marks: dict[str, float]) -> threading.Thread:
    """Press Stop from another thread (as the window does) once ``ready()`` returns; the time of the press kept."""

    def press() -> None:
        ready()
        marks["stop"] = time.perf_counter()
        token.cancel()

    thread = threading.Thread(target=press, name="stop-press")
    thread.start()
    return thread


def timed_ask(engine: ServerEngine, picture: intake.IntakeImage, token: CancelToken,
              on_text: Callable[[str], None] | None = None) -> tuple[ServerAnswer, float]:
    answer = engine.ask(engine.start(picture), "Go on and on.", on_text=on_text, cancel=token)
    return answer, time.perf_counter()


def test_a_stop_before_the_request_is_sent_sends_nothing(scripted: ScriptedServer,
                                                         picture: intake.IntakeImage) -> None:
    scripted.script = [chunk("Two "), chunk("words."), chunk(finish="stop", usage=True)]
    engine = connect(scripted.url)
    try:
        token = CancelToken()
        token.cancel()  # Stop came during the OCR, before the engine was reached: it is not lost
        started = time.perf_counter()
        answer, returned = timed_ask(engine, picture, token)
        assert answer.is_cancelled and answer.text == ""
        assert returned - started < STOP_WITHIN_S
        # The next request reaches the server as the first: the stopped one never went.
        assert engine.ask(engine.start(picture), "Again?", cancel=CancelToken()).text == "Two words."
        assert scripted.chat_requests == 1
    finally:
        engine.close()


@pytest.mark.parametrize("stage", ["thinking", "streaming"])
def test_a_stop_while_the_server_thinks_or_streams_frees_ask_at_once_and_hangs_up(
        scripted: ScriptedServer, picture: intake.IntakeImage, stage: str) -> None:
    if stage == "thinking":  # the prefill of a big model on a busy GPU: not a byte yet
        scripted.before_headers_s = 30.0
        scripted.script = [chunk("Late."), chunk(finish="stop")]
    else:
        scripted.script = [chunk("One "), chunk("two "), 30.0, chunk(finish="stop")]
    engine = connect(scripted.url)
    heard: list[str] = []
    try:
        token, marks = CancelToken(), dict[str, float]()
        two_pieces = threading.Event()

        def on_text(piece: str) -> None:
            heard.append(piece)
            if len(heard) == 2:
                two_pieces.set()

        reached = (lambda: scripted.wait_for_requests(1)) if stage == "thinking" else (lambda: two_pieces.wait(10))
        pressing = stop_when(reached, token, marks)
        answer, returned = timed_ask(engine, picture, token, on_text=on_text)
        pressing.join()
        assert answer.is_cancelled
        assert returned - marks["stop"] < STOP_WITHIN_S, f"ask returned {returned - marks['stop']:.3f} s after Stop"
        assert answer.text == ("" if stage == "thinking" else "One two")
        assert scripted.hung_up.wait(5), "the connection stayed open after Stop: the server goes on generating"
    finally:
        engine.close()


def test_a_stop_mid_answer_on_the_real_server_keeps_what_was_written(llava_server: ModelServer,
                                                                     picture: intake.IntakeImage) -> None:
    engine = connect(llava_server.url, max_new_tokens=3000)  # about 20 s of tokens from the tiny model
    try:
        token, marks = CancelToken(), dict[str, float]()
        heard: list[str] = []
        third = threading.Event()

        def on_text(piece: str) -> None:
            heard.append(piece)
            if len(heard) == 3:
                third.set()

        pressing = stop_when(lambda: third.wait(30), token, marks)
        answer, returned = timed_ask(engine, picture, token, on_text=on_text)
        pressing.join()
        assert answer.is_cancelled
        assert returned - marks["stop"] < STOP_WITHIN_S, f"ask returned {returned - marks['stop']:.3f} s after Stop"
        assert answer.new_tokens < 300
        assert answer.text == "".join(heard).strip() and len(heard) >= 3
        # The engine is free for the next question straight away, with a token of its own.
        assert not engine.ask(engine.start(picture), "Again?", max_new_tokens=4, cancel=CancelToken()).is_cancelled
    finally:
        engine.close()


def test_a_stop_from_inside_on_text_ends_the_answer_there(scripted: ScriptedServer,
                                                          picture: intake.IntakeImage) -> None:
    scripted.script = [chunk("One "), chunk("two "), 30.0, chunk(finish="stop")]
    engine = connect(scripted.url)
    try:
        token = CancelToken()
        answer = engine.ask(engine.start(picture), "Q?", on_text=lambda piece: token.cancel(), cancel=token)
        assert answer.is_cancelled and answer.text == "One"
        assert scripted.hung_up.wait(5)
    finally:
        engine.close()


def test_closing_the_engine_mid_answer_frees_the_asking_thread(scripted: ScriptedServer,
                                                               picture: intake.IntakeImage) -> None:
    scripted.script = [chunk("One "), 30.0, chunk(finish="stop")]
    engine = connect(scripted.url)
    first = threading.Event()
    answers: list[ServerAnswer] = []
    asking = threading.Thread(target=lambda: answers.append(engine.ask(
        engine.start(picture), "Q?", on_text=lambda piece: first.set(), cancel=CancelToken())))
    asking.start()
    assert first.wait(10)
    engine.close()  # a reload while the old engine still answers
    asking.join(5)
    assert not asking.is_alive(), "ask() was left waiting on a closed engine"
    assert answers[0].is_cancelled and answers[0].text == "One"
    assert scripted.hung_up.wait(5)
