"""The text of a picture, read exactly: offline OCR (rapidocr's PP-OCR models, shipped in its wheel) in reading order.

The lines are grouped into blocks (a paragraph, a sidebar's list, a menu bar) and each block is placed in a region of
the picture ("top bar", "left column", "main area", "right column", "bottom bar"): a sidebar is never merged with the
main column beside it, and a reader hears where each block is. Blocks are recognised in reading order and handed over
one at a time, so that Read screen text can start speaking the first block while the rest is still being read.

Why rapidocr: measured on this project's screens (2 cores, 1920x1080) it had the lowest character error rate of the
offline engines that install from PyPI (0.0-1.7%, no line lost; Tesseract 1.3-4.8%, 6 of 220 lines lost), and its
wheel carries its models. Its text-direction classifier is off: it flipped screen lines into garbage. Only the model
files in the wheel are used, by path: a missing file is an error, never a download.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SeeingAssistantError, short_reason

log = logging.getLogger(__name__)

DETECTION_MODEL = "PP-OCRv6_det_small.onnx"
RECOGNITION_MODEL = "PP-OCRv6_rec_small.onnx"
MIN_SCORE = 0.5  # recognised text less certain than this is dropped (rapidocr's own default)

# Regions, in the order they are read.
TOP_BAR, LEFT_COLUMN, MAIN_AREA, RIGHT_COLUMN, BOTTOM_BAR = (
    "top bar", "left column", "main area", "right column", "bottom bar")
REGION_ORDER = (TOP_BAR, LEFT_COLUMN, MAIN_AREA, RIGHT_COLUMN, BOTTOM_BAR)
BAR_DEPTH = 0.05  # a block within this fraction of the height from the top (bottom) is in the top (bottom) bar
SIDE_WIDTH = 0.3  # a block ending before this fraction of the width (starting after 1 - it) is a side column


class OcrUnavailableError(SeeingAssistantError):
    """The text recogniser cannot run: not installed, or its model files are missing."""


Box = tuple[int, int, int, int]  # left, top, right, bottom, in the picture's pixels


@dataclass
class TextLine:
    """One line of text as read, with where it is."""

    text: str
    box: Box
    score: float = 1.0


@dataclass
class TextBlock:
    """Lines that belong together (one column, paragraph or bar), in reading order, and the region they are in."""

    region: str
    lines: list[TextLine] = field(default_factory=list)

    @property
    def box(self) -> Box:
        """The box around all the block's lines."""
        return (min(line.box[0] for line in self.lines), min(line.box[1] for line in self.lines),
                max(line.box[2] for line in self.lines), max(line.box[3] for line in self.lines))

    @property
    def text(self) -> str:
        """The block's lines, one per line."""
        return "\n".join(line.text for line in self.lines)


@dataclass
class ScreenText:
    """The text of a picture in reading order: blocks with their regions; and how long reading took."""

    blocks: list[TextBlock]
    size: tuple[int, int]
    seconds: float = 0.0

    @property
    def is_empty(self) -> bool:
        """Whether no text was found."""
        return not any(block.lines for block in self.blocks)

    @property
    def lines(self) -> list[TextLine]:
        """Every line, in reading order."""
        return [line for block in self.blocks for line in block.lines]

    def as_text(self) -> str:
        """The text as it is read out and shown: each region named once, before its first block."""
        return "".join(spoken_block(block, previous) for block, previous in self.with_previous()).strip()

    def with_previous(self) -> list[tuple[TextBlock, TextBlock | None]]:
        """Each block with the one read before it (None for the first)."""
        return [(block, self.blocks[index - 1] if index else None) for index, block in enumerate(self.blocks)]


def spoken_block(block: TextBlock, previous: TextBlock | None) -> str:
    """A block as read out: "Left column:" before the first block of a region, then its lines; a blank line after."""
    heading = f"{block.region.capitalize()}:\n" if previous is None or previous.region != block.region else ""
    return heading + block.text + "\n\n"


# --- Layout --------------------------------------------------------------------------------------------------------

def _height(box: Box) -> int:
    return max(1, box[3] - box[1])


def _same_line(first: Box, second: Box) -> bool:
    """Whether two boxes are side by side on one line.

    They overlap by half the smaller height and the gap is under six heights (a form's label and its field; a
    sidebar and the page beside it are further apart).
    """
    overlap = min(first[3], second[3]) - max(first[1], second[1])
    height = min(_height(first), _height(second))
    gap = max(first[0], second[0]) - min(first[2], second[2])
    return overlap >= height / 2 and gap <= 6 * height


