"""Which model server the app answers from, and its API key, kept in the system keyring and nowhere else.

The key never goes into ``settings.json`` and is never printed. Where there is no keyring (a desktop without GNOME
Keyring, KWallet, the Windows Credential Manager or the macOS Keychain), it is kept in memory until the app closes,
and the user is told so once. On the command line the key comes from an environment variable the user names
(``--api-key-env``), so that it stays out of the shell's history and the process list.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

from seeing_assistant.core import messages
from seeing_assistant.core.engine_settings import DEFAULT_READ_TIMEOUT_S, ServerSettings, normalised
from seeing_assistant.core.errors import BadInputError, ServerError

SERVICE = "seeing-assistant"  # the keyring's service name; each key is filed under the server's address
LOCAL = "local"
SERVER = "server"
ANSWERS_FROM_CHOICES = (LOCAL, SERVER)  # where answers come from: the model loaded here, or a model server

_memory: dict[str, str] = {}  # keys kept for this run only, where there is no keyring
_memory_lock = threading.Lock()


def _account(url: str) -> str:
    try:
        return normalised(url)
    except ServerError:
        return url.strip()


def _keyring() -> Any | None:
    """The system keyring, or None where there is none that can keep a secret."""
    try:
        import keyring
        from keyring.backends import chainer, fail

        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a broken keyring setup is no keyring
        return None
    if isinstance(backend, fail.Keyring) or (isinstance(backend, chainer.ChainerBackend) and not backend.backends):
        return None
    return backend


def has_keyring() -> bool:
    """Whether a key saved now survives the app's restart."""
    return _keyring() is not None


def remember_for_this_run(url: str, key: str) -> None:
    """Use ``key`` for the server at ``url`` until the app closes, without saving it (``app --api-key-env``)."""
    with _memory_lock:
        _memory[_account(url)] = key


def api_key(url: str) -> str | None:
    """The key for the server at ``url``: this run's own, else the one in the keyring; None when there is none."""
    account = _account(url)
    with _memory_lock:
        remembered = _memory.get(account)
    if remembered:
        return remembered
    backend = _keyring()
    if backend is not None:
        try:
            key: str | None = backend.get_password(SERVICE, account)
        except Exception:  # noqa: BLE001 - a locked or broken keyring: fall back to this run's memory
            key = None
        return key or None
    return None


def save_api_key(url: str, key: str) -> str | None:
    """Keep ``key`` for the server at ``url`` (an empty key forgets it); a sentence when it lasts only this run."""
    account = _account(url)
    backend = _keyring()
    with _memory_lock:
        _memory.pop(account, None)
    if backend is not None:
        try:
            if key:
                backend.set_password(SERVICE, account, key)
            else:
                with contextlib.suppress(Exception):  # nothing was saved: nothing to forget
                    backend.delete_password(SERVICE, account)
            return None
        except Exception:  # noqa: BLE001 - a locked or broken keyring: keep it for this run, and say so
            pass
    if key:
        with _memory_lock:
            _memory[account] = key
        return messages.NO_KEYRING
    return None


def of_settings(chosen: Any) -> ServerSettings | None:
    """The server the app's Settings choose, with its key from the keyring; None when answers are local."""
    if getattr(chosen, "answers_from", LOCAL) != SERVER or not chosen.server_url.strip():
        return None
    return ServerSettings(url=chosen.server_url, model=chosen.server_model, api_key=api_key(chosen.server_url),
                          read_timeout_s=chosen.server_timeout_s, ca_file=chosen.server_ca_file)


def of_args(args: Any) -> ServerSettings | None:
    """The server named by ``--server`` (its key from the variable ``--api-key-env`` names); None without one."""
    url = getattr(args, "server", None)
    if not url:
        if getattr(args, "server_model", None) or getattr(args, "api_key_env", None):
            raise BadInputError(messages.SERVER_MODEL_WITHOUT_SERVER)
        return None
    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise BadInputError(messages.API_KEY_VARIABLE_UNSET.format(name=args.api_key_env))
    normalised(url)  # a malformed address is refused before anything starts
    return ServerSettings(url=url, model=args.server_model or "", api_key=key,
                          read_timeout_s=args.server_timeout or DEFAULT_READ_TIMEOUT_S,
                          ca_file=args.server_ca_file or "")
