"""Audio arithmetic shared by speech recognition and speech output."""

from __future__ import annotations

from typing import Any


def resample(samples: Any, rate: int, to_rate: int) -> Any:
    """Mono float samples at ``rate`` brought to ``to_rate`` by linear interpolation (numpy's ``interp``).

    Good enough for speech and short tones; a question for Whisper and an earcon are all it handles.
    """
    import numpy as np

    if rate == to_rate or not len(samples):
        return samples.astype(np.float32)
    count = round(len(samples) * to_rate / rate)
    positions = np.linspace(0, len(samples) - 1, count)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
