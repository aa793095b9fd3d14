"""Using new settings from the dialog: every part takes them at once, then they are saved for the next start.

A failed save never leaves the app half on the old settings: the new ones are used for this run, and the user is
told that they will not last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seeing_assistant.core import launcher, messages, servers, settings
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.qt_signals import emit

if TYPE_CHECKING:
    from seeing_assistant.desktop.main_window import MainWindow


def apply(window: MainWindow, chosen: settings.Settings, api_key: str | None = None) -> None:
    """Use ``chosen``: a new voice reopens the speaker, new hotkeys re-register, a new model or server reloads.

    Then save. ``api_key`` (None: unchanged) goes to the system keyring, never to the settings file.
    """
    before, window.settings = window.settings, chosen
    key_changed = False
    if api_key is not None and chosen.server_url and api_key != (servers.api_key(chosen.server_url) or ""):
        key_changed = True
        note = servers.save_api_key(chosen.server_url, api_key)
        if note is not None:
            window.voice.announce(note, is_error=True)
    if chosen.start_at_login != before.start_at_login:
        settings.set_start_at_login(chosen.start_at_login, launcher.command())
    if window.hotkeys is not None and chosen.hotkeys != before.hotkeys:
        for problem in window.start_hotkeys(chosen.hotkeys):
            window.voice.announce(problem, is_error=True)
    if (chosen.spoken_by, chosen.voice, chosen.rate, chosen.volume, chosen.earcons) != (
            before.spoken_by, before.voice, before.rate, before.volume, before.earcons):
        window.voice.reopen(chosen)
    else:
        window.voice.settings = chosen
    engine_fields = ("model", "device", "dtype", "quantize", "image_fit", "answers_from", "server_url", "server_model",
                     "server_timeout_s", "server_ca_file")
    if key_changed or any(getattr(chosen, name) != getattr(before, name) for name in engine_fields):
        window.stop()
        emit(window.answers.worker.load_requested, EngineSettings.of(chosen, servers.of_settings(chosen)))
    if chosen.asr_model != before.asr_model:
        emit(window.answers.worker.asr_load_requested, chosen.asr_model)
    if window.save_settings:
        try:
            settings.save(chosen)
        except OSError as error:
            window.voice.announce(messages.SETTINGS_NOT_SAVED.format(reason=error.strerror or error), is_error=True)
            return
    window.voice.announce(messages.SETTINGS_SAVED)
