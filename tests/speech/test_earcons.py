"""The earcons ship inside the package: a built wheel holds them, and an installed (not editable) app plays them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import wave
import zipfile
from pathlib import Path

from seeing_assistant import speech
from tests.support.cli import NETGUARD

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_the_sounds_and_the_installed_app_plays_an_earcon(tmp_path: Path) -> None:
    # Built from a copy of the project, so that the build leaves nothing in the checkout.
    source = tmp_path / "project"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "artifacts",
                                                                "__pycache__", "tests", "benchmarks"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300,
                           check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("seeing_assistant-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        sounds = {name for name in archive.namelist() if name.endswith(".wav")}
    assert sounds == {f"seeing_assistant/resources/sounds/{name}.wav" for name in speech.EARCONS}
    # Installed as a user's pip would (no source tree beside it), then asked to speak with earcons into a file.
    installed = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(installed), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), str(NETGUARD)])}
    where = subprocess.run([sys.executable, "-c", "import seeing_assistant; print(seeing_assistant.__file__)"],
                           env=env, capture_output=True, text=True, check=True, cwd=tmp_path)
    assert where.stdout.startswith(str(installed))
    for name, earcons in (("with.wav", ["--earcons"]), ("without.wav", [])):
        done = subprocess.run([sys.executable, "-m", "seeing_assistant", "say", "Hello.", "--audio-out",
                               str(tmp_path / name), *earcons], env=env, capture_output=True, text=True,
                              timeout=120, cwd=tmp_path, check=False)
        assert done.returncode == 0, done.stderr
    with wave.open(str(tmp_path / "with.wav")) as with_sounds, wave.open(str(tmp_path / "without.wav")) as plain:
        start = speech.load_earcon("start")
        assert start is not None
        opening = with_sounds.readframes(len(start.data) // 2)
        assert with_sounds.getnframes() > plain.getnframes()
    assert opening == start.data  # the file begins with the start earcon, read from the installed package
