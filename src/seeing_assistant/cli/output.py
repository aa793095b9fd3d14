"""How the command line talks: one ``seeing-assistant: error: ...`` or ``...: warning: ...`` line on stderr."""

from __future__ import annotations

import sys
from typing import TextIO

from seeing_assistant.core import messages

PROG = "seeing-assistant"


def print_error(text: str, stream: TextIO | None = None) -> None:
    """Write one error line in the app's format."""
    print(f"{PROG}: error: {text}", file=stream or sys.stderr, flush=True)


def print_warning(text: str) -> None:
    """Write one warning line: something is missing, and the command goes on without it."""
    print(f"{PROG}: {messages.WARNING_PREFIX}: {text}", file=sys.stderr, flush=True)
