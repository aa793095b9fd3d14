"""The standalone bundle itself (PyInstaller, one folder) under Xvfb: it starts, shows its window, answers with the
tiny model and speaks into the virtual speaker.

The bundle takes minutes to build, so these run when it has been built: ``packaging/pyinstaller/build --test``
builds it and runs them with ``SEEING_ASSISTANT_BUNDLE`` naming its executable. Without that variable they are
skipped, and say so.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from seeing_assistant import speech
from tests.support.audio_lab import Recorder, speech_profile

BUNDLE = os.environ.get("SEEING_ASSISTANT_BUNDLE")
pytestmark = pytest.mark.skipif(not BUNDLE, reason="no bundle built: packaging/pyinstaller/build --test runs these")


def bundle(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    assert BUNDLE
    return subprocess.run([BUNDLE, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False,
                          cwd="/")


def bundle_env(env: dict[str, str]) -> dict[str, str]:
    # Nothing from the source tree or the venv: only the network guard's folder stays off the path too.
    return {name: value for name, value in env.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_the_bundle_reports_and_answers_into_a_wav_file(tiny_model: Path, photo: Path, env: dict[str, str],
                                                        tmp_path: Path) -> None:
    own = bundle_env(env)
    doctor = bundle("doctor", "--model", str(tiny_model), env=own)
    assert doctor.returncode == 0, doctor.stderr[-2000:]
    assert "on disk: yes" in doctor.stdout and "Text recogniser:\n  rapidocr" in doctor.stdout
    wav = tmp_path / "answer.wav"
    described = bundle("describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "12", "--audio-out",
                       str(wav), "--earcons", env=own)
    assert described.returncode == 0, described.stderr[-2000:]
    assert described.stdout.strip()
    duration, loud_share = speech_profile(speech.Pcm.from_wav(wav).data)
    assert duration > 0.5 and loud_share > 0.3


@pytest.mark.audio
@pytest.mark.display
def test_the_bundles_window_answers_and_speaks_into_the_speaker(recorder: Recorder, tiny_model: Path,
                                                                env: dict[str, str], tmp_path: Path) -> None:
    assert BUNDLE
    own = {**bundle_env(env), "SEEING_ASSISTANT_REPORT_STARTUP": "1", "QT_QPA_PLATFORM": "xcb",
           "SEEING_ASSISTANT_CONFIG_DIR": str(tmp_path / "config")}
    app = subprocess.Popen([BUNDLE, "app", "--model", str(tiny_model)], env=own, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, cwd="/")
    try:
        assert app.stdout is not None
        assert app.stdout.readline().startswith("window shown after "), app.stderr.read() if app.stderr else ""
        window = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(app.pid)], env=own,
                                capture_output=True, text=True, timeout=30)
        assert window.stdout.split(), "the bundle showed no window"
        icon = subprocess.run(["xprop", "-id", window.stdout.split()[-1], "_NET_WM_ICON"], env=own,
                              capture_output=True, text=True, timeout=30)
        assert "_NET_WM_ICON(CARDINAL) = " in icon.stdout, "the window has no icon"
        # No wait for the model: the app's worker thread loads it first and answers this request after.
        asked = time.monotonic()
        trigger = bundle("trigger", "describe-screen", env=own, timeout=60)
        assert trigger.returncode == 0, trigger.stderr
        assert recorder.first_loud(asked, timeout=60) is not None, "nothing was heard from the bundle"
        # The start sound first, then the answer, spoken sentence by sentence once the tiny model has written it.
        deadline = time.monotonic() + 60
        while recorder.loud_seconds(asked, time.monotonic()) < 1.0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert recorder.loud_seconds(asked, time.monotonic()) >= 1.0, "the answer was not spoken"
    finally:
        app.terminate()
        try:
            app.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait(timeout=10)
