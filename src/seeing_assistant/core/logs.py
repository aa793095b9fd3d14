"""The log of failures nobody foresaw: each one's traceback, appended to a file the user can send in a report.

The user hears one sentence; the traceback, which they cannot act on, goes here instead of to a terminal that a
desktop app does not have. ``SEEING_ASSISTANT_LOG_DIR`` overrides the folder (tests use it). Nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import traceback
from pathlib import Path
from types import TracebackType

from seeing_assistant.core import files

LOG_ENV = "SEEING_ASSISTANT_LOG_DIR"
FILE_NAME = "seeing-assistant.log"
MAX_BYTES = 1_000_000  # past this the log starts again, keeping the previous one as seeing-assistant.log.1


def log_dir() -> Path:
    """Where the log lives: ``SEEING_ASSISTANT_LOG_DIR``, or the platform's user log folder."""
    return files.user_folder(LOG_ENV, "log")


def log_path() -> Path:
    """The log file."""
    return log_dir() / FILE_NAME


def record(error: BaseException, where: str, error_type: type[BaseException] | None = None,
           trace: TracebackType | None = None) -> Path | None:
    """Append ``error`` with its traceback and where it happened (a thread's name); the log's path, or None.

    None when the log cannot be written (a full disk, a read-only home): the user still gets the sentence.
    """
    path = log_path()
    lines = traceback.format_exception(error_type or type(error), error, trace or error.__traceback__)
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size > MAX_BYTES:
                os.replace(path, path.with_name(FILE_NAME + ".1"))
        # Opened private: a traceback can hold a file name or a server's address.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as log:
            log.write(f"{stamp} unexpected error in {where}\n{''.join(lines)}\n")
    except OSError:
        return None
    return path
