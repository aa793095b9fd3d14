"""Who speaks the answers: the screen reader, the app's own voice, or no one; opening that speaker; what takes over.

"auto" means the screen reader when one is running and the platform has a route to it (Linux: speech-dispatcher;
Windows and macOS: accessible_output2), otherwise the app's own voice.

This module is the one owner of those choices: which route speaks, and which one takes over when it breaks mid-answer
(the screen reader's route: the app's own voice; the app's own voice: a new device, else the screen reader's route),
in that order, each tried again until the first one is back (:class:`~seeing_assistant.speech.failover.FailoverSpeaker`
carries it out). The engine the app's own voice speaks with is chosen by :mod:`seeing_assistant.speech.drivers`.
"""

from __future__ import annotations

import importlib.util
import sys

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SeeingAssistantError, SpeechUnavailableError
from seeing_assistant.speech.failover import FailoverSpeaker, Route
from seeing_assistant.speech.speaker import SilentSpeaker, Speaker, open_speaker
from seeing_assistant.speech.voice import VoiceSettings

SCREEN_READER, APP_VOICE, NO_ONE, AUTOMATIC = "screen-reader", "app", "none", "auto"


def has_screen_reader_route() -> bool:
    """Whether this platform can speak through the screen reader.

    Linux through speech-dispatcher; Windows and macOS through accessible_output2 where it is installed.
    """
    platform: str = sys.platform  # a plain string: this decides at run time, whatever platform mypy checks for
    if platform.startswith("linux"):
        return True
    return platform in ("win32", "darwin") and importlib.util.find_spec("accessible_output2") is not None


def resolve(choice: str, is_screen_reader_running: bool) -> str:
    """The route ``choice`` means now: "auto" becomes the screen reader or the app's voice."""
    if choice != AUTOMATIC:
        return choice
    return SCREEN_READER if is_screen_reader_running and has_screen_reader_route() else APP_VOICE


def open_route(route: str, voice: VoiceSettings, earcons: bool, fall_back: bool) -> tuple[Speaker, str, str | None]:
    """The speaker for ``route``, the route it really took, and the sentence that says why not, if it failed.

    ``fall_back``: when the screen reader cannot be reached (chosen automatically), use the app's own voice.
    """
    if route == NO_ONE:
        return SilentSpeaker(), NO_ONE, None
    screen_reader = Route(SCREEN_READER, _screen_reader_speaker)
    app_voice = Route(APP_VOICE, lambda: open_speaker(voice, earcons=earcons))
    if route == SCREEN_READER:
        try:
            return FailoverSpeaker(screen_reader.open(), [screen_reader, app_voice]), SCREEN_READER, None
        except SeeingAssistantError as error:
            if not fall_back:
                return SilentSpeaker(), NO_ONE, str(error)
    try:
        first = app_voice.open()
    except SeeingAssistantError as error:
        return SilentSpeaker(), NO_ONE, str(error)
    takers = [screen_reader] if has_screen_reader_route() else []
    return FailoverSpeaker(first, [app_voice, *takers]), APP_VOICE, None


def open_screen_reader_queue() -> Speaker:
    """A connection of its own to speech-dispatcher (Linux), for statuses while the answers are not spoken there.

    SpeechUnavailableError when it cannot be reached, and on other platforms.
    """
    platform: str = sys.platform
    if not platform.startswith("linux"):
        raise SpeechUnavailableError(messages.NO_SPEECH_DISPATCHER.format(reason=platform))
    from seeing_assistant.speech.speech_dispatcher import ScreenReaderSpeaker

    return ScreenReaderSpeaker()


def _screen_reader_speaker() -> Speaker:
    platform: str = sys.platform
    if platform.startswith("linux"):
        return open_screen_reader_queue()
    from seeing_assistant.speech.accessible_output import AccessibleOutputSpeaker

    return AccessibleOutputSpeaker()
