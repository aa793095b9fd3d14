"""The local channel that `seeing-assistant trigger ACTION` and a second launch use to reach the running app."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from seeing_assistant.desktop import instance

pytestmark = pytest.mark.display


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # A short folder of its own: a Unix socket path must stay under about 100 characters.
    with tempfile.TemporaryDirectory(prefix="sa-run-") as folder:
        monkeypatch.setenv("XDG_RUNTIME_DIR", folder)
        yield Path(folder)


@pytest.fixture
def received(qtbot: QtBot, runtime_dir: Path) -> Iterator[list[str]]:
    actions: list[str] = []
    server = instance.InstanceServer(actions.append)
    assert server.listen()
    assert server.path == str(runtime_dir / "seeing-assistant.sock")
    yield actions
    server.close()


def send_while_listening(qtbot: QtBot, env: dict[str, str], action: str) -> str | None:
    """Send from another process, as `trigger` does, while this process's event loop lets the server answer.

    (send() blocks; PySide keeps Python's lock while it waits, so a thread here would starve the server.)
    """
    code = f"from seeing_assistant.desktop import instance; print(instance.send({action!r}))"
    sender = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**env, "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"]})
    qtbot.waitUntil(lambda: sender.poll() is not None, timeout=30000)
    out, _ = sender.communicate()
    reply = out.strip()
    return None if reply == "None" else reply


def test_a_known_action_reaches_the_running_app_and_is_acknowledged(
        qtbot: QtBot, env: dict[str, str], received: list[str]) -> None:
    assert send_while_listening(qtbot, env, "stop") == "ok"
    assert received == ["stop"]


def test_an_unknown_action_is_answered_with_an_error_and_not_handled(
        qtbot: QtBot, env: dict[str, str], received: list[str]) -> None:
    reply = send_while_listening(qtbot, env, "make-coffee")
    assert reply == "error: unknown action 'make-coffee'"
    assert received == []


def test_an_error_sentence_from_the_app_is_passed_back(
        qtbot: QtBot, env: dict[str, str], runtime_dir: Path) -> None:
    server = instance.InstanceServer(lambda action: "There is no answer to repeat yet.")
    assert server.listen()
    try:
        assert send_while_listening(qtbot, env, "stop") == "error: There is no answer to repeat yet."
    finally:
        server.close()


def test_sending_when_no_app_is_running_gives_nothing(qtbot: QtBot, runtime_dir: Path) -> None:
    assert instance.send("stop", timeout_ms=500) is None
