"""The desktop app's settings, kept as a JSON file in the platform's config folder.

``SEEING_ASSISTANT_CONFIG_DIR`` overrides the folder (tests use it). A file that cannot be read or parsed is
reported in one sentence and replaced by the defaults: the app always starts. Writes are atomic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from seeing_assistant.core import limits, messages, model_store, tasks
from seeing_assistant.core.actions import DEFAULT_HOTKEYS
from seeing_assistant.core.files import user_folder, write_atomically

CONFIG_ENV = "SEEING_ASSISTANT_CONFIG_DIR"
FILE_NAME = "settings.json"


@dataclass
class Settings:
    """Everything the Settings dialog offers."""

    model: str = model_store.DEFAULT_MODEL
    device: str = "auto"
    dtype: str = "auto"
    quantize: str | None = None
    voice: str | None = None
    rate: int | None = None
    volume: float = 1.0
    spoken_by: str = "auto"  # one of limits.SPOKEN_BY_CHOICES
    earcons: bool = True
    hide_window_when_capturing: bool = True
    default_task: str = tasks.DEFAULT_TASK
    max_new_tokens: int = limits.DEFAULT_MAX_NEW_TOKENS
    hotkeys: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_HOTKEYS))
    start_minimised: bool = False
    start_at_login: bool = False
    asr_model: str = model_store.DEFAULT_ASR_MODEL
    image_fit: str = "pad"  # one of limits.IMAGE_FIT_CHOICES
    # Tokens of the screen's text put before the first question; None: what the model reads here in 2 s (grounding).
    screen_text_tokens: int | None = None
    # Where answers come from: "local" (the model above, loaded here) or "server" (a model server; see servers.py).
    # The server's API key is kept in the system keyring, never here.
    answers_from: str = "local"
    server_url: str = ""
    server_model: str = ""  # empty: the one the server serves
    server_timeout_s: int = 120
    server_ca_file: str = ""
    # Listening stops by itself after this many seconds, and what was said is transcribed (limits.MICROPHONE_LIMIT_S).
    microphone_limit_s: int = limits.DEFAULT_MICROPHONE_LIMIT_S

    def problems(self) -> list[str]:
        """Why a value cannot be used (names of the fields), so that a hand-edited file is caught."""
        wrong = []
        if self.dtype not in limits.DTYPE_CHOICES:
            wrong.append("dtype")
        if self.quantize not in (None, *limits.QUANTIZE_CHOICES):
            wrong.append("quantize")
        if self.rate is not None and self.rate not in limits.RATE:
            wrong.append("rate")
        if self.volume not in limits.VOLUME:
            wrong.append("volume")
        if self.default_task not in tasks.TASKS:
            wrong.append("default_task")
        if self.spoken_by not in limits.SPOKEN_BY_CHOICES:
            wrong.append("spoken_by")
        if self.max_new_tokens not in limits.ANSWER_TOKENS:
            wrong.append("max_new_tokens")
        if not self.model.strip():
            wrong.append("model")
        if self.image_fit not in limits.IMAGE_FIT_CHOICES:
            wrong.append("image_fit")
        if self.screen_text_tokens is not None and self.screen_text_tokens not in limits.SCREEN_TEXT_TOKENS:
            wrong.append("screen_text_tokens")
        if self.answers_from not in ("local", "server"):
            wrong.append("answers_from")
        if self.server_timeout_s not in limits.SERVER_TIMEOUT_S:
            wrong.append("server_timeout_s")
        if self.microphone_limit_s not in limits.MICROPHONE_LIMIT_S:
            wrong.append("microphone_limit_s")
        if not all(isinstance(key, str) and isinstance(value, str) for key, value in self.hotkeys.items()):
            wrong.append("hotkeys")
        return wrong


def config_dir() -> Path:
    """Where the settings live: ``SEEING_ASSISTANT_CONFIG_DIR``, or the platform's user config folder."""
    return user_folder(CONFIG_ENV, "config")


def settings_path() -> Path:
    """The settings file."""
    return config_dir() / FILE_NAME


def load() -> tuple[Settings, str | None]:
    """The saved settings, or the defaults; the second value is a sentence to show when the file was unusable."""
    path = settings_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), None
    except OSError as error:
        return Settings(), messages.SETTINGS_UNREADABLE.format(path=path, reason=error.strerror or error)
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not an object")
        known = {field.name: field for field in fields(Settings)}
        values: dict[str, Any] = {name: value for name, value in data.items() if name in known}
        if data.get("speak_automatically") is False and "spoken_by" not in data:
            values["spoken_by"] = "none"  # the first version's "Speak answers automatically" turned off
        settings = Settings(**values)
        _check_types(settings)
    except (ValueError, TypeError) as error:
        _keep_broken_copy(path)
        return Settings(), messages.SETTINGS_CORRUPT.format(path=path, reason=str(error)[:80])
    wrong = settings.problems()
    if wrong:
        defaults = Settings()
        for name in wrong:
            setattr(settings, name, getattr(defaults, name))
        return settings, messages.SETTINGS_VALUES_RESET.format(path=path, names=", ".join(wrong))
    return settings, None


_TYPES: dict[str, tuple[type, ...]] = {
    "model": (str,), "device": (str,), "dtype": (str,), "quantize": (str, type(None)), "voice": (str, type(None)),
    "rate": (int, type(None)), "volume": (float, int), "spoken_by": (str,), "earcons": (bool,),
    "hide_window_when_capturing": (bool,), "default_task": (str,), "max_new_tokens": (int,), "hotkeys": (dict,),
    "start_minimised": (bool,), "start_at_login": (bool,), "asr_model": (str,), "image_fit": (str,),
    "screen_text_tokens": (int, type(None)), "answers_from": (str,), "server_url": (str,), "server_model": (str,),
    "server_timeout_s": (int,), "server_ca_file": (str,), "microphone_limit_s": (int,),
}


def _check_types(settings: Settings) -> None:
    """Raise TypeError naming the first value of the wrong kind (true/false is never taken for a number)."""
    for name, allowed in _TYPES.items():
        value = getattr(settings, name)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise TypeError(f"{name} has a value of the wrong kind")
    settings.volume = float(settings.volume)


def _keep_broken_copy(path: Path) -> None:
    """Keep the unreadable file beside the new one, so that nothing the user wrote is lost."""
    with contextlib.suppress(OSError):
        os.replace(path, path.with_name(path.name + ".broken"))


def save(settings: Settings) -> Path:
    """Write the settings atomically (a temporary file renamed over the old one)."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dataclasses.asdict(settings), indent=2) + "\n"
    write_atomically(path, lambda out: out.write(text.encode("utf-8")), is_private=True)
    return path


def autostart_path() -> Path:
    """The XDG autostart entry that starts the app at login (Linux desktops): the app's own launcher."""
    from seeing_assistant.core.launcher import DESKTOP_FILE

    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "autostart" / DESKTOP_FILE


def set_start_at_login(enabled: bool, command: str | list[str]) -> None:
    """Write or remove the autostart entry (only on Linux and other XDG desktops).

    ``command`` is the program's path, or its whole command line as a list.
    """
    import sys

    from seeing_assistant.core.launcher import entry

    if sys.platform in ("win32", "darwin"):
        return
    path = autostart_path()
    path.with_name("seeing-assistant.desktop").unlink(missing_ok=True)  # the first version's name for it
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = entry([command] if isinstance(command, str) else command, autostart=True)
        write_atomically(path, lambda out: out.write(text.encode("utf-8")))  # a session never starts a half entry
    else:
        path.unlink(missing_ok=True)
