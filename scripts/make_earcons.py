"""Make the earcons in src/seeing_assistant/resources/sounds: short, soft tones (22,050 Hz mono, like the eSpeak NG voice).

start: two rising notes; done: two falling notes; error: a low double buzz. Run: python3 scripts/make_earcons.py
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
FOLDER = Path(__file__).resolve().parents[1] / "src" / "seeing_assistant" / "resources" / "sounds"


def tone(frequency: float, seconds: float, volume: float = 0.3, square: bool = False) -> list[int]:
    """One note with a 10 ms fade in and out, so that it does not click."""
    count = int(RATE * seconds)
    fade = int(RATE * 0.01)
    samples = []
    for index in range(count):
        value = math.sin(2 * math.pi * frequency * index / RATE)
        if square:
            value = 0.6 * (1.0 if value >= 0 else -1.0)
        envelope = min(1.0, index / fade, (count - index) / fade)
        samples.append(int(32767 * volume * envelope * value))
    return samples


def silence(seconds: float) -> list[int]:
    return [0] * int(RATE * seconds)


def write(name: str, samples: list[int]) -> None:
    with wave.open(str(FOLDER / f"{name}.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))


if __name__ == "__main__":
    FOLDER.mkdir(parents=True, exist_ok=True)
    write("start", tone(660, 0.07) + silence(0.02) + tone(880, 0.09))
    write("done", tone(880, 0.07) + silence(0.02) + tone(660, 0.09))
    write("error", tone(220, 0.1, square=True, volume=0.2) + silence(0.05) + tone(220, 0.1, square=True, volume=0.2))
