"""The bounds of every value a user can set, in one place: the settings file, the command line and the dialog."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """A closed range of allowed values."""

    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and self.low <= value <= self.high


RATE = Bounds(80, 500)  # speech rate, words per minute
VOLUME = Bounds(0.0, 1.0)
ANSWER_TOKENS = Bounds(1, 4096)  # the longest answer, in new tokens
DEFAULT_MAX_NEW_TOKENS = 400

# Who speaks the answers: "auto" is the screen reader when one is running, otherwise the app's own voice.
SPOKEN_BY_CHOICES = ("auto", "screen-reader", "app", "none")

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")  # "cuda:N" is accepted too
DTYPE_CHOICES = ("auto", "float16", "bfloat16", "float32")
QUANTIZE_CHOICES = ("4bit", "8bit")

# How a picture is made square for the model: "pad" shows all of it (LLaVA-1.5's own preprocessing), "crop" only its
# centre (the processor's default).
IMAGE_FIT_CHOICES = ("pad", "crop")
SCREEN_TEXT_TOKENS = Bounds(0, 3000)  # the picture's text before the first question (0: none)
SERVER_TIMEOUT_S = Bounds(5, 3600)  # the longest silence allowed from a model server, in seconds
# The longest spoken question, in seconds: listening stops by itself after it (a key stuck down, a forgotten Speak
# question). At most what speech recognition takes from a file (asr.MAX_SECONDS).
MICROPHONE_LIMIT_S = Bounds(5, 120)
DEFAULT_MICROPHONE_LIMIT_S = 60
