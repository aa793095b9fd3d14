"""Image intake: turn a file, bytes or a PIL image into a safe, upright, bounded RGB image.

Everything a user can hand the app passes through here before any model is loaded, so a bad input is refused
in well under a second with one clear sentence. Nothing here imports Qt or torch.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from seeing_assistant.core import messages
from seeing_assistant.core.errors import BadInputError

# Files larger than this are refused without being read: no screenshot or photo a user means comes near it.
MAX_FILE_BYTES = 200 * 1024 * 1024
# Images that claim more pixels than this are refused as possible decompression bombs (Pillow's own warning
# threshold is about 89 million).
MAX_PIXELS = 90_000_000
# Larger images are scaled down to this long side before any other work: the models see far fewer pixels.
MAX_SIDE = 4096
# A colour image whose channels all vary by no more than this is blank (JPEG noise included).
BLANK_TOLERANCE = 6
# The formats the app promises, and the only Pillow decoders that ever see a user's bytes. Pillow knows dozens more;
# some run other programs (EPS is rendered by Ghostscript, found on PATH) or parse rarely audited formats, so a
# file that is none of these is refused before any other decoder looks at it. JPEG includes a phone's MPO photos.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")

# Reference colours for naming a blank image; the nearest one names it.
_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "red": (220, 30, 30),
    "green": (40, 180, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 230, 40),
    "cyan": (40, 220, 230),
    "magenta": (220, 40, 220),
    "orange": (250, 140, 20),
    "purple": (120, 40, 160),
    "brown": (120, 70, 30),
    "pink": (250, 170, 200),
    "dark blue": (10, 20, 100),
    "dark green": (10, 80, 20),
    "dark red": (110, 10, 10),
}


@dataclass(frozen=True)
class IntakeImage:
    """An image ready for a model: RGB, upright, at most ``MAX_SIDE`` pixels on its long side."""

    image: Image.Image
    source: str
    original_size: tuple[int, int]
    blank_colour: str | None = None
    # A screen's active window (another application's), as (left, top, right, bottom) in ``image``'s pixels: its text
    # is put first when the screen's text must be cut to fit the prompt. None for anything but such a screen.
    focus: tuple[int, int, int, int] | None = None

    @property
    def is_blank(self) -> bool:
        """Whether the whole image is one colour, so there is nothing to describe."""
        return self.blank_colour is not None

    def blank_answer(self) -> str:
        """The sentence said instead of running a model on a blank image."""
        colour = self.blank_colour or "black"
        return messages.BLANK_IMAGE.format(colour=messages.COLOUR_NAMES.get(colour, colour))


# CLIP's mean colour, as fractions: what LLaVA-1.5's expand2square pads with, and its processor's image_mean.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)


def padded_square(picture: Image.Image, side: int | None, mean: tuple[float, ...] = CLIP_MEAN,
                  resample: Image.Resampling = Image.Resampling.BOX, reducing_gap: float | None = None) -> Image.Image:
    """The whole picture, its long side brought down to ``side`` (when larger), centred on a square of ``mean``.

    LLaVA-1.5's own ``expand2square``, which it was trained and evaluated with: a model shown the whole picture
    instead of its middle sees a screenshot's taskbar, sidebars and the start of every line. The local engine and
    the server engine both show the model their pictures through here.
    """
    width, height = picture.size
    if side and max(width, height) > side:
        scale = side / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        picture = picture.resize((width, height), resample, reducing_gap=reducing_gap)
    if picture.mode != "RGB":
        picture = picture.convert("RGB")
    if width == height:
        return picture
    square_side = max(width, height)
    square = Image.new("RGB", (square_side, square_side), tuple(round(channel * 255) for channel in mean[:3]))
    square.paste(picture, ((square_side - width) // 2, (square_side - height) // 2))
    return square


def _human_bytes(count: int) -> str:
    """A byte count as a short human size such as '12 MB'."""
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"  # pragma: no cover - the loop always returns


def _kind_of(mode: int) -> str:
    """Name the kind of a non-regular file for the error message."""
    if stat.S_ISFIFO(mode):
        return "pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def load_path(path: str | os.PathLike[str]) -> IntakeImage:
    """Read an image file, refusing anything that is not a regular, reasonably sized file."""
    shown = str(path)
    file_path = Path(path).expanduser()
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(file_path, flags)
    except FileNotFoundError:
        raise BadInputError(messages.FILE_NOT_FOUND.format(path=shown)) from None
    except IsADirectoryError:
        raise BadInputError(messages.PATH_IS_FOLDER.format(path=shown)) from None
    except PermissionError:
        raise BadInputError(messages.FILE_NOT_READABLE.format(path=shown, reason="permission denied")) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise BadInputError(messages.FILE_NOT_READABLE.format(path=shown, reason=reason.lower())) from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise BadInputError(messages.PATH_IS_FOLDER.format(path=shown))
        if not stat.S_ISREG(info.st_mode):
            raise BadInputError(messages.NOT_REGULAR_FILE.format(path=shown, kind=_kind_of(info.st_mode)))
        _check_size(info.st_size, shown)
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as stream:
        return _decode(stream, shown)


def load_bytes(data: bytes, source: str = messages.STANDARD_INPUT) -> IntakeImage:
    """Decode an image held in memory, such as one piped to standard input."""
    _check_size(len(data), source)
    return _decode(io.BytesIO(data), source)


def read_stream(stream: BinaryIO, source: str = messages.STANDARD_INPUT) -> IntakeImage:
    """Read an image from a binary stream, refusing a terminal and never reading past the size limit."""
    is_terminal: Callable[[], bool] | None = getattr(stream, "isatty", None)
    if is_terminal is not None and is_terminal():
        raise BadInputError(messages.STDIN_IS_TERMINAL)
    data = stream.read(MAX_FILE_BYTES + 1)
    return load_bytes(data, source)


def from_pil(image: Image.Image, source: str = messages.IMAGE_IN_MEMORY,
             focus: tuple[int, int, int, int] | None = None) -> IntakeImage:
    """Normalise an image that is already decoded, such as one pasted from the clipboard or grabbed from the screen.

    ``focus``: the active window's box in ``image``'s pixels (a screen grab's); it is scaled with the image.
    """
    _check_pixels(image.size, source)
    return _normalise(image, source, focus)


def _check_size(size: int, source: str) -> None:
    """Refuse empty and oversized inputs before reading them."""
    if size == 0:
        raise BadInputError(messages.EMPTY_INPUT.format(source=source))
    if size > MAX_FILE_BYTES:
        raise BadInputError(
            messages.INPUT_TOO_LARGE.format(
                source=source, size=_human_bytes(size), limit=_human_bytes(MAX_FILE_BYTES)
            )
        )


def _check_pixels(size: tuple[int, int], source: str) -> None:
    """Refuse images with no pixels or with so many that decoding them could exhaust memory."""
    width, height = size
    if width <= 0 or height <= 0:
        raise BadInputError(messages.IMAGE_HAS_NO_PIXELS.format(source=source))
    if width * height > MAX_PIXELS:
        raise BadInputError(
            messages.IMAGE_TOO_MANY_PIXELS.format(
                source=source,
                pixels=f"{width * height / 1e6:.0f} million",
                limit=f"{MAX_PIXELS / 1e6:.0f} million",
            )
        )


def _decode(stream: BinaryIO, source: str) -> IntakeImage:
    """Decode the first frame of an image from ``stream``, checking its header before any pixel is read."""
    with warnings.catch_warnings():
        # Our own pixel limit (checked below, from the header) replaces Pillow's warning; its hard error stays.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(stream, formats=FORMATS)
        except UnidentifiedImageError:
            raise BadInputError(messages.NOT_AN_IMAGE.format(source=source)) from None
        except Image.DecompressionBombError:
            raise BadInputError(
                messages.IMAGE_TOO_MANY_PIXELS.format(
                    source=source, pixels="too many", limit=f"{MAX_PIXELS / 1e6:.0f} million"
                )
            ) from None
        except Exception:  # noqa: BLE001 - hostile headers raise many kinds; each means the same to the user
            raise BadInputError(messages.DAMAGED_IMAGE.format(source=source)) from None
        with image:
            _check_pixels(image.size, source)
            # JPEG can decode straight to a smaller size, which is far faster for huge photos.
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            try:
                image.load()
            except MemoryError:
                raise BadInputError(
                    messages.INPUT_TOO_LARGE.format(source=source, size="too large", limit="memory")
                ) from None
            except Exception:  # noqa: BLE001 - truncated or corrupt data raises many kinds
                raise BadInputError(messages.DAMAGED_IMAGE.format(source=source)) from None
            # Keep only the decoded first frame, upright as its EXIF orientation says; the file can be closed after.
            frame = _upright(image)
    return _normalise(frame, source)


def _upright(image: Image.Image) -> Image.Image:
    """A copy of ``image`` turned as its EXIF orientation says (Pillow's ``exif_transpose``)."""
    try:
        turned = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop the image itself
        return image.copy()
    return turned if turned is not image else image.copy()


def _normalise(image: Image.Image, source: str, focus: tuple[int, int, int, int] | None = None) -> IntakeImage:
    """Scale down, convert to RGB and check for blankness."""
    original_size = image.size
    if max(image.size) > MAX_SIDE:
        # resize returns a new image: the caller's own (a clipboard image, a screen grab) is left as it was.
        scale = MAX_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
        if focus is not None:
            focus = (round(focus[0] * scale), round(focus[1] * scale), round(focus[2] * scale), round(focus[3] * scale))
    rgb = _to_rgb(image, source)
    return IntakeImage(image=rgb, source=source, original_size=original_size, blank_colour=_blank_colour(rgb),
                       focus=focus)


def _to_rgb(image: Image.Image, source: str) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparency is flattened onto white."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16"):
        # 16-bit grey: keep the top 8 bits instead of clipping everything above 255 to white.
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
        mode = "L"
    elif mode in ("I", "F"):
        high = image.getextrema()[1]
        scale = 255 / high if isinstance(high, (int, float)) and high > 255 else 1
        image = image.point(lambda value: value * scale).convert("L")
        mode = "L"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    try:
        return image.convert("RGB")
    except ValueError:
        raise BadInputError(messages.UNSUPPORTED_COLOUR_MODE.format(source=source, mode=mode)) from None


def _blank_colour(image: Image.Image) -> str | None:
    """The name of the single colour filling ``image``, or None when it shows anything at all."""
    if min(image.size) >= 64:
        # A quick look first: if block averages already differ, the pixels do too (a 4K screen in ~2 ms, not ~30).
        coarse: tuple[tuple[int, int], ...] = image.reduce(8).getextrema()  # type: ignore[assignment]  # RGB bands
        if any(high - low > BLANK_TOLERANCE for low, high in coarse):
            return None
    extrema: tuple[tuple[int, int], ...] = image.getextrema()  # type: ignore[assignment]  # RGB: one per band
    if any(high - low > BLANK_TOLERANCE for low, high in extrema):
        return None
    mean = tuple((low + high) / 2 for low, high in extrema)
    return min(_COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(_COLOURS[name], mean, strict=True)))


def save_png(image: IntakeImage, path: Path) -> None:
    """Save the picture a model is given (before its own resizing) as PNG, whole or not at all.

    ValueError for a name that does not end in .png; OSError when it cannot be written (nothing is left behind).
    """
    from seeing_assistant.core import files

    if path.suffix.lower() != ".png":
        raise ValueError(messages.SAVE_IMAGE_NOT_PNG.format(path=path))
    files.write_atomically(path, lambda out: image.image.save(out, format="PNG"))
