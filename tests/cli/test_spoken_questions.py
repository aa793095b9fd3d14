"""Spoken questions from the command line: `transcribe`, and `describe --question-audio`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from seeing_assistant.core import messages
from tests.support.cli import run_cli


def test_transcribe_command(tiny_whisper: Path, spoken: Path, tmp_path: Path, env: dict[str, str]) -> None:
    done = run_cli(["transcribe", str(spoken), "--asr-model", str(tiny_whisper), "--json"], env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["text"] and result["audio_s"] == pytest.approx(1.9, abs=0.5) and result["real_time_factor"] > 0
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(os.urandom(300))
    bad = run_cli(["transcribe", str(corrupt), "--asr-model", str(tiny_whisper)], env)
    assert bad.returncode == 2
    assert bad.stderr == f"seeing-assistant: error: {messages.NOT_AUDIO.format(source=corrupt)}\n"
    missing = run_cli(["transcribe", str(spoken)], env)
    assert missing.returncode == 3 and "seeing-assistant download --asr" in missing.stderr


def test_describe_with_a_spoken_question(tiny_whisper: Path, tiny_model: Path, spoken: Path, photo: Path,
                                         env: dict[str, str]) -> None:
    done = run_cli(["describe", str(photo), "--model", str(tiny_model), "--question-audio", str(spoken),
                    "--asr-model", str(tiny_whisper), "--max-new-tokens", "6", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("You asked: ")

    assert json.loads(done.stdout)["question"] == done.stderr.removeprefix("You asked: ").strip()
