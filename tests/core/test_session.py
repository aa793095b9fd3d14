"""The assistant's rules, shared by both front ends: blank images, empty answers, load failures, the last answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from seeing_assistant.core import intake, messages
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.errors import BadInputError, ModelUnavailableError, SeeingAssistantError
from seeing_assistant.core.seams import EngineLike
from seeing_assistant.core.session import AssistantSession
from tests.support.fakes import ScriptedEngine, ScriptedFactory, picture


def never_loads(settings: EngineSettings) -> EngineLike:
    raise AssertionError("no model may be loaded for this")


def test_a_blank_image_and_its_follow_ups_are_answered_without_loading_a_model() -> None:
    session = AssistantSession(never_loads, EngineSettings())
    session.begin(intake.from_pil(Image.new("RGB", (64, 64), "black")))
    pieces: list[str] = []
    reply = session.ask("What is this?", pieces.append)
    assert reply.is_blank and reply.text == "".join(pieces) and "black" in reply.text
    assert session.ask("Anything else?").text == reply.text and session.engine is None


def test_an_empty_answer_becomes_a_sentence_that_says_so(tmp_path: Path) -> None:
    session = AssistantSession(lambda _: ScriptedEngine(words=[" "]), EngineSettings())
    session.begin(intake.load_path(picture(tmp_path)))
    pieces: list[str] = []
    reply = session.ask("Describe it.", pieces.append)
    assert reply.text == messages.EMPTY_ANSWER and pieces[-1] == messages.EMPTY_ANSWER
    assert session.last_answer == messages.EMPTY_ANSWER


def test_the_model_loads_once_at_the_first_question_and_the_last_answer_is_kept(tmp_path: Path) -> None:
    factory = ScriptedFactory()
    made = factory.made
    session = AssistantSession(factory, EngineSettings())
    with pytest.raises(BadInputError, match="There is no image yet"):
        session.ask("What is this?")
    session.begin(intake.load_path(picture(tmp_path)))
    first = session.ask("What is this?")
    follow_up = session.ask("And then?")
    assert len(made) == 1 and first.text == follow_up.text == "A window with a button. It says OK."
    assert [turn[1] for turn in made[0].asked] == ["What is this?", "And then?"]
    assert session.last_answer == follow_up.text
    session.forget()
    assert session.last_answer == ""


def test_a_model_that_failed_to_load_is_told_to_every_later_question(tmp_path: Path) -> None:
    calls: list[str] = []

    def missing(settings: EngineSettings) -> EngineLike:
        calls.append(settings.model)
        raise ModelUnavailableError("The model is not on this computer.")

    session = AssistantSession(missing)
    with pytest.raises(ModelUnavailableError):
        session.load(EngineSettings(model="m"))
    session.begin(intake.load_path(picture(tmp_path)))
    for _ in range(2):
        with pytest.raises(SeeingAssistantError, match="not on this computer"):
            session.ask("What is this?")
    assert calls == ["m"]


def test_a_superseded_request_stops_streaming_and_is_reported_cancelled(tmp_path: Path) -> None:
    engine = ScriptedEngine(words=["word "] * 50)
    session = AssistantSession(lambda _: engine, EngineSettings())
    request = session.begin(intake.load_path(picture(tmp_path)))
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            session.new_request()  # a newer request came in (a new Describe, a question)

    reply = session.ask("Describe it.", on_text, request)
    assert reply.is_cancelled and len(pieces) == 3
    stopped = AssistantSession(lambda _: engine, EngineSettings())
    stopped.begin(intake.load_path(picture(tmp_path)))
    stopped.stop()  # Ctrl+C while the model was still loading: nothing is answered
    assert stopped.ask("Describe it.").is_cancelled


def test_an_answer_stopped_part_way_is_what_repeat_says_and_copy_copies(tmp_path: Path) -> None:
    session = AssistantSession(lambda _: ScriptedEngine(words=["One ", "two ", "three ", "four."]), EngineSettings())
    session.begin(intake.load_path(picture(tmp_path)))
    session.ask("Describe it.")
    seen: list[tuple[str, str]] = []

    def on_text(piece: str) -> None:
        seen.append((session.last_answer, session.latest_text))
        if len(seen) == 2:
            session.stop()  # Stop, after "One two "

    session.ask("Again?", on_text)
    assert seen == [("One two three four.", "One "), ("One two three four.", "One two ")]
    assert session.last_answer == session.latest_text == "One two "
