"""The text recogniser for real: rapidocr's own models from its wheel, on drawn screens with known text."""

from __future__ import annotations

import difflib

import pytest
from PIL import Image, ImageDraw

from seeing_assistant.core import ocr
from seeing_assistant.core.ocr import OcrUnavailableError, TextBlock, TextReader, arrange
from tests.support.screens import application_window, browser_page, dark_chat, font


@pytest.fixture(scope="module")
def reader() -> TextReader:
    loaded = TextReader()
    loaded.load()
    return loaded


def normal(text: str) -> str:
    return " ".join(text.split())


def character_error_rate(expected: list[str], got: list[str]) -> float:
    want, have = "\n".join(map(normal, expected)), "\n".join(map(normal, got))
    matcher = difflib.SequenceMatcher(None, want, have, autojunk=False)
    errors = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")
    return errors / max(1, len(want))


def test_a_window_is_read_exactly_in_reading_order_region_by_region(reader: TextReader) -> None:
    screen = application_window()
    read = reader.read(screen.image)
    got = [(block.region, normal(line.text)) for block in read.blocks for line in block.lines]
    # The menu bar, then the sidebar (never merged with the document beside it), the document, the status bar.
    assert got == [(region, normal(line)) for region, line in screen.lines]
    assert [block.region for block in read.blocks] == ["top bar", "left column", "main area", "bottom bar"]
    assert read.as_text().startswith("Top bar:\nFile Edit View Insert Format Tools Window Help\n\nLeft column:\n"
                                     "Inbox (12)\nDrafts\n")


def test_a_page_drawn_by_a_real_browser_is_read_region_by_region(reader: TextReader) -> None:
    screen = browser_page()  # Chromium, headless: its own fonts, hinting, anti-aliasing and a link's underline
    read = reader.read(screen.image)
    regions = [block.region for block in read.blocks if block.lines]
    assert [region for index, region in enumerate(regions) if region not in regions[:index]] == list(ocr.REGION_ORDER)
    assert regions == sorted(regions, key=ocr.REGION_ORDER.index)  # each region's blocks together, in reading order
    assert character_error_rate(screen.text(), [line.text for line in read.lines]) <= 0.01
    by_region = {region: " ".join(normal(line.text) for block in read.blocks if block.region == region
                                  for line in block.lines) for region in ocr.REGION_ORDER}
    assert by_region["right column"] == " ".join(screen.text("right column"))  # never merged with the article
    assert by_region["left column"] == " ".join(screen.text("left column"))


def test_light_text_on_a_dark_theme_is_read(reader: TextReader) -> None:
    screen = dark_chat()
    read = reader.read(screen.image)
    assert character_error_rate(screen.text(), [line.text for line in read.lines]) <= 0.01
    assert read.blocks[0].region == "left column"


def test_a_picture_without_text_has_none(reader: TextReader) -> None:
    image = Image.new("RGB", (800, 600), (90, 140, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 150, 500, 450), fill=(240, 200, 40))
    draw.rectangle((550, 300, 750, 550), fill=(40, 120, 60))
    read = reader.read(image)
    assert read.is_empty and read.as_text() == ""


def test_blocks_are_handed_over_as_they_are_read_and_reading_can_stop_between_them(reader: TextReader) -> None:
    heard: list[tuple[str, str | None]] = []

    def on_block(block: TextBlock, previous: TextBlock | None) -> None:
        heard.append((block.region, previous.region if previous else None))

    read = reader.read(application_window().image, on_block=on_block)
    assert heard == [("top bar", None), ("left column", "top bar"), ("main area", "left column"),
                     ("bottom bar", "main area")]
    assert len(read.blocks) == 4
    stopped_after: list[int] = []
    partial = reader.read(application_window().image, on_block=lambda block, previous: stopped_after.append(1),
                          should_stop=lambda: bool(stopped_after))
    assert len(partial.blocks) == 1


def test_two_columns_side_by_side_are_each_read_to_their_end() -> None:
    # Lines 20 px high: a left column at x 500-800 and a right column at x 1000-1300, three lines each.
    left = [(500, 300 + 28 * row, 800, 320 + 28 * row) for row in range(3)]
    right = [(1000, 300 + 28 * row, 1300, 320 + 28 * row) for row in range(3)]
    boxes = [box for pair in zip(left, right, strict=True) for box in pair]  # as a detector lists them: row by row
    blocks = arrange(boxes, (1920, 1080))
    assert blocks == [("main area", [[0], [2], [4]]), ("main area", [[1], [3], [5]])]


def test_words_a_detector_split_apart_on_one_line_are_one_line() -> None:
    boxes = [(600, 300, 660, 318), (672, 301, 750, 319), (1200, 300, 1300, 318)]  # two words, then far away a third
    assert arrange(boxes, (1920, 1080)) == [("main area", [[0, 1]]), ("main area", [[2]])]


def test_missing_model_files_are_one_sentence_and_never_a_download(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "DETECTION_MODEL", "PP-OCRv6_det_missing.onnx")
    reader = TextReader()
    with pytest.raises(OcrUnavailableError, match=r"^The text of the picture cannot be read: the text recogniser "
                                                  r"\(rapidocr\) has no PP-OCRv6_det_missing.onnx in .*models\. "):
        reader.load()
    with pytest.raises(OcrUnavailableError):  # kept: told again, not retried
        reader.read(Image.new("RGB", (10, 10)))


def test_a_sentence_drawn_small_is_read(reader: TextReader) -> None:
    image = Image.new("RGB", (640, 120), "white")
    ImageDraw.Draw(image).text((20, 50), "Save changes before closing?", font=font(12), fill=(60, 60, 60))
    assert [line.text for line in reader.read(image).lines] == ["Save changes before closing?"]
