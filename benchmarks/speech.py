"""Speech latency, measured from recordings of a private virtual speaker.

    python -m benchmarks.speech [--runs 7] [--json out.json]

For the app's speaker (pyttsx3 per sentence, played through a Qt audio sink) it measures, over ``--runs`` runs:

- first sentence to sound: a slow stream of text (one word every 80 ms, like a slow model) is fed in; the clock
  starts when the piece that completes the first sentence is fed, and stops when the first loud 5 ms block of the
  recording arrives. It also checks that this happens before the stream has ended.
- stop to silence: while a long text is being spoken, ``stop()`` is called in the middle of a word (the newest
  recorded block is loud); the time from the call to the last loud block.

For comparison, pyttsx3's own ``say()`` (its Linux driver synthesises the whole text, then plays it with aplay) is
timed the same way in a child process: from ``say()`` of the whole text to the first sound, and from
``engine.stop()`` to silence. That is why the app does not use ``say()``.

Needs pulseaudio, pulseaudio-utils (parec) and, for the comparison, alsa-utils (aplay): ``scripts/install --test``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from typing import Any

from tests.support.audio_lab import PrivatePulse, Recorder

FIRST_SENTENCE = "The window shows a settings page with a list of options on the left."
REST = (
    "The selected option is Display, and the right side has a slider for brightness. "
    "Below it there is a button labelled Apply."
)
LONG_TEXT = (
    "This is a long answer that keeps going so that it can be stopped in the middle of a sentence, "
    "and it goes on for quite a while longer, describing one thing after another, until somebody says stop."
)
WORD_GAP_S = 0.08


def _words(text: str) -> list[str]:
    return [word + " " for word in text.split()]


def measure_streaming(recorder: Recorder, speaker: Any) -> dict[str, float | bool]:
    """One run of the slow stream: first complete sentence to first sound, and whether sound came before the end."""
    speaker.stop()
    time.sleep(0.3)
    first_complete = 0.0
    for word in _words(FIRST_SENTENCE):
        time.sleep(WORD_GAP_S)
        speaker.feed(word)
    first_complete = time.monotonic()
    for word in _words(REST):
        time.sleep(WORD_GAP_S)
        speaker.feed(word)
    stream_end = time.monotonic()
    speaker.finish()
    first_sound = recorder.first_loud(first_complete)
    if first_sound is None:
        raise RuntimeError("no sound was recorded")
    speaker.wait(30)
    return {"first_sentence_to_sound_s": first_sound - first_complete,
            "sound_before_stream_end": first_sound < stream_end,
            "stream_s": stream_end - first_complete}


def measure_stop(recorder: Recorder, speaker: Any) -> float:
    """One run: speak, stop in the middle of a word after a second of sound; return the time to silence.

    That is the time from stop() to the arrival of the last loud block (at most one 5 ms block late; 0 when no
    loud block arrived after the call).
    """
    speaker.say(LONG_TEXT)
    start = time.monotonic()
    first_sound = recorder.first_loud(start)
    if first_sound is None:
        raise RuntimeError("no sound was recorded")
    time.sleep(1.0)
    if not recorder.wait_until_loud_now():
        raise RuntimeError("the speech went quiet before it could be stopped")
    stopped = time.monotonic()
    speaker.stop()
    time.sleep(1.0)
    last = recorder.last_loud(stopped - 1.0, stopped + 1.0)
    if last is None:
        raise RuntimeError("no sound was recorded before the stop")
    return max(0.0, last - stopped)


_SAY_CHILD = textwrap.dedent("""\
    import sys, threading, time, pyttsx3
    engine = pyttsx3.init()
    engine.say(" ")  # the first runAndWait() returns at once and plays nothing; it plays during the next one
    engine.runAndWait()
    text, stop_after = sys.argv[1], float(sys.argv[2])
    if stop_after > 0:
        def stopper():
            time.sleep(stop_after)
            print("stop", time.monotonic(), flush=True)
            engine.stop()
        threading.Thread(target=stopper, daemon=True).start()
    print("say", time.monotonic(), flush=True)
    engine.say(text)
    engine.runAndWait()
    print("end", time.monotonic(), flush=True)
