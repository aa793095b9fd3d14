"""The ``seeing-assistant`` command line: describe, say, transcribe, trigger, download, doctor, and the app.

Every failure ends as one line on stderr, ``seeing-assistant: error: <what was wrong and what to do>``, and an
exit code: 2 bad input or usage, 3 model missing or failed to load, 70 a failure nobody foresaw (its traceback
written to the log), 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
import warnings
from collections.abc import Sequence

from seeing_assistant.cli import commands
from seeing_assistant.cli.output import print_error
from seeing_assistant.cli.parser import build_parser, with_command
from seeing_assistant.core import logs, messages, model_store
from seeing_assistant.core.errors import EXIT_INTERRUPTED, EXIT_UNEXPECTED, SeeingAssistantError, unexpected_in_cli


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser(commands.COMMANDS)
    args = parser.parse_args(with_command(list(sys.argv[1:] if argv is None else argv)))
    is_debug = bool(args.debug)
    if not is_debug:
        warnings.simplefilter("ignore")
        # Qt Multimedia reports its back-end search (PipeWire, FFmpeg) on stderr: not the user's business.
        os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
    if args.command != "download":
        model_store.enforce_offline()
    threading.excepthook = _thread_failed  # the desktop app puts its own in place, which also tells the window
    try:
        return int(args.func(args))
    except SeeingAssistantError as error:
        if is_debug:
            traceback.print_exc()
        print_error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        print_error(messages.INTERRUPTED)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last line of defence: one sentence, never a traceback
        if is_debug:
            traceback.print_exc()
        print_error(unexpected_in_cli(error, logs.record(error, f"seeing-assistant {args.command}")))
        return EXIT_UNEXPECTED


def _thread_failed(failure: threading.ExceptHookArgs) -> None:
    """A thread of a command died of a failure nobody foresaw: one line, and its traceback in the log."""
    if failure.exc_value is None or issubclass(failure.exc_type, SystemExit):
        return
    where = failure.thread.name if failure.thread is not None else "a thread"
    logged = logs.record(failure.exc_value, where, failure.exc_type, failure.exc_traceback)
    print_error(unexpected_in_cli(failure.exc_value, logged))
