from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import EpsImagePlugin, Image

from seeing_assistant.core import intake
from seeing_assistant.core.errors import BadInputError
from tests.support.cli import png_claiming_size
from tests.support.ghostscript import eps_file, stand_in_ghostscript


def save(image: Image.Image, path: Path, **options: Any) -> Path:
    image.save(path, **options)
    return path


def test_plain_png_becomes_rgb_of_the_same_size(photo: Path) -> None:
    result = intake.load_path(photo)
    assert result.image.mode == "RGB"
    assert result.image.size == (800, 600) == result.original_size
    assert not result.is_blank


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored 200x100 with the left half red; orientation 6 means "rotate 90 degrees clockwise to display".
    image = Image.new("RGB", (200, 100), "blue")
    image.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    result = intake.load_path(save(image, tmp_path / "phone.jpg", exif=exif, quality=95))
    assert result.image.size == (100, 200)
    top = result.image.getpixel((50, 40))
    bottom = result.image.getpixel((50, 160))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60, "the red half belongs on top once upright"
    assert bottom[2] > 200


def test_palette_with_transparency_is_flattened_on_white(tmp_path: Path) -> None:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (20, 0, 40, 40))
    image.info["transparency"] = 0
    result = intake.load_path(save(image, tmp_path / "palette.png", transparency=0))
    assert result.image.getpixel((5, 5)) == (255, 255, 255)
    assert result.image.getpixel((30, 5)) == (255, 0, 0)


def test_alpha_is_flattened_on_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 20, 40))
    result = intake.load_path(save(image, tmp_path / "alpha.png"))
    assert result.image.getpixel((30, 5)) == (255, 255, 255)
    assert result.image.getpixel((5, 5)) == (0, 128, 0)


def test_grey_with_alpha_and_plain_grey_become_rgb(tmp_path: Path) -> None:
    grey_alpha = Image.new("LA", (10, 10), (50, 255))
    grey_alpha.putpixel((0, 0), (0, 0))
    assert intake.load_path(save(grey_alpha, tmp_path / "la.png")).image.getpixel((5, 5)) == (50, 50, 50)
    grey = Image.linear_gradient("L")
    assert intake.load_path(save(grey, tmp_path / "grey.png")).image.mode == "RGB"


def test_sixteen_bit_grey_keeps_its_brightness(tmp_path: Path) -> None:
    image = Image.new("I;16", (20, 20), 32768)
    image.putpixel((0, 0), 0)
    result = intake.load_path(save(image, tmp_path / "deep.png"))
    value = result.image.getpixel((10, 10))
    assert isinstance(value, tuple)
    assert 120 <= value[0] <= 135, "half of full scale should be mid-grey, not clipped to white"


def test_cmyk_becomes_rgb(tmp_path: Path) -> None:
    image = Image.new("CMYK", (30, 30), (0, 255, 255, 0))  # pure red in CMYK
    result = intake.load_path(save(image, tmp_path / "print.jpg"))
    pixel = result.image.getpixel((15, 15))
    assert isinstance(pixel, tuple)
    assert result.image.mode == "RGB" and pixel[0] > 200 and pixel[1] < 60


def test_animation_uses_the_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (30, 30), colour) for colour in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    frames[0].paste((255, 255, 255), (0, 0, 5, 5))
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = intake.load_path(path)
    assert result.image.getpixel((20, 20)) == (255, 0, 0)


def test_very_large_image_is_scaled_down_first(tmp_path: Path) -> None:
    image = Image.new("RGB", (8000, 2000), "white")
    image.paste((0, 0, 0), (0, 0, 4000, 2000))
    result = intake.load_path(save(image, tmp_path / "wide.png"))
    assert result.original_size == (8000, 2000)
    assert result.image.size == (intake.MAX_SIDE, 1024)


def test_decompression_bomb_is_refused_without_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming_size(100_000, 100_000))
    with pytest.raises(BadInputError, match=r"decompression bomb"):
        intake.load_path(path)


def test_a_header_just_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(png_claiming_size(10_000, 9_500))
    with pytest.raises(BadInputError, match=r"95 million pixels"):
        intake.load_path(path)


def test_truncated_image_is_reported_as_damaged(tmp_path: Path, photo: Path) -> None:
    path = tmp_path / "cut.png"
    path.write_bytes(photo.read_bytes()[:3000])
    with pytest.raises(BadInputError, match=r"damaged or incomplete"):
        intake.load_path(path)


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("https://example.org a link, not a picture\n")
    with pytest.raises(BadInputError, match=r"is not an image"):
        intake.load_path(path)


def test_empty_file_missing_file_and_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.touch()
    with pytest.raises(BadInputError, match=r"is empty"):
        intake.load_path(empty)
    with pytest.raises(BadInputError, match=r"There is no file"):
        intake.load_path(tmp_path / "nowhere.png")
    with pytest.raises(BadInputError, match=r"is a folder"):
        intake.load_path(tmp_path)


@pytest.mark.timeout(10)
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(BadInputError, match=r"it is a pipe"):
        intake.load_path(fifo)


@pytest.mark.timeout(10)
def test_a_device_is_refused() -> None:
    with pytest.raises(BadInputError, match=r"it is a device"):
        intake.load_path("/dev/zero")


