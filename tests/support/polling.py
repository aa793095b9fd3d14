"""Waiting on a condition outside Qt's event loop: polled, with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from typing import Any


def wait_for(condition: Any, timeout: float, step: float = 0.05) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds pass."""
    end = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(step)
