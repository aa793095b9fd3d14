"""The errors a user can meet, each carrying one sentence that says what was wrong and what to do."""

from __future__ import annotations

from seeing_assistant.core import messages


def short_reason(error: BaseException, limit: int = 160) -> str:
    """The first line of a library's error message (or its type's name), to put inside one of our sentences."""
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:limit]


def unexpected(error: BaseException) -> str:
    """The sentence for a failure we did not foresee: its type and message, and to run again with --debug."""
    return messages.UNEXPECTED_ERROR.format(reason=f"{type(error).__name__}: {error}"[:200])


def unexpected_in_app(error: BaseException, log: object | None) -> str:
    """The window's one sentence for a failure nobody foresaw: what it was, where its traceback went (``log``)."""
    reason = f"{type(error).__name__}: {short_reason(error)}"[:200]
    if log is None:
        return messages.APP_UNEXPECTED_ERROR_NO_LOG.format(reason=reason)
    return messages.APP_UNEXPECTED_ERROR.format(reason=reason, log=log)


def unexpected_in_cli(error: BaseException, log: object | None) -> str:
    """The command line's one sentence for a failure nobody foresaw, naming the log that holds its traceback."""
    if log is None:
        return unexpected(error)
    return messages.CLI_UNEXPECTED_ERROR.format(reason=f"{type(error).__name__}: {short_reason(error)}"[:200],
                                                log=log)


# Exit codes of the command line, one per kind of failure.
EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_MODEL = 3
EXIT_SPEECH_LOST = 4  # speech was asked for and stopped before the end, with no route left to finish it
EXIT_UNEXPECTED = 70  # sysexits' EX_SOFTWARE: a failure nobody foresaw; its traceback is in the log
EXIT_INTERRUPTED = 130


class SeeingAssistantError(Exception):
    """A failure the user can act on; ``str(error)`` is the sentence to show and speak."""

    exit_code = 1


class BadInputError(SeeingAssistantError):
    """The image, question or option given cannot be used."""

    exit_code = EXIT_BAD_INPUT


class ModelUnavailableError(SeeingAssistantError):
    """The model is not on disk, cannot be downloaded, or failed to load."""

    exit_code = EXIT_MODEL


class ServerError(ModelUnavailableError):
    """The model server cannot be reached, refused the request, or broke off: one sentence, exit code 3."""


class CaptureError(SeeingAssistantError):
    """The screen could not be captured."""

    exit_code = EXIT_BAD_INPUT


class SpeechUnavailableError(SeeingAssistantError):
    """There is no audio device or no speech engine: the answer can only be shown as text."""


class SpeechLostError(SpeechUnavailableError):
    """Speech stopped partway and no other route could finish it: the command line exits rather than wait."""

    exit_code = EXIT_SPEECH_LOST
