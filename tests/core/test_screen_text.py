"""The picture's text in the session: read once per conversation, read aloud without the model, and put before
the first question about a screen. The recogniser here is a stand-in that hands back fixed lines (the real one is
tested in test_ocr.py); what is tested is the session's rules around it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from seeing_assistant.core import grounding, intake, messages
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.ocr import OcrUnavailableError, ScreenText, TextBlock, TextLine
from seeing_assistant.core.session import AssistantSession
from tests.support.fakes import ScriptedEngine


def screen_text(*blocks: tuple[str, list[str]]) -> ScreenText:
    made, top = [], 0
    for region, lines in blocks:
        block = TextBlock(region)
        for line in lines:
            block.lines.append(TextLine(line, (0, top, 100, top + 20)))
            top += 30
        made.append(block)
    return ScreenText(made, (1920, 1080))


MENU_AND_PAGE = screen_text(("top bar", ["File Edit View"]), ("main area", ["Invoice 2231", "Total due: 48.50 EUR"]))


class StandInReader:
    """Hands back fixed text, block by block, and counts its reads."""

    def __init__(self, text: ScreenText = MENU_AND_PAGE, error: Exception | None = None) -> None:
        self.text, self.error, self.reads = text, error, 0

    def load(self) -> None:
        pass

    def read(self, picture: Any, on_block: Callable[[TextBlock, TextBlock | None], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> ScreenText:
        self.reads += 1
        if self.error is not None:
            raise self.error
        blocks = []
        for block, previous in self.text.with_previous():
            if should_stop is not None and should_stop():
                break
            if on_block is not None:
                on_block(block, previous)
            blocks.append(block)
        return ScreenText(blocks, self.text.size)


def a_screen(source: str = messages.THE_SCREEN) -> intake.IntakeImage:
    image = Image.new("RGB", (320, 200), "white")
    image.paste((20, 20, 200), (10, 10, 100, 100))
    return intake.from_pil(image, source=source)


def test_read_text_streams_the_blocks_in_reading_order_without_a_model_and_reads_once() -> None:
    reader = StandInReader()
    session = AssistantSession(lambda _: pytest.fail("no model for reading text"), EngineSettings(), reader=reader)
    session.begin(a_screen())
    pieces: list[str] = []
    reply = session.read_text(pieces.append)
    assert pieces == ["Top bar:\nFile Edit View\n\n", "Main area:\nInvoice 2231\nTotal due: 48.50 EUR\n\n"]
    assert reply.text == "Top bar:\nFile Edit View\n\nMain area:\nInvoice 2231\nTotal due: 48.50 EUR"
    assert session.last_answer == reply.text
    assert session.read_text().text == reply.text and reader.reads == 1  # once per conversation
    session.begin(a_screen())
    session.read_text()
    assert reader.reads == 2


def test_a_picture_with_no_text_says_so_and_a_blank_one_is_blank() -> None:
    nothing = StandInReader(ScreenText([], (10, 10)))
    session = AssistantSession(lambda _: ScriptedEngine(), EngineSettings(), reader=nothing)
    session.begin(a_screen())
    assert session.read_text().text == "No text was found in the screen."
    session.begin(intake.from_pil(Image.new("RGB", (64, 64), "white")))
    assert "blank" in session.read_text().text


def test_a_stopped_read_is_not_kept_and_reads_again() -> None:
    reader = StandInReader()
    session = AssistantSession(lambda _: ScriptedEngine(), EngineSettings(), reader=reader)
    first = session.begin(a_screen())

    def stop_after_first(piece: str) -> None:
        session.new_request()

    reply = session.read_text(stop_after_first, first)
    assert reply.is_cancelled and reply.text == "Top bar:\nFile Edit View"
    assert session.read_text(request=session.current).text.endswith("48.50 EUR") and reader.reads == 2


def test_the_first_question_about_a_screen_carries_its_text_before_the_question() -> None:
    engine = ScriptedEngine()
    session = AssistantSession(lambda _: engine, EngineSettings(), reader=StandInReader())
    session.begin(a_screen())
    session.read_text()
    session.ask("What is the total?")
    session.ask("And the invoice number?")
    first, follow_up = engine.asked[0][1], engine.asked[1][1]
    assert first == (f"{grounding.HEADER}\n<screen_text>\nFile Edit View\nInvoice 2231\nTotal due: 48.50 EUR\n"
                     "</screen_text>\n\nWhat is the total?")
    assert follow_up == "And the invoice number?"  # the text is already in the conversation


def test_a_photo_with_little_text_is_asked_about_without_it_and_a_page_of_text_with_it() -> None:
    engine = ScriptedEngine()
    session = AssistantSession(lambda _: engine, EngineSettings(), reader=StandInReader())
    session.begin(a_screen(source="photo.jpg"))
    session.ask("Describe it.")
    assert engine.asked[-1][1] == "Describe it."
    page = screen_text(("main area", [f"Line {number} of the letter" for number in range(8)]))
    session = AssistantSession(lambda _: engine, EngineSettings(), reader=StandInReader(page))
    session.begin(a_screen(source="letter.png"))
    session.ask("Describe it.")
    assert engine.asked[-1][1].startswith(grounding.HEADER) and "Line 7 of the letter" in engine.asked[-1][1]


def test_a_failing_recogniser_is_one_note_and_the_model_answers_from_the_picture_alone() -> None:
    engine = ScriptedEngine()
    broken = StandInReader(error=OcrUnavailableError("The text of the picture cannot be read: it broke."))
    session = AssistantSession(lambda _: engine, EngineSettings(), reader=broken)
    session.begin(a_screen())
    reply = session.ask("What is shown?")
    assert engine.asked[-1][1] == "What is shown?" and reply.text
    assert reply.notes == ("The model answers without the screen's text: The text of the picture cannot be read: "
                           "it broke.",)
    session.begin(a_screen())
    assert session.ask("What is shown?").notes == ()  # told once


def test_long_text_is_cut_to_the_budget_keeping_the_lines_the_question_is_about() -> None:
    lines = [f"Row {number}: nothing much here at all" for number in range(60)] + ["Balance: 1,204.17 on account 88"]
    text = screen_text(("left column", lines[:30]), ("main area", lines[30:]))
    prompt = grounding.grounded("What is the balance?", text, budget_tokens=40)
    kept = prompt.split("\n")[2:-3]
    assert "Balance: 1,204.17 on account 88" in kept
    assert sum(len(line) + 1 for line in kept) <= 40 * grounding.CHARACTERS_PER_TOKEN
    assert kept[:-1] == [line for line in lines[30:60] if line in kept]  # the main area next, in reading order
    assert grounding.grounded("Anything?", text, budget_tokens=0) == "Anything?"


def test_the_active_windows_text_is_kept_first_then_the_lines_the_question_is_about() -> None:
    # A screen: a long page in the main area, a chat window (the active one, where the chord was pressed) to its right.
    page = TextBlock("main area", [TextLine(f"Page line {row} with some other words", (0, 40 * row, 900, 40 * row + 20))
                                   for row in range(40)])
    chat = TextBlock("right column", [TextLine(f"Chat message {row} from Ana", (1000, 40 * row, 1800, 40 * row + 20))
                                      for row in range(10)])
    balance = TextBlock("bottom bar", [TextLine("Balance: 1,204.17", (0, 1050, 300, 1070))])
    text = ScreenText([page, chat, balance], (1920, 1080))
    chat_window = (980, 0, 1900, 420)
    prompt = grounding.grounded("What is the balance?", text, budget_tokens=120, focus=chat_window)
    kept = prompt.split("\n")[2:-3]
    assert sum(len(line) + 1 for line in kept) <= 120 * grounding.CHARACTERS_PER_TOKEN
    assert [line for line in kept if line.startswith("Chat")] == [line.text for line in chat.lines]  # all of it
    assert "Balance: 1,204.17" in kept  # then the question's line, then as much of the page as fits
    assert 0 < sum(line.startswith("Page") for line in kept) < 40
    assert kept == [line.text for line in text.lines if line.text in kept]  # in reading order
    # Without an active window, the question's line and the main area come first, and the chat is cut.
    unfocused = grounding.grounded("What is the balance?", text, budget_tokens=120).split("\n")[2:-3]
    assert "Balance: 1,204.17" in unfocused and not any(line.startswith("Chat") for line in unfocused)


def test_a_screen_grab_carries_its_active_window_box_scaled_with_the_picture() -> None:
    huge = Image.new("RGB", (8192, 4096), "white")
    huge.paste((0, 0, 0), (100, 100, 200, 200))
    grabbed = intake.from_pil(huge, source=messages.THE_SCREEN, focus=(4096, 0, 8192, 2048))
    assert grabbed.image.size == (4096, 2048) and grabbed.focus == (2048, 0, 4096, 1024)
    assert intake.from_pil(huge, source=messages.THE_SCREEN).focus is None


def test_the_budget_is_what_the_model_reads_in_two_seconds_here_header_included() -> None:
    header = grounding.header_tokens()
    assert grounding.budget_for("cpu", 300.0) == 600 - header
    assert grounding.budget_for("cuda:0", 100_000.0) == grounding.GPU_TOKENS  # a GPU: capped
    assert grounding.budget_for("cpu", 30.0) == 0  # too slow to be worth the header: the question goes alone
    assert (grounding.budget_for("cpu"), grounding.budget_for("cuda:0")) == (grounding.CPU_TOKENS,
                                                                             grounding.GPU_TOKENS)  # rate unknown


def asked_by(rate: float, page: ScreenText) -> str:
    """What an engine that reads ``rate`` tokens a second is asked first about a screen showing ``page``."""
    engine = ScriptedEngine()
    engine.text_tokens_per_s = rate
    session = AssistantSession(lambda _: engine, EngineSettings(), reader=StandInReader(page))
    session.begin(a_screen())
    session.ask("What does line 3 say?")
    return engine.asked[-1][1]


def test_a_slow_model_is_asked_without_the_text_and_a_fast_one_with_it() -> None:
    page = screen_text(("main area", [f"Line {number} of the letter, with a few more words" for number in range(80)]))
    assert asked_by(20.0, page) == "What does line 3 say?"
    asked, budget = asked_by(300.0, page), 600 - grounding.header_tokens()
    kept = asked.split("\n")[2:-3]
    assert asked.startswith(grounding.HEADER) and "Line 3 of the letter, with a few more words" in kept
    assert 0.9 * budget * 3 < sum(len(line) + 1 for line in kept) <= budget * grounding.CHARACTERS_PER_TOKEN


def test_read_screen_text_and_a_first_question_at_once_read_the_picture_once() -> None:
    import threading
    import time

    class SlowReader(StandInReader):
        def read(self, picture: Any, on_block: Callable[[TextBlock, TextBlock | None], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> ScreenText:
            started.set()
            time.sleep(0.3)  # the other thread arrives while this one reads
            return super().read(picture, on_block, should_stop)

    started = threading.Event()
    reader, engine = SlowReader(), ScriptedEngine()
    session = AssistantSession(lambda _: engine, EngineSettings(), reader=reader)
    session.load(EngineSettings())
    session.begin(a_screen())
    pieces: list[str] = []
    reading = threading.Thread(target=lambda: session.read_text(pieces.append))
    reading.start()
    assert started.wait(5)
    session.ask("What is the total?")  # on this thread, while the other still reads
    reading.join(5)
    assert reader.reads == 1
    assert "".join(pieces).startswith("Top bar:\nFile Edit View")  # the reader's own blocks, all of them
    assert engine.asked[0][1].startswith(grounding.HEADER) and "Total due: 48.50 EUR" in engine.asked[0][1]


def test_without_a_recogniser_read_text_says_what_to_do() -> None:
    session = AssistantSession(lambda _: ScriptedEngine(), EngineSettings())
    session.begin(a_screen())
    with pytest.raises(OcrUnavailableError, match="cannot be read"):
        session.read_text()
