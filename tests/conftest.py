"""Fixtures: a tiny random LLaVA-1.5 built offline, an isolated Hugging Face cache, and a network guard."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from seeing_assistant.desktop import qt_exit
from tests.support.audio_lab import SPOKEN_QUESTION, PrivatePulse, Recorder
from tests.support.cli import cli_env
from tests.support.model_server import ModelServer
from tests.support.netguard.sitecustomize import refuse_internet
from tests.support.random_models import build_llava
from tests.support.speech_dispatcher import PrivateSpeechDispatcher


@pytest.fixture(scope="session")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A question spoken by eSpeak NG (22,050 Hz mono WAV)."""
    path = tmp_path_factory.mktemp("audio") / "question.wav"
    subprocess.run(["espeak-ng", "-w", str(path), SPOKEN_QUESTION], check=True, timeout=60)
    return path


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random Whisper with a byte-level tokenizer, saved like a downloaded one."""
    from tests.support.random_models import build_whisper

    return build_whisper(tmp_path_factory.mktemp("models") / "tiny-whisper")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random LLaVA-1.5-shaped model (real classes, 336 px, 576 image tokens) saved to a folder."""
    return build_llava(tmp_path_factory.mktemp("models") / "tiny-llava")


@pytest.fixture(scope="session")
def llava_server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """A real model server (``transformers serve`` on 127.0.0.1) serving the tiny LLaVA, shared by the tests."""
    with ModelServer(tiny_model, tmp_path_factory.mktemp("llava-server")) as server:
        yield server


@pytest.fixture(autouse=True)
def offline_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test sees an empty Hugging Face cache of its own and the hub in offline mode."""
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # huggingface_hub reads the cache location once, at import; point an already imported one here too.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(home / "hub"))
    return home


@pytest.fixture(autouse=True)
def own_desktop_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's desktop session: a screen reader running there must not change what is tested.

    The address points nowhere rather than being unset: unset, libdbus starts a session bus of its own through the X
    server (``dbus-launch --autolaunch``), left running after the tests, and once a window's screen-reader watcher
    hung for minutes connecting to one. Tests that need a bus start their own (``dbus-run-session``).
    """
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/seeing-assistant-tests-have-no-session-bus")


@pytest.fixture(autouse=True)
def no_network() -> Iterator[list[object]]:
    """Fail the test if anything in this process tries to open an internet connection."""
    attempts: list[object] = []
    undo = refuse_internet(attempts.append)
    yield attempts
    undo()
    assert not attempts, f"the test tried to reach the network: {attempts}"


@pytest.fixture
def netguard_log(tmp_path: Path) -> Iterator[Path]:
    """A log of the app process's connection attempts; the test fails if any were made."""
    log = tmp_path / "netguard.log"
    yield log
    attempts = log.read_text() if log.exists() else ""
    assert not attempts, f"the app tried to reach the network: {attempts}"


@pytest.fixture
def env(netguard_log: Path, offline_hub: Path) -> dict[str, str]:
    """The environment for running the installed command under the network guard."""
    return cli_env(netguard_log)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small picture with shapes and text, like a user's photo."""
    image = Image.new("RGB", (800, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((50, 50, 400, 300), fill="navy")
    draw.ellipse((450, 100, 700, 350), fill="orange")
    draw.text((60, 420), "Hello, world", fill="black")
    path = tmp_path / "photo.png"
    image.save(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def audio_server() -> Iterator[PrivatePulse]:
    """A private PulseAudio server with a virtual speaker and microphone, the default for this process and its
    children from the start, so that Qt Multimedia never meets another (or none) first."""
    with PrivatePulse() as pulse:
        saved = {name: os.environ.get(name) for name in pulse.env}
        os.environ.update(pulse.env)
        yield pulse
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def recorder(audio_server: PrivatePulse) -> Iterator[Recorder]:
    with Recorder(audio_server) as recording:
        yield recording


@pytest.fixture
def speechd(audio_server: PrivatePulse, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateSpeechDispatcher]:
    """A private speech-dispatcher (the screen reader's speech queue) on its own virtual speaker, for this test."""
    with PrivateSpeechDispatcher(audio_server) as server:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def no_audio_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The app's environment on a computer with no sound server at all."""
    config = tmp_path / "pulse-client.conf"
    config.write_text("autospawn = no\n")
    return {**env, "PULSE_SERVER": f"unix:{tmp_path / 'no-such-socket'}", "PULSE_CLIENTCONFIG": str(config)}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete the windows the tests left while the application exists (see :mod:`seeing_assistant.desktop.qt_exit`)."""
    qt_exit.release()