def _follows(upper: Box, lower: Box) -> bool:
    """Whether ``lower`` is the next line of the same block as ``upper``.

    Just below (a gap under 0.8 line heights: the spacing of a paragraph or a list, not of a menu bar above the
    page) and overlapping across (not a column beside it).
    """
    height = max(_height(upper), _height(lower))
    gap = lower[1] - upper[3]
    overlaps_across = min(upper[2], lower[2]) - max(upper[0], lower[0]) > 0
    return -height / 2 <= gap <= 0.8 * height and overlaps_across


def _rows_at_edges(line_boxes: list[Box], size: tuple[int, int]) -> dict[int, str]:
    """The lines of the top bar and of the bottom bar, by number.

    A bar is the topmost (bottommost) row of text when it lies within ``BAR_DEPTH`` of the edge; a row is the lines
    that overlap the outermost line by half their height.
    """
    bars: dict[int, str] = {}
    if not line_boxes:
        return bars
    top = min(range(len(line_boxes)), key=lambda n: line_boxes[n][1])
    bottom = max(range(len(line_boxes)), key=lambda n: line_boxes[n][3])
    for edge, bar, is_near in ((top, TOP_BAR, line_boxes[top][3] <= size[1] * BAR_DEPTH),
                               (bottom, BOTTOM_BAR, line_boxes[bottom][1] >= size[1] * (1 - BAR_DEPTH))):
        if not is_near:
            continue
        for number, box in enumerate(line_boxes):
            overlap = min(box[3], line_boxes[edge][3]) - max(box[1], line_boxes[edge][1])
            if overlap >= min(_height(box), _height(line_boxes[edge])) / 2:
                bars[number] = bar
    return bars


def _union(boxes: list[Box]) -> Box:
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def region_of(box: Box, size: tuple[int, int]) -> str:
    """Where a block that is not in a bar is in a picture of ``size``: a side column by its place, else the page."""
    width = size[0]
    if box[2] <= width * SIDE_WIDTH:
        return LEFT_COLUMN
    if box[0] >= width * (1 - SIDE_WIDTH):
        return RIGHT_COLUMN
    return MAIN_AREA


def arrange(boxes: list[Box], size: tuple[int, int]) -> list[tuple[str, list[list[int]]]]:
    """Group detected text boxes into blocks of lines, in reading order, each with its region.

    Returns (region, lines) per block, each line a list of indices into ``boxes`` from left to right.
    """
    # Lines: boxes side by side on one line (words a detector split apart, a label and its field), left to right.
    order = sorted(range(len(boxes)), key=lambda index: (boxes[index][1], boxes[index][0]))
    lines: list[list[int]] = []
    for index in order:
        for line in lines:
            if _same_line(_union([boxes[i] for i in line]), boxes[index]):
                line.append(index)
                break
        else:
            lines.append([index])
    for line in lines:
        line.sort(key=lambda index: boxes[index][0])
    line_boxes = [_union([boxes[i] for i in line]) for line in lines]
    bars = _rows_at_edges(line_boxes, size)

    # Blocks: a line joins the block whose last line it follows closely, overlapping it across (not a column beside).
    blocks: list[list[int]] = []
    for number in sorted(range(len(lines)), key=lambda n: (line_boxes[n][1], line_boxes[n][0])):
        fitting = [block for block in blocks if _follows(line_boxes[block[-1]], line_boxes[number])
                   and bars.get(block[-1]) == bars.get(number)]  # a bar never runs on into the page
        if fitting:
            min(fitting, key=lambda block: abs(line_boxes[block[-1]][0] - line_boxes[number][0])).append(number)
        else:
            blocks.append([number])
    block_boxes = [_union([line_boxes[n] for n in block]) for block in blocks]
    regions = [bars.get(block[0]) or region_of(box, size) for block, box in zip(blocks, block_boxes, strict=True)]
    # A side column is one only if nothing of the page reaches across into it: a form's field that happens to end
    # left of the line is part of the page, not a sidebar.
    for index, box in enumerate(block_boxes):
        if regions[index] in (LEFT_COLUMN, RIGHT_COLUMN) and any(
                regions[other] == MAIN_AREA and min(box[2], block_boxes[other][2]) > max(box[0], block_boxes[other][0])
                for other in range(len(blocks))):
            regions[index] = MAIN_AREA

    def reading_key(index: int) -> tuple[int, int, int]:
        return REGION_ORDER.index(regions[index]), block_boxes[index][1], block_boxes[index][0]

    remaining = sorted(range(len(blocks)), key=reading_key)
    # Two blocks side by side in one region (columns of a page) are read left column first, each to its end.
    result: list[int] = []
    while remaining:
        first = remaining.pop(0)
        top = block_boxes[first][1]
        beside = [other for other in remaining if regions[other] == regions[first]
                  and abs(block_boxes[other][1] - top) <= _height(line_boxes[blocks[first][0]])]
        for other in beside:
            remaining.remove(other)
        result.extend(sorted([first, *beside], key=lambda index: block_boxes[index][0]))
    return [(regions[index], [lines[n] for n in blocks[index]]) for index in result]