def test_unreadable_file_says_so(photo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, which reads any file whatever its mode, so the refusal is simulated.
    def refuse(path: object, flags: int, *args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(intake.os, "open", refuse)
    with pytest.raises(BadInputError, match=r"cannot be read \(permission denied\)"):
        intake.load_path(photo)


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with open(path, "wb") as stream:
        stream.truncate(intake.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(BadInputError, match=r"more than the 200.0 MB limit"):
        intake.load_path(path)


class CountingReader(io.RawIOBase):
    """A file wrapper that counts the bytes read through it."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def test_a_large_non_image_is_not_read_into_memory(tmp_path: Path) -> None:
    path = tmp_path / "video.png"
    with open(path, "wb") as stream:
        stream.write(b"not an image at all")
        stream.truncate(150 * 1024 * 1024)
    with open(path, "rb") as raw:
        reader = CountingReader(raw)
        with pytest.raises(BadInputError, match=r"is not an image"):
            intake._decode(reader, "video.png")  # type: ignore[arg-type]
    assert reader.count < 1024 * 1024


def test_bytes_and_streams(photo: Path) -> None:
    data = photo.read_bytes()
    assert intake.load_bytes(data).image.size == (800, 600)
    assert intake.read_stream(io.BytesIO(data)).source == "standard input"
    with pytest.raises(BadInputError, match=r"standard input is empty"):
        intake.read_stream(io.BytesIO(b""))


def test_a_terminal_on_standard_input_is_refused_instead_of_waiting() -> None:
    class Terminal(io.BytesIO):
        def isatty(self) -> bool:
            return True

    with pytest.raises(BadInputError, match=r"No image arrived on standard input"):
        intake.read_stream(Terminal())


def test_oversized_stream_is_cut_off_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 1000)
    with pytest.raises(BadInputError, match=r"more than the"):
        intake.read_stream(io.BytesIO(b"x" * 5000))


@pytest.mark.parametrize(
    ("colour", "name"),
    [((0, 0, 0), "black"), ((255, 255, 255), "white"), ((10, 30, 210), "blue"), ((128, 128, 128), "grey")],
)
def test_a_single_colour_is_blank(colour: tuple[int, int, int], name: str) -> None:
    result = intake.from_pil(Image.new("RGB", (1920, 1080), colour), source="the screen")
    assert result.blank_colour == name
    assert result.blank_answer() == f"The image is blank: it is a single colour ({name})."


def test_jpeg_noise_on_a_black_screen_is_still_blank(tmp_path: Path) -> None:
    result = intake.load_path(save(Image.new("RGB", (640, 480), (2, 1, 3)), tmp_path / "curtain.jpg", quality=70))
    assert result.is_blank


def test_a_little_content_is_not_blank() -> None:
    image = Image.new("RGB", (1920, 1080), (0, 0, 0))
    image.paste((200, 200, 200), (900, 500, 960, 520))  # one small line of text
    assert not intake.from_pil(image).is_blank


def test_from_pil_accepts_any_mode_and_checks_size() -> None:
    assert intake.from_pil(Image.new("RGBA", (5, 5), (0, 0, 0, 0))).image.getpixel((0, 0)) == (255, 255, 255)
    with pytest.raises(BadInputError, match=r"has no pixels"):
        intake.from_pil(Image.new("RGB", (0, 5)))


def test_from_pil_leaves_the_callers_image_untouched() -> None:
    image = Image.new("RGB", (6000, 3000), "white")
    image.paste((0, 0, 0), (0, 0, 3000, 3000))
    result = intake.from_pil(image)
    assert result.image.size == (intake.MAX_SIDE, 2048)
    assert image.size == (6000, 3000), "a pasted or grabbed image must not be shrunk under its owner"


def test_only_the_promised_formats_are_opened_and_ghostscript_never_runs(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ran = stand_in_ghostscript(tmp_path, monkeypatch)
    eps = eps_file(tmp_path / "drawing.png")  # the name says PNG: the bytes are what counts
    # Without the gate Pillow would run the stand-in: the test can tell when the gate is gone.
    with pytest.raises((OSError, subprocess.CalledProcessError)), Image.open(eps) as unguarded:
        unguarded.load()
    assert ran.exists()
    ran.unlink()
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)
    for load in (lambda: intake.load_path(eps), lambda: intake.load_bytes(eps.read_bytes()),
                 lambda: intake.read_stream(io.BytesIO(eps.read_bytes()))):
        with pytest.raises(BadInputError) as refused:
            load()
        assert str(refused.value).endswith("is not an image this app can read: give a PNG, JPEG, GIF, BMP, TIFF or "
                                           "WebP file.")
    assert not ran.exists(), ran.read_text()


@pytest.mark.parametrize(("extension", "options"), [
    ("png", {}), ("jpg", {}), ("gif", {}), ("bmp", {}), ("tif", {}), ("webp", {}),
    ("jpg", {"format": "MPO", "save_all": True}),  # a phone's multi-picture photo is a JPEG too
])
def test_every_promised_format_still_opens(tmp_path: Path, extension: str, options: dict[str, Any]) -> None:
    image = Image.new("RGB", (64, 48), "navy")
    image.paste((250, 140, 20), (0, 0, 32, 48))
    result = intake.load_path(save(image, tmp_path / f"picture.{extension}", **options))
    assert result.image.size == (64, 48) and not result.is_blank


@pytest.mark.parametrize("format_name", ["ICO", "TGA", "PCX", "PPM"])
def test_a_format_pillow_knows_but_the_app_does_not_promise_is_refused(tmp_path: Path, format_name: str) -> None:
    path = save(Image.new("RGB", (32, 32), "green"), tmp_path / "picture.img", format=format_name)
    assert Image.open(path).format == format_name  # Pillow itself would open it
    with pytest.raises(BadInputError, match="is not an image this app can read"):
        intake.load_path(path)
