"""Writing a file so that it is never half-written: a temporary file in the same folder, renamed over the target."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, write: Callable[[BinaryIO], object], is_private: bool = False) -> None:
    """Call ``write`` with a binary file that becomes ``path`` only once it is complete.

    ``is_private``: readable by this user only (0600); otherwise permissions are as the umask says.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        if not is_private:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask
