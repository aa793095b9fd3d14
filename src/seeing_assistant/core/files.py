"""Writing a file so that it is never half-written: a temporary file in the same folder, renamed over the target.

The data and the rename are both flushed to the disk (the file, then its folder), so that a power cut leaves the old
file or the new one, never an empty one. The process umask is never changed: another thread creating a file at the
same moment would get the wrong permissions.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

APP_NAME = "seeing-assistant"  # the folder's name under the platform's user folders


def user_folder(override_env: str, kind: str) -> Path:
    """The app's ``kind`` of folder ("config" or "log"): the ``override_env`` variable, or the platform's own."""
    configured = os.environ.get(override_env)
    if configured:
        return Path(configured)
    import platformdirs

    if kind == "log":
        return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))

PRIVATE_MODE = 0o600  # a file only this user may read, such as settings.json (it may name a server's address)
SHARED_MODE = 0o666  # less what the umask removes, as for any file a program creates
_NAME_TRIES = 16  # a random name is taken by another file this many times in a row only if something is wrong


def write_atomically(path: Path, write: Callable[[BinaryIO], object], is_private: bool = False) -> None:
    """Call ``write`` with a binary file that becomes ``path`` only once it is complete and on the disk.

    ``is_private``: readable by this user only (0600 at most); otherwise 0666 less the umask, as a new file gets.
    """
    # The kernel applies the umask to the mode given to open(2): no need to read it, and no need to flip it.
    temporary, handle = _create_beside(path, PRIVATE_MODE if is_private else SHARED_MODE)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _create_beside(path: Path, mode: int) -> tuple[Path, int]:
    """A new, empty temporary file in ``path``'s folder (created, never opened if it was there), and its descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_NAME_TRIES):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        try:
            return temporary, os.open(temporary, flags, mode)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry for the renamed file, where the system lets a folder be opened (not on Windows)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        # Some network and FUSE file systems cannot flush a folder (EINVAL): the new file is in place all the same.
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