""")


def measure_pyttsx3_say(recorder: Recorder, pulse: PrivatePulse, stop_after: float) -> dict[str, float | bool]:
    """One run of pyttsx3's own say() in a child process; stop_after > 0 calls engine.stop() that long after.

    A child that has not finished 20 s after it started is killed and counted as hung.
    """
    env = dict(os.environ, **pulse.env)
    child = subprocess.Popen([sys.executable, "-c", _SAY_CHILD, LONG_TEXT, str(stop_after)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    hung = False
    try:
        output, _ = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        hung = True
        child.kill()
        output, _ = child.communicate()
    finished = time.monotonic()
    stamps = dict(line.split() for line in output.splitlines() if line.split()[0] in ("say", "stop", "end"))
    said = float(stamps["say"])
    time.sleep(0.3)
    first = recorder.first_loud(said, timeout=1)
    result: dict[str, float | bool] = {"say_to_sound_s": (first - said) if first else float("nan"), "hung": hung}
    if "stop" in stamps:
        stopped = float(stamps["stop"])
        last = recorder.last_loud(stopped - 1.0, finished + 1.0)
        result["stop_to_silence_s"] = max(0.0, last - stopped) if last else float("nan")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print (and optionally save) the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--skip-baseline", action="store_true", help="do not time pyttsx3's own say()")
    args = parser.parse_args(argv)

    with PrivatePulse() as pulse:
        os.environ.update(pulse.env)
        from seeing_assistant import speech

        speaker = speech.open_speaker()
        with Recorder(pulse) as recorder:
            streaming = [measure_streaming(recorder, speaker) for _ in range(args.runs)]
            stops = [measure_stop(recorder, speaker) for _ in range(args.runs)]
            speaker.close()
            baseline_first: list[float] = []
            baseline_stop: list[float] = []
            baseline_hung = 0
            if not args.skip_baseline:
                for _ in range(min(args.runs, 3)):
                    baseline_first.append(float(measure_pyttsx3_say(recorder, pulse, 0)["say_to_sound_s"]))
                    stopped = measure_pyttsx3_say(recorder, pulse, 1.5)
                    baseline_stop.append(float(stopped["stop_to_silence_s"]))
                    baseline_hung += bool(stopped["hung"])

    firsts = [float(run["first_sentence_to_sound_s"]) for run in streaming]
    report: dict[str, Any] = {
        "runs": args.runs,
        "word_gap_s": WORD_GAP_S,
        "app": {
            "first_sentence_to_sound_s": {"median": statistics.median(firsts), "all": firsts},
            "sound_before_stream_end": all(bool(run["sound_before_stream_end"]) for run in streaming),
            "stream_after_first_sentence_s": statistics.median(float(run["stream_s"]) for run in streaming),
            "stop_to_silence_s": {"median": statistics.median(stops), "all": stops},
        },
    }
    if baseline_first:
        report["pyttsx3_say"] = {
            "say_to_sound_s": {"median": statistics.median(baseline_first), "all": baseline_first},
            "stop_to_silence_s": {"median": statistics.median(baseline_stop), "all": baseline_stop},
            "stop_hung_runs": baseline_hung,
        }
    print(f"app: first sentence to sound, median of {args.runs}: "
          f"{report['app']['first_sentence_to_sound_s']['median'] * 1000:.0f} ms "
          f"(sound before the stream ended: {report['app']['sound_before_stream_end']}; the stream ran "
          f"{report['app']['stream_after_first_sentence_s']:.1f} s more)")
    print(f"app: stop to silence, median of {args.runs}: {report['app']['stop_to_silence_s']['median'] * 1000:.0f} ms")
    if baseline_first:
        print(f"pyttsx3 say(): whole text to sound, median of {len(baseline_first)}: "
              f"{report['pyttsx3_say']['say_to_sound_s']['median'] * 1000:.0f} ms; stop to silence: "
              f"{report['pyttsx3_say']['stop_to_silence_s']['median'] * 1000:.0f} ms; stop() hung "
              f"{baseline_hung} of {len(baseline_stop)} times")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
