"""From the Describe-screen hotkey to the first text and to the first sound.

    python -m benchmarks.hotkey [--runs 5] [--json FILE]     (needs an X display, xdotool, pulseaudio)

The app runs in this process with a tiny random model, its real speaker playing into a private PulseAudio virtual
speaker that is recorded in 5 ms blocks. ``xdotool key ctrl+alt+shift+s`` is sent ``--runs`` times; the clock starts
just before it and stops at the first piece of the answer in the Conversation view, and at the first loud block of
the recording. The tiny model writes no full stops, so its first spoken chunk is the whole 24-token answer: the
sound figure includes generating all of it. The window stays on screen (hiding it, the default, adds 250 ms;
under Xvfb there would be nothing else to describe).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.audio_lab import PrivatePulse, Recorder
from tests.support.qt_wait import finish, run_until
from tests.support.random_models import build_llava


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, PrivatePulse() as pulse:
        os.environ.update(pulse.env)
        os.environ["SEEING_ASSISTANT_CONFIG_DIR"] = str(Path(folder) / "config")
        model = build_llava(Path(folder) / "tiny")
        from PySide6.QtWidgets import QApplication

        from seeing_assistant.core import settings
        from seeing_assistant.core.factories import load_engine
        from seeing_assistant.desktop.main_window import MainWindow

        _application = QApplication.instance() or QApplication([])  # kept alive while the window runs
        window = MainWindow(settings.Settings(model=str(model), max_new_tokens=24, hide_window_when_capturing=False,
                                              earcons=False),
                            factory=load_engine, save_settings=False, use_hotkeys=True)
        window.show()
        first_text: list[float] = []
        window.answers.worker.chunk.connect(lambda *_: first_text.append(time.monotonic()))

        wait = run_until

        wait(lambda: window.status.text().startswith("Model ready"))
        if window.hotkeys is None or window.hotkeys.problems:
            raise RuntimeError(f"hotkeys are not working: {window.hotkeys and window.hotkeys.problems}")
        to_text, to_sound = [], []
        with Recorder(pulse) as recorder:
            for _ in range(args.runs):
                window.stop()
                wait(lambda: window.voice.speaker.wait(0))
                time.sleep(0.5)
                first_text.clear()
                pressed = time.monotonic()
                subprocess.run(["xdotool", "key", "ctrl+alt+shift+s"], check=True, timeout=10)
                wait(lambda: bool(first_text))
                to_text.append(first_text[0] - pressed)
                def heard(after: float = pressed) -> bool:
                    return recorder.first_loud(after, timeout=0) is not None

                wait(heard, timeout=30)
                sound = recorder.first_loud(pressed, timeout=0)
                assert sound is not None
                to_sound.append(sound - pressed)
                wait(lambda: window.answers.answering_id is None)
        window.quit()
        report = {
        "runs": args.runs,
        "key_to_first_text_s": {"median": statistics.median(to_text), "all": to_text},
        "key_to_first_sound_s": {"median": statistics.median(to_sound), "all": to_sound},
    }
    print(f"hotkey to first text, median of {args.runs}: {report['key_to_first_text_s']['median']:.3f} s")
    print(f"hotkey to first sound, median of {args.runs}: {report['key_to_first_sound_s']['median']:.3f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    finish(main())
