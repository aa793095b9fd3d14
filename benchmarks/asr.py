"""Spoken questions: the recogniser's real-time factor, and the wait from releasing the key to the transcript.

    python -m benchmarks.asr [--runs 5] [--json FILE]     (needs an X display, pulseaudio, espeak-ng)

The question "What colour is the big button on the screen?" is spoken by eSpeak NG. Two random-weight Whispers are
built offline: "tiny" (the tests' model) and "base" (whisper-base.en's shape, 74 M parameters). For each:

- real-time factor: transcription time / audio length through the transformers pipeline, with exactly 20 tokens
  written (random weights would stop at random places otherwise);
- key release to transcript: in the running app, recording starts (as F2 does), the question is played into a
  private PulseAudio virtual microphone, recording stops (F2 released), and the clock runs until the transcript
  (again exactly 20 tokens) is back on the window's thread.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.audio_lab import PrivatePulse
from tests.support.fakes import ScriptedEngine
from tests.support.qt_wait import finish, run_until
from tests.support.random_models import build_whisper

from benchmarks.engine import summary

QUESTION = "What colour is the big button on the screen?"


def real_time_factors(model: Path, audio_path: Path, runs: int) -> list[float]:
    """Transcription time over audio length, ``runs`` times after one warm-up."""
    from seeing_assistant.core import asr

    recognizer = asr.Recognizer.load(str(model))
    audio = asr.load_wav(audio_path)
    factors = []
    for index in range(runs + 1):
        started = time.perf_counter()
        recognizer.pipeline({"raw": audio.samples, "sampling_rate": asr.RATE},
                            generate_kwargs={"min_new_tokens": 20, "max_new_tokens": 20})
        if index:
            factors.append((time.perf_counter() - started) / audio.duration_s)
    return factors


def release_to_transcript(model: Path, audio_path: Path, pulse: PrivatePulse, runs: int) -> list[float]:
    """Seconds from stopping the recording to the transcript, in the app, ``runs`` times."""
    from PySide6.QtWidgets import QApplication

    from seeing_assistant import speech
    from seeing_assistant.core import settings
    from seeing_assistant.core.asr import Recognizer
    from seeing_assistant.desktop.main_window import MainWindow

    _application = QApplication.instance() or QApplication([])

    class TwentyTokens:
        """The app's recogniser, made to write exactly 20 tokens (random weights do not stop by themselves)."""

        def __init__(self, name: str) -> None:
            self.recognizer = Recognizer.load(name)

        def transcribe(self, audio: Any) -> Any:
            return self.recognizer.transcribe(audio, max_new_tokens=20, min_new_tokens=20)

    # The engine is scripted: only the recogniser is measured.
    window = MainWindow(settings.Settings(asr_model=str(model)), factory=lambda _: ScriptedEngine(),
                        recognizer_factory=TwentyTokens, speaker=speech.SilentSpeaker(), save_settings=False)
    window.show()

    wait = run_until

    wait(lambda: window.status.text().startswith("Model ready"))
    waits = []
    for _ in range(runs + 1):  # the first run loads the recogniser (in the background) and warms it up
        window.listener.last_transcribe_wait_s = None
        window.listener.start()
        player = subprocess.Popen(["paplay", "-d", "vmic_feed", str(audio_path)], env={**os.environ, **pulse.env})
        def played(process: subprocess.Popen[bytes] = player) -> bool:
            return process.poll() is not None

        wait(played)
        window.listener.finish()
        wait(lambda: window.listener.last_transcribe_wait_s is not None)
        waits.append(window.listener.last_transcribe_wait_s or 0.0)
        window.stop()
    window.close()
    return waits[1:]


def main(argv: list[str] | None = None) -> int:
    """Measure both models and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"runs": args.runs, "question": QUESTION}
    with tempfile.TemporaryDirectory() as folder, PrivatePulse() as pulse:
        os.environ.update(pulse.env)
        os.environ["SEEING_ASSISTANT_CONFIG_DIR"] = str(Path(folder) / "config")
        audio_path = Path(folder) / "question.wav"
        subprocess.run(["espeak-ng", "-w", str(audio_path), QUESTION], check=True)
        for shape in ("tiny", "base"):
            model = build_whisper(Path(folder) / shape, shape=shape)
            factors = real_time_factors(model, audio_path, args.runs)
            waits = release_to_transcript(model, audio_path, pulse, args.runs)
            report[shape] = {"real_time_factor": summary(factors), "release_to_transcript_s": summary(waits)}
            print(f"{shape}: real-time factor {report[shape]['real_time_factor']['median']:.3f}, key release to "
                  f"transcript {report[shape]['release_to_transcript_s']['median']:.3f} s (medians of {args.runs})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    finish(main())
