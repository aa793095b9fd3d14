"""Atomic writes on the real file system: the old file survives a failed write, the data reaches the disk, the
permissions are as promised, and the process umask is never touched."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from seeing_assistant.core.files import write_atomically


@pytest.fixture
def umask_027() -> Iterator[int]:
    """Run the test under umask 027 (group may read, others nothing), then put the previous one back."""
    previous = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path, name: str) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir() if entry.name != name)


def test_a_failed_write_leaves_the_old_file_whole_and_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    target.write_bytes(b'{"voice": "en"}\n')

    def half_then_fail(out: BinaryIO) -> None:
        out.write(b'{"voi')
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, half_then_fail, is_private=True)
    assert target.read_bytes() == b'{"voice": "en"}\n'
    assert leftovers(tmp_path, target.name) == []


def test_a_failed_flush_to_the_disk_leaves_the_old_file_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "answer.wav"
    target.write_bytes(b"old")

    def broken_disk(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_disk)
    with pytest.raises(OSError, match="Input/output"):
        write_atomically(target, lambda out: out.write(b"new and longer"))
    assert target.read_bytes() == b"old" and leftovers(tmp_path, target.name) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc to see what was flushed")
def test_the_file_and_then_its_folder_are_flushed_to_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync
    flushed: list[tuple[str, bytes | None]] = []

    def recording_fsync(descriptor: int) -> None:
        opened = Path(os.readlink(f"/proc/self/fd/{descriptor}"))
        flushed.append((str(opened), opened.read_bytes() if opened.is_file() else None))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    target = tmp_path / "settings.json"
    write_atomically(target, lambda out: out.write(b"complete"))
    assert len(flushed) == 2, flushed
    (file_path, file_bytes), (folder_path, _) = flushed
    assert file_path.startswith(str(tmp_path / ".settings.json.")) and file_bytes == b"complete"  # before the rename
    assert folder_path == str(tmp_path)  # after it: the new name is on the disk
    assert target.read_bytes() == b"complete"


def test_the_umask_is_never_changed_and_the_modes_follow_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             umask_027: int) -> None:
    def no_umask(mask: int) -> int:
        raise AssertionError("os.umask was called: another thread's new file would get the wrong permissions")

    monkeypatch.setattr(os, "umask", no_umask)
    shared, private = tmp_path / "answer.wav", tmp_path / "settings.json"
    write_atomically(shared, lambda out: out.write(b"sound"))
    write_atomically(private, lambda out: out.write(b"secret"), is_private=True)
    monkeypatch.undo()
    assert mode_of(shared) == 0o666 & ~umask_027 == 0o640
    assert mode_of(private) == 0o600
    assert os.umask(umask_027) == umask_027  # still what the fixture set


def test_a_private_file_stays_private_when_it_replaces_a_readable_one(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    target.write_bytes(b"{}")
    target.chmod(0o644)
    write_atomically(target, lambda out: out.write(b'{"server_url": "https://gpu-box"}'), is_private=True)
    assert mode_of(target) == 0o600 and target.read_bytes() == b'{"server_url": "https://gpu-box"}'