# --- The recogniser ------------------------------------------------------------------------------------------------

class TextReader:
    """rapidocr, loaded once (in the background, by :meth:`load`), used from any thread one picture at a time."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._load_error: str | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the models now; raises :class:`OcrUnavailableError` with one sentence (kept for later reads)."""
        with self._lock:
            self._load()

    def _load(self) -> None:
        if self._engine is not None:
            return
        if self._load_error is not None:
            raise OcrUnavailableError(self._load_error)
        try:
            import rapidocr
            from rapidocr import RapidOCR
        except ImportError as error:
            self._load_error = messages.OCR_UNAVAILABLE.format(reason=f"is not installed ({short_reason(error)})")
            raise OcrUnavailableError(self._load_error) from None
        folder = Path(rapidocr.__file__).parent / "models"
        missing = [name for name in (DETECTION_MODEL, RECOGNITION_MODEL) if not (folder / name).is_file()]
        if missing:  # rapidocr would download them: never
            self._load_error = messages.OCR_UNAVAILABLE.format(reason=f"has no {', '.join(missing)} in {folder}")
            raise OcrUnavailableError(self._load_error)
        started = time.perf_counter()
        try:
            self._engine = RapidOCR(params={
                "Global.use_cls": False, "Global.log_level": "critical",
                "Det.model_path": str(folder / DETECTION_MODEL), "Rec.model_path": str(folder / RECOGNITION_MODEL)})
            import numpy as np

            self._engine(np.full((32, 96, 3), 255, dtype=np.uint8), use_rec=False, use_cls=False)  # loads the det model
        except Exception as error:  # noqa: BLE001 - one sentence; the app goes on without OCR
            self._engine = None
            self._load_error = messages.OCR_UNAVAILABLE.format(reason=f"failed to start ({short_reason(error)})")
            raise OcrUnavailableError(self._load_error) from None
        log.info("Text recogniser loaded in %.2f s", time.perf_counter() - started)

    def read(self, picture: Any, on_block: Callable[[TextBlock, TextBlock | None], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> ScreenText:
        """The text of a PIL picture in reading order; ``on_block(block, previous)`` hears each block as it is read.

        ``should_stop`` is asked between blocks: when it says so, what was read so far is returned.
        """
        import numpy as np

        with self._lock:
            self._load()
            started = time.perf_counter()
            rgb = np.asarray(picture.convert("RGB"))
            bgr = np.ascontiguousarray(rgb[:, :, ::-1])
            try:
                detected = self._engine(bgr, use_rec=False, use_cls=False)
            except Exception as error:
                raise SeeingAssistantError(messages.OCR_FAILED.format(reason=short_reason(error))) from error
            found = getattr(detected, "boxes", None)
            size = picture.size
            boxes: list[Box] = []
            for points in [] if found is None else found:
                left, top = np.floor(points.min(axis=0)).astype(int)
                right, bottom = np.ceil(points.max(axis=0)).astype(int)
                boxes.append((max(0, int(left)), max(0, int(top)), min(size[0], int(right)), min(size[1], int(bottom))))
            blocks: list[TextBlock] = []
            for region, block in arrange(boxes, size):
                if should_stop is not None and should_stop():
                    break
                indices = [index for line in block for index in line]
                crops = [bgr[boxes[i][1]:boxes[i][3], boxes[i][0]:boxes[i][2]] for i in indices]
                try:
                    recognised = self._engine.recognize_txt(crops)
                except Exception as error:
                    raise SeeingAssistantError(messages.OCR_FAILED.format(reason=short_reason(error))) from error
                texts = dict(zip(indices, zip(recognised.txts, recognised.scores, strict=True), strict=True))
                lines = []
                for line in block:
                    words = [(texts[i][0].strip(), float(texts[i][1])) for i in line
                             if texts[i][0].strip() and texts[i][1] >= MIN_SCORE]
                    if words:
                        lines.append(TextLine(" ".join(word for word, _ in words), _union([boxes[i] for i in line]),
                                              min(score for _, score in words)))
                if not lines:
                    continue
                text_block = TextBlock(region, lines)
                if on_block is not None:
                    on_block(text_block, blocks[-1] if blocks else None)
                blocks.append(text_block)
            return ScreenText(blocks, size, time.perf_counter() - started)
