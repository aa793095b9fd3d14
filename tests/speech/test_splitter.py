from __future__ import annotations

import pytest

from seeing_assistant.speech.splitter import SentenceSplitter, clean_markdown


def split_stream(pieces: list[str], max_words: int = 25) -> list[str]:
    splitter = SentenceSplitter(max_words=max_words)
    chunks: list[str] = []
    for piece in pieces:
        chunks += splitter.feed(piece)
    return chunks + splitter.flush()


def split_by_character(text: str, max_words: int = 25) -> list[str]:
    # The hardest stream: one character at a time, so no decision may rely on seeing ahead.
    return split_stream(list(text), max_words)


def test_a_sentence_is_returned_as_soon_as_the_next_one_starts() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("The window shows a form") == []
    assert splitter.feed(".") == [], "a full stop alone may still be a decimal point or an abbreviation"
    assert splitter.feed(" It has") == ["The window shows a form."]
    assert splitter.feed(" two") == []
    assert splitter.flush() == ["It has two"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Use a tool, e.g. a hammer. Then stop.", ["Use a tool, e.g. a hammer.", "Then stop."]),
        ("Ask Dr. Smith about it. She knows.", ["Ask Dr. Smith about it.", "She knows."]),
        ("It weighs approx. 3.5 kg. That is light.", ["It weighs approx. 3.5 kg.", "That is light."]),
        ("Update to v1.2 now. Done.", ["Update to v1.2 now.", "Done."]),
        ("Go to https://example.org/a.b?c=1 today. Thanks!", ["Go to https://example.org/a.b?c=1 today.", "Thanks!"]),
        ("It says \"Stop.\" Then a beep.", ["It says \"Stop.\"", "Then a beep."]),
        ("Wait... and then. Gone... Really?", ["Wait... and then.", "Gone...", "Really?"]),
        ("Signed J. R. Tolkien. The end.", ["Signed J. R. Tolkien.", "The end."]),
        ("Is it red? Yes! It is.", ["Is it red?", "Yes!", "It is."]),
    ],
)
def test_sentence_ends_and_false_ends(text: str, expected: list[str]) -> None:
    assert split_by_character(text) == expected
    assert split_stream([text]) == expected


def test_lines_and_list_items_without_full_stops_are_chunks() -> None:
    text = "## Buttons\n1. Open the menu\n2. Save\n- **Cancel** button\n* `Help`\n"
    assert split_by_character(text) == ["Buttons", "1. Open the menu", "2. Save", "Cancel button", "Help"]


def test_a_long_run_without_sentence_ends_is_cut_at_a_clause_mark() -> None:
    words = " ".join(f"word{i}" for i in range(12))
    text = f"{words}, and then more words follow here without any end at all"
    chunks = split_by_character(text, max_words=15)
    assert chunks[0] == f"{words},"
    assert " ".join(chunks) == text


def test_a_long_run_without_any_mark_is_cut_at_a_word_boundary() -> None:
    text = " ".join(f"w{i}" for i in range(50))
    chunks = split_by_character(text, max_words=10)
    assert all(len(chunk.split()) <= 10 for chunk in chunks)
    assert " ".join(chunks) == text


def test_nothing_speakable_gives_no_chunk() -> None:
    assert split_stream(["** ", "\n", "- \n", "..."]) == []


def test_reset_drops_the_unfinished_sentence() -> None:
    splitter = SentenceSplitter()
    splitter.feed("An answer that was interrupted")
    splitter.reset()
    assert splitter.feed("New answer. ") == ["New answer."]


def test_clean_markdown() -> None:
    assert clean_markdown("# Title\n> quoted **bold** and __strong__ `code`") == "Title quoted bold and strong code"
    assert clean_markdown("2 * 3 = 6") == "2 * 3 = 6"


def test_a_long_run_without_spaces_is_spoken_in_pieces_not_held_back_to_the_end() -> None:
    splitter = SentenceSplitter()
    chunks: list[str] = []
    for _ in range(100):
        chunks += splitter.feed("tautt")  # 500 characters that never end a sentence or a word
    assert chunks and all(len(chunk) <= 300 for chunk in chunks)
    assert "".join(chunks + splitter.flush()) == "tautt" * 100
    spaced = SentenceSplitter()
    said = spaced.feed("x" * 250 + " " + "y" * 100)
    assert said == ["x" * 250]  # cut at the last space before the limit
