"""The desktop app's waits: launch to a visible window, and "Describe screen" to the first text of the answer.

    python -m benchmarks.app [--runs 5] [--json FILE]     (needs a display: run it under Xvfb or a desktop)

Launch: the installed command is started ``--runs`` times with a tiny random model; the clock runs from starting the
process to the window reporting that it is shown (``SEEING_ASSISTANT_REPORT_STARTUP``). Describe: in one app,
"Describe screen" is pressed ``--runs`` times after the model has loaded, with the window left on screen (hiding it,
the default, adds 250 ms); the clock runs from the press to the first piece of the answer in the Conversation view.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.qt_wait import finish, run_until
from tests.support.random_models import build_llava


def measure_launch(model: Path, config: Path) -> float:
    """Seconds from starting ``seeing-assistant app`` to the window being shown."""
    command = Path(sys.executable).parent / "seeing-assistant"
    env = dict(os.environ, SEEING_ASSISTANT_REPORT_STARTUP="1", SEEING_ASSISTANT_CONFIG_DIR=str(config))
    started = time.perf_counter()
    process = subprocess.Popen([str(command), "app", "--model", str(model)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    shown = time.perf_counter() - started
    process.terminate()
    process.wait(30)
    if not line.startswith("window shown"):
        raise RuntimeError(f"the app did not report its window: {line!r}")
    return shown


def measure_describe(model: Path, runs: int) -> list[float]:
    """Seconds from pressing Describe screen to the first text, ``runs`` times in one app."""
    from PySide6.QtWidgets import QApplication

    from seeing_assistant import speech
    from seeing_assistant.core import settings
    from seeing_assistant.core.factories import load_engine
    from seeing_assistant.desktop.main_window import MainWindow

    _application = QApplication.instance() or QApplication([])
    # The window stays in the picture: under Xvfb there is nothing else, and a blank screen is answered without
    # the model. Hiding it (the default) adds its 250 ms wait before the grab.
    window = MainWindow(settings.Settings(model=str(model), max_new_tokens=8, hide_window_when_capturing=False),
                        factory=load_engine,
                        speaker=speech.SilentSpeaker(), save_settings=False)
    window.show()
    first_text: list[float] = []
    pressed = 0.0
    window.answers.worker.chunk.connect(
        lambda *_: first_text.append(time.perf_counter() - pressed) if len(first_text) < 1 else None)

    wait = run_until

    wait(lambda: window.status.text().startswith("Model ready"))
    times = []
    for _ in range(runs):
        first_text.clear()
        pressed = time.perf_counter()
        window.screen_button.click()
        wait(lambda: bool(first_text))
        times.append(first_text[0])
        wait(lambda: window.answers.answering_id is None)
    window.close()
    return times


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        model = build_llava(Path(folder) / "tiny")
        config = Path(folder) / "config"
        launches = [measure_launch(model, config) for _ in range(args.runs)]
        describes = measure_describe(model, args.runs)
    report = {
        "runs": args.runs,
        "launch_to_window_s": {"median": statistics.median(launches), "all": launches},
        "describe_screen_to_first_text_s": {"median": statistics.median(describes), "all": describes},
    }
    print(f"launch to visible window, median of {args.runs}: {report['launch_to_window_s']['median']:.3f} s")
    print(f"Describe screen to first text (tiny model, window not hidden), median of {args.runs}: "
          f"{report['describe_screen_to_first_text_s']['median']:.3f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    finish(main())
