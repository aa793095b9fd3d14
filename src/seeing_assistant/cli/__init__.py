"""The ``seeing-assistant`` command line: describe, say, transcribe, trigger, download, doctor, and the app.

Every failure ends as one line on stderr, ``seeing-assistant: error: <what was wrong and what to do>``, and an
exit code: 2 bad input or usage, 3 model missing or failed to load, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from collections.abc import Sequence

from seeing_assistant.cli import commands
from seeing_assistant.cli.output import print_error
from seeing_assistant.cli.parser import build_parser, with_command
from seeing_assistant.core import messages, model_store
from seeing_assistant.core.errors import EXIT_INTERRUPTED, SeeingAssistantError, unexpected


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
        print_error(unexpected(error))
        return 1
