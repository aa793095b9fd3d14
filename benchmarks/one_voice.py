"""One voice at a time: the installed app next to the real Orca, scripted as a blind user would use it.

    python -m benchmarks.one_voice [--json out.json] [--tokens 90] [--orca 43|48]

``--orca 43`` (the default) is the host's Orca (Debian 12's 43.1); ``--orca 48`` is Debian 13's Orca 48.1, from a root
built once with mmdebstrap and kept (see :func:`tests.support.orca_desktop.orca_48_root`; needs root).

Everything runs privately and is stopped by PID: an Xvfb (a free display found with ``-displayfd``), a D-Bus session
(``dbus-run-session``), a PulseAudio server with two virtual speakers (``vspeaker``, the default, where the app's own
voice plays; ``screen_reader_speaker``, where speech-dispatcher plays), a speech-dispatcher, and Orca itself
(``orca --replace --debug-file``) with a private HOME, so that no user's settings are read or changed. Both Orca
and the app reach speech-dispatcher through a small SSIP relay in this process, which logs every message (its text,
who sent it, and when speech-dispatcher began, ended or cancelled it) without changing a byte.

The installed app (a tiny random model; answers are gibberish, only their timing and routing matter) is run twice,
each time fresh: with ``spoken_by`` "app" (its own voice on vspeaker) and "auto" (Orca runs, so answers go through
speech-dispatcher). Each run: focus the window; ``trigger repeat`` before any answer (an error); ``trigger
describe-screen`` and wait for the answer to be spoken; a second describe-screen, ``trigger stop`` in the middle of
its speech; ``trigger quit``. A picture is on the screen so that the capture is not blank.

Measured per run:

1. overlap: seconds during which both virtual speakers were loud at once (5 ms blocks), and in "auto" also whether
   any sentence was spoken twice (the same text begun twice by speech-dispatcher, or said both by the app and Orca);
2. Orca's utterances (``SPEECH OUTPUT`` lines of its debug log) from the describe-screen trigger to the first text
   of the answer (the first text-insertion event Orca logged from the app after the trigger, else the first answer
   sentence heard);
3. how each status was heard: in Orca's speech, in the app's own voice (vspeaker loud just after it), or through
   speech-dispatcher's queue (the relay's log, with whether it was begun, ended or cancelled).

Prints a markdown table and writes JSON. Needs xvfb, dbus, orca, speech-dispatcher(-espeak-ng), pulseaudio(-utils)
and xdotool.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.audio_lab import BLOCK_SAMPLES, LOUD_RMS, RATE, Recorder, _die_with_parent
from tests.support.cli import COMMAND
from tests.support.orca_desktop import (
    Desktop,
    SsipRelay,
    orca_48_root,
    orca_log,
    orca_speech,
    orca_version,
    stop_process,
)
from tests.support.orca_desktop import wait_for as poll
from tests.support.random_models import build_llava

BLOCK_S = BLOCK_SAMPLES / RATE
DESCRIBING, ANSWER_DONE, STOPPED = "Describing", "Answer complete.", "Stopped."
NOTHING_TO_REPEAT = "There is no answer to repeat yet."
STATUSES = {"describing": DESCRIBING, "answer_complete": ANSWER_DONE, "stopped": STOPPED,
            "error_nothing_to_repeat": NOTHING_TO_REPEAT, "model_ready": "Model ready"}
WHOLE_RUN_LIMIT_S = 290.0


class Deadline:
    """The whole script's time limit: every wait is also cut short by it."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self, wanted: float) -> float:
        """Seconds to wait: ``wanted``, or less if the deadline is nearer."""
        return max(0.0, min(wanted, self.end - time.monotonic()))


DEADLINE = Deadline(WHOLE_RUN_LIMIT_S)


def wait_for(condition: Any, timeout: float, step: float = 0.05) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` (and the script's deadline) passes."""
    return poll(condition, DEADLINE.left(timeout), step)



def loud_intervals(recorder: Recorder, after: float, before: float) -> list[tuple[float, float]]:
    """Merged (start, end) spans of loud 5 ms blocks between the two times."""
    with recorder._lock:
        stamps = [stamp for stamp, rms in recorder.blocks if after < stamp <= before and rms >= LOUD_RMS]
    spans: list[tuple[float, float]] = []
    for stamp in stamps:
        start = stamp - BLOCK_S
        if spans and start <= spans[-1][1] + 1e-4:
            spans[-1] = (spans[-1][0], stamp)
        else:
            spans.append((start, stamp))
    return spans


def total(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by the spans."""
    return sum(end - start for start, end in spans)


def intersect(first: list[tuple[float, float]], second: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts the two span lists share."""
    out, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        start, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if start < end:
            out.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return out


def is_loud_since(recorder: Recorder, since: float) -> bool:
    """Whether a loud block arrived after ``since``."""
    with recorder._lock:
        return any(stamp > since and rms >= LOUD_RMS for stamp, rms in recorder.blocks[-1000:])



def wait_quiet(app_voice: Recorder, reader: Recorder, timeout: float, quiet_s: float = 2.0) -> bool:
    """Until neither speaker has been loud for ``quiet_s`` seconds (the speech is over)."""
    return wait_for(lambda: not is_loud_since(app_voice, time.monotonic() - quiet_s)
                    and not is_loud_since(reader, time.monotonic() - quiet_s), timeout, step=0.1)


def trigger(desktop: Desktop, env: dict[str, str], action: str) -> float:
    """``seeing-assistant trigger ACTION``; the moment the command was started.

    It takes a few tenths of a second to start Python and reach the app, so the app acts a little later.
    """
    started = time.monotonic()
    done = subprocess.run([str(COMMAND), "trigger", action], env=env, capture_output=True, text=True,
                          timeout=DEADLINE.left(30) or 1)
    if done.returncode != 0:
        raise RuntimeError(f"trigger {action} failed: {done.stderr.strip()}")
    return started


def app_sentences(relay: SsipRelay, after: float, kind: str) -> list[dict[str, Any]]:
    """The relay's entries of the app's connection of one kind after a time."""
    return [entry for entry in relay.entries()
            if "seeing-assistant" in entry["client"] and entry["kind"] == kind and entry["t"] > after]


def is_status(text: str | None) -> bool:
    """Whether an app's SSIP entry is one of its statuses rather than answer text."""
    return bool(text) and any(text.startswith(status) for status in STATUSES.values())  # type: ignore[union-attr]


def run_app(desktop: Desktop, model: Path, mode: str, tokens: int, app_voice: Recorder, reader: Recorder,
            folder: Path) -> dict[str, Any]:
    """One scripted run of the app with ``spoken_by`` = ``mode``; the raw timeline."""
    config = folder / f"config-{mode}"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({
        "model": str(model), "spoken_by": mode, "max_new_tokens": tokens, "hide_window_when_capturing": True}))
    env = dict(desktop.env(), SEEING_ASSISTANT_CONFIG_DIR=str(config), SEEING_ASSISTANT_REPORT_STARTUP="1",
               QT_QPA_PLATFORM="xcb", QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    marks: dict[str, float] = {}
    notes: list[str] = []
    relay = desktop.relay
    assert relay is not None
    app_is_queue = mode != "app"
    marks["start"] = time.monotonic()
    process = subprocess.Popen([str(COMMAND), "app", "--model", str(model)], env=env, stdout=subprocess.PIPE,
                               stderr=(folder / f"app-{mode}.err").open("wb"), text=True,
                               preexec_fn=_die_with_parent)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("window shown"):
            raise RuntimeError(f"the app did not show its window: {line!r} "
                               + (folder / f"app-{mode}.err").read_text(errors="replace")[-600:])
        marks["window_shown"] = time.monotonic()
        # Focus the window, as a user's Alt+Tab would (no window manager: X input focus directly).
        windows: list[str] = []

        def find_window() -> bool:
            windows[:] = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(process.pid)], env=env,
                                        capture_output=True, text=True, timeout=10).stdout.split()
            return bool(windows)

        wait_for(find_window, 10, step=0.2)
        if windows:
            subprocess.run(["xdotool", "windowfocus", windows[-1]], env=env, capture_output=True, timeout=10)
            marks["focus"] = time.monotonic()
        else:
            notes.append("no window found to focus")
        # The model loads; Orca reads the focused window. A user waits until the speech is over.
        time.sleep(DEADLINE.left(2.0))
        wait_quiet(app_voice, reader, 25)
        marks["settled"] = time.monotonic()

        # An error, in a fresh app: repeat before any answer; then wait until it has been said.
        marks["repeat"] = trigger(desktop, env, "repeat")
        time.sleep(DEADLINE.left(1.0))
        wait_quiet(app_voice, reader, 20)

        # Describe the screen and listen to the whole answer.
        marks["describe_1"] = trigger(desktop, env, "describe-screen")
        channel = reader if app_is_queue else app_voice
        if app_is_queue:
            heard = wait_for(lambda: any(not is_status(e["text"])
                                         for e in app_sentences(relay, marks["describe_1"], "begin")), 30)
        else:
            heard = channel.first_loud(marks["describe_1"] + 1.5, timeout=DEADLINE.left(30)) is not None
        if not heard:
            notes.append("the first answer was not heard within 30 s")
        # Until both speakers have been quiet for 2.5 s (the answer and "Answer complete." are over).
        wait_for(lambda: not is_loud_since(app_voice, time.monotonic() - 2.5)
                 and not is_loud_since(reader, time.monotonic() - 2.5), 90, step=0.1)
        marks["answer_1_over"] = time.monotonic() - 2.5

        # Describe again, and stop in the middle of the answer.
        marks["describe_2"] = trigger(desktop, env, "describe-screen")
        if app_is_queue:
            begun = wait_for(lambda: any(not is_status(e["text"])
                                         for e in app_sentences(relay, marks["describe_2"], "begin")), 30)
        else:
            begun = wait_for(lambda: app_voice.loud_seconds(marks["describe_2"] + 1.0, time.monotonic()) > 1.0, 30)
        time.sleep(DEADLINE.left(0.8))
        channel.wait_until_loud_now(DEADLINE.left(3.0))
        if not begun:
            notes.append("the second answer was not heard before stop")
        marks["stop"] = trigger(desktop, env, "stop")
        wait_for(lambda: not is_loud_since(app_voice, time.monotonic() - 2.5)
                 and not is_loud_since(reader, time.monotonic() - 2.5), 30, step=0.1)
        marks["quiet_after_stop"] = time.monotonic() - 2.5
        marks["quit"] = trigger(desktop, env, "quit")
        try:
            process.wait(DEADLINE.left(20) or 1)
        except subprocess.TimeoutExpired:
            notes.append("the app did not quit within 20 s; stopped by PID")
    finally:
        stop_process(process)
        marks["end"] = time.monotonic()
    return {"mode": mode, "marks": marks, "notes": notes, "exit_code": process.returncode}


def is_app_insert(text: str) -> bool:
    """An Orca debug line that reports one text insertion in the app (logged once per event)."""
    # Orca 43: "... in [application | Seeing Assistant]"; Orca 48: "... in Seeing Assistant (Qt 6.12.0) ...", and
    # again with "has priority level: N" appended.
    return text.startswith("EVENT MANAGER: object:text-changed:insert for") and (
        "Seeing Assistant]" in text or " in Seeing Assistant (" in text) and "has priority level" not in text


def normal(text: str) -> str:
    """Lower-case text without SSML tags, for comparing what was said."""
    return re.sub(r"<[^>]+>", "", text).strip().lower()


def analyse(run: dict[str, Any], desktop: Desktop, app_voice: Recorder, reader: Recorder) -> dict[str, Any]:
    """The three measurements of one run, from the recordings, the relay's log and Orca's debug log."""
    marks, mode = run["marks"], run["mode"]
    start, end = marks["start"], marks["end"]
    relay = desktop.relay
    assert relay is not None
    app_spans, reader_spans = loud_intervals(app_voice, start, end), loud_intervals(reader, start, end)
    both = intersect(app_spans, reader_spans)
    log = [(stamp, text) for stamp, text in orca_log(desktop.orca_debug) if start <= stamp <= end]
    spoken = [(stamp, text) for stamp, text in orca_speech(desktop.orca_debug) if start <= stamp <= end]
    entries = [entry for entry in relay.entries() if start <= entry["t"] <= end]
    app_entries = [entry for entry in entries if "seeing-assistant" in entry["client"]]
    orca_entries = [entry for entry in entries if "orca" in entry["client"].lower()]

    # (2) Orca's utterances from the trigger to the first answer text.
    first_text, first_text_from = None, None
    for stamp, text in log:
        if stamp > marks["describe_1"] and is_app_insert(text) and not text.rsplit("(", 1)[-1].split(", ", 2)[-1] \
                .startswith("You:"):
            first_text, first_text_from = stamp, "Orca's log: the app's first text insertion after the question's"
            break
    if first_text is None:
        if mode == "app":
            first_text = app_voice.first_loud(marks["describe_1"] + 1.5, timeout=0)
        else:
            begun = [e["t"] for e in app_entries if e["kind"] == "begin" and e["t"] > marks["describe_1"]
                     and not is_status(e["text"])]
            first_text = begun[0] if begun else None
        first_text_from = "first answer sentence heard"
    during = [text for stamp, text in spoken if marks["describe_1"] <= stamp <= (first_text or marks["describe_1"])]
    inserts = sum(1 for stamp, text in log
                  if is_app_insert(text) and marks["describe_1"] <= stamp <= marks["answer_1_over"])

    # (3) How each status was heard.
    statuses: dict[str, Any] = {}
    for key, status in STATUSES.items():
        said_by_orca = [round(stamp - start, 2) for stamp, text in spoken if status.lower() in text.lower()]
        queued = [entry for entry in app_entries if entry["text"] and normal(entry["text"]).startswith(status.lower())]
        queue_events = [{"t": round(entry["t"] - start, 2), "event": entry["kind"]} for entry in queued]
        entry: dict[str, Any] = {"in_orca_speech": said_by_orca, "through_queue": queue_events}
        sent = [e["t"] for e in queued if e["kind"] == "speak"]
        begun = [e["t"] for e in queued if e["kind"] == "begin"]
        if sent:
            entry["queue_wait_s"] = round(begun[0] - sent[0], 2) if begun else None  # None: never begun
        if mode == "app":
            # The app's own voice is not logged as text: it counts as heard when vspeaker turned loud just after
            # the status was due (the error: after the trigger; the others are announced, not spoken, by design).
            # "Describing": from the trigger to the first answer text (an earcon may sound there, not speech).
            window = {"error_nothing_to_repeat": (marks["repeat"], marks["repeat"] + 2.0),
                      "describing": (marks["describe_1"], first_text or marks["describe_1"] + 0.5)}.get(key)
            if window is not None:
                entry["app_voice_loud_s"] = round(app_voice.loud_seconds(*window), 2)
        statuses[key] = entry

    # Spoken twice: a sentence begun twice by speech-dispatcher, or said both by the app (queue) and by Orca.
    # (Per request: "Describing the screen." once for each of the two describes is not a repetition.)
    bounds = [start, marks["repeat"], marks["describe_1"], marks["describe_2"], end]
    twice_in_queue: list[str] = []
    for low, high in itertools.pairwise(bounds):
        begun_texts = [normal(entry["text"]) for entry in app_entries
                       if entry["kind"] == "begin" and entry["text"] and low <= entry["t"] < high]
        twice_in_queue += sorted({text for text in begun_texts if begun_texts.count(text) > 1})
    orca_texts = {normal(text) for _, text in spoken}
    app_texts = {normal(entry["text"]) for entry in app_entries if entry["kind"] == "speak" and entry["text"]}
    by_both = sorted(text for text in app_texts if text and any(text in said or said in text
                                                                for said in orca_texts if len(said) > 3))
    if mode == "app":
        error_twice = bool(statuses["error_nothing_to_repeat"]["in_orca_speech"]) and \
            statuses["error_nothing_to_repeat"].get("app_voice_loud_s", 0) > 0.3
    else:
        error_twice = False

    # Stop: from the trigger to the end of the app's speech.
    stop = marks["stop"]
    if mode == "app":
        last = app_voice.last_loud(stop, stop + 3.0)
        stop_to_silence = round((last - stop) if last else 0.0, 3)
        stop_from = "last loud vspeaker block after the stop trigger"
    else:
        cancels = [e["t"] for e in app_entries if e["kind"] in ("cancel", "end") and e["t"] >= stop]
        stop_to_silence = round(cancels[0] - stop, 3) if cancels else None
        stop_from = "speech-dispatcher's CANCELED/END event of the app's sentence after the stop trigger"

    # Orca's own messages in the queue: how long each waited before speech-dispatcher began it.
    orca_messages: dict[int, dict[str, Any]] = {}
    for item in orca_entries:
        if item.get("message") is not None:
            orca_messages.setdefault(item["message"], {"text": normal(item["text"] or "")})[item["kind"]] = \
                round(item["t"] - start, 2)
    waits = [m["begin"] - m["queued"] for m in orca_messages.values() if "begin" in m and "queued" in m]

    def spans(items: list[tuple[float, float]], gap: float = 0.3) -> list[list[float]]:
        merged: list[list[float]] = []
        for low, high in items:
            if merged and low - merged[-1][1] <= gap:
                merged[-1][1] = high
            else:
                merged.append([low, high])
        return [[round(low - start, 2), round(high - start, 2)] for low, high in merged]

    return {
        "mode": mode,
        "run_s": round(end - start, 1),
        "overlap_spans_s": spans(both),
        "app_voice_spans_s": spans(app_spans),
        "screen_reader_sink_spans_s": spans(reader_spans),
        "orca_messages_through_queue": len(orca_messages),
        "orca_messages_never_begun": sum(1 for m in orca_messages.values() if "begin" not in m),
        "orca_longest_wait_in_queue_s": round(max(waits), 2) if waits else None,
        "orca_queue_log": sorted(orca_messages.values(), key=lambda m: m.get("queued", m.get("begin", 0))),
        "app_voice_loud_s": round(total(app_spans), 2),
        "screen_reader_sink_loud_s": round(total(reader_spans), 2),
        "overlap_s": round(total(both), 3),
        "orca_utterances_total": len(spoken),
        "orca_utterances_describe_to_first_text": len(during),
        "orca_utterances_describe_to_first_text_texts": during,
        "describe_to_first_text_s": round(first_text - marks["describe_1"], 3) if first_text else None,
        "first_text_from": first_text_from,
        "text_insert_events_first_answer": inserts,
        "statuses": statuses,
        "app_queue_messages": sum(1 for e in app_entries if e["kind"] == "speak"),
        "app_queue_begun": sum(1 for e in app_entries if e["kind"] == "begin"),
        "app_queue_cancelled": sum(1 for e in app_entries if e["kind"] == "cancel"),
        "orca_queue_messages": sum(1 for e in orca_entries if e["kind"] == "speak"),
        "sentences_begun_twice_in_queue": twice_in_queue,
        "sentences_said_by_app_and_orca": by_both,
        "error_heard_twice": error_twice,
        "stop_to_silence_s": stop_to_silence,
        "stop_to_silence_from": stop_from,
        "exit_code": run["exit_code"],
        "notes": run["notes"],
        "timeline_s": {name: round(value - start, 2) for name, value in marks.items()},
        "orca_speech": [[round(stamp - start, 2), text] for stamp, text in spoken],
        "app_queue_log": [{"t": round(e["t"] - start, 2), "kind": e["kind"], "text": e["text"]}
                          for e in app_entries if e["kind"] in ("speak", "begin", "end", "cancel", "command")],
    }


def heard_as(result: dict[str, Any], key: str) -> str:
    """A short phrase for the table: where a status was heard."""
    status = result["statuses"][key]
    ways = []
    if status["in_orca_speech"]:
        ways.append(f"Orca x{len(status['in_orca_speech'])}")
    loud = status.get("app_voice_loud_s", 0)
    if result["mode"] == "app" and loud > 0.6:
        ways.append(f"app voice ({loud} s loud)")
    elif result["mode"] == "app" and loud > 0:
        ways.append(f"only an earcon ({loud} s loud)")
    events = [event["event"] for event in status["through_queue"]]
    if events and status.get("queue_wait_s") is not None:
        ways.append(f"queue after {status['queue_wait_s']} s wait")
    elif events:
        ways.append("queue: " + "/".join(event for event in events if event != "speak")
                    if any(event != "speak" for event in events) else "queue: sent, never begun")
    return ", ".join(ways) or "not heard"


def table(results: list[dict[str, Any]]) -> str:
    """The markdown table of the two runs."""
    rows = [("seconds both speakers loud at once", "overlap_s"),
            ("app-voice sink loud (s)", "app_voice_loud_s"),
            ("screen-reader sink loud (s)", "screen_reader_sink_loud_s"),
            ("Orca utterances, describe to first answer text", "orca_utterances_describe_to_first_text"),
            ("describe to first answer text (s)", "describe_to_first_text_s"),
            ("text insertions Orca got from the app, first answer", "text_insert_events_first_answer"),
            ("Orca utterances, whole run", "orca_utterances_total"),
            ("app sentences sent to / begun by speech-dispatcher", None),
            ("sentences begun twice / said by app and Orca", None),
            ("stop to silence (s)", "stop_to_silence_s"),
            ("Orca messages in the queue / never begun", None),
            ("Orca's longest wait in the queue (s)", "orca_longest_wait_in_queue_s")]
    head = "| measure | " + " | ".join(f"spoken_by={r['mode']}" for r in results) + " |"
    lines = [head, "|---|" + "---|" * len(results)]
    for label, key in rows:
        if key is not None:
            cells = [str(r[key]) for r in results]
        elif label.startswith("Orca messages"):
            cells = [f"{r['orca_messages_through_queue']} / {r['orca_messages_never_begun']}" for r in results]
        elif label.startswith("app sentences"):
            cells = [f"{r['app_queue_messages']} / {r['app_queue_begun']}" for r in results]
        else:
            cells = [f"{len(r['sentences_begun_twice_in_queue'])} / {len(r['sentences_said_by_app_and_orca'])}"
                     for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for key, label in (("describing", "'Describing...' heard by"), ("answer_complete", "'Answer complete.' heard by"),
                       ("stopped", "'Stopped.' heard by"), ("error_nothing_to_repeat", "error (repeat) heard by")):
        lines.append(f"| {label} | " + " | ".join(heard_as(r, key) for r in results) + " |")
    return "\n".join(lines)


def picture(path: Path) -> Path:
    """A busy picture for the screen, so that the capture has something in it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (250, 250, 240))
    draw = ImageDraw.Draw(image)
    for index in range(12):
        draw.rectangle((20 + index * 36, 30 + (index % 4) * 70, 48 + index * 36, 90 + (index % 4) * 70),
                       fill=((index * 40) % 256, (index * 90) % 256, (200 - index * 15) % 256))
    draw.text((30, 320), "Invoice 2024-113: total 48.20 EUR", fill=(0, 0, 0))
    image.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    """Run both scripted sessions, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--tokens", type=int, default=90, help="max_new_tokens for the answers (default 90)")
    parser.add_argument("--keep", metavar="FOLDER", help="copy Orca's debug log and the app's logs here")
    parser.add_argument("--orca", choices=("43", "48"), default="43",
                        help="the host's Orca (43, Debian 12) or Debian 13's (48, in a root of its own)")
    args = parser.parse_args(argv)
    orca_root = orca_48_root() if args.orca == "48" else None
    for tool in ("Xvfb", "dbus-run-session", "orca", "speech-dispatcher", "xdotool", "pulseaudio", "parec"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    dconf = Path.home() / ".config" / "dconf" / "user"
    dconf_before = dconf.stat().st_mtime_ns if dconf.exists() else None
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="one-voice-") as name:
        folder = Path(name)
        model = build_llava(folder / "tiny")
        desktop = Desktop(folder, orca_root=orca_root)
        recorders: list[Recorder] = []
        stragglers: list[int] = []
        try:
            desktop.start()
            assert desktop.pulse is not None
            app_voice = Recorder(desktop.pulse, "vspeaker")
            reader = Recorder(desktop.pulse, "screen_reader_speaker")
            recorders = [app_voice, reader]
            desktop.show_picture(picture(folder / "picture.png"))
            orca_start_s = desktop.start_orca()
            time.sleep(DEADLINE.left(1.5))
            for mode in ("app", "auto"):
                run = run_app(desktop, model, mode, args.tokens, app_voice, reader, folder)
                results.append(analyse(run, desktop, app_voice, reader))
                time.sleep(DEADLINE.left(1.0))
        finally:
            for recorder in recorders:
                recorder.close()
            if args.keep:
                keep = Path(args.keep)
                keep.mkdir(parents=True, exist_ok=True)
                for each in [desktop.orca_debug, folder / "orca.out", *folder.glob("app-*.err")]:
                    if each.exists():
                        shutil.copy(each, keep / each.name)
            stragglers = desktop.stop()
    dconf_after = dconf.stat().st_mtime_ns if dconf.exists() else None
    report = {
        "orca": orca_version(orca_root),
        "orca_start_s": round(orca_start_s, 2),
        "max_new_tokens": args.tokens,
        "runs": results,
        "bus_activated_services_stopped_by_pid": len(stragglers),
        "home_dconf_unchanged": dconf_before == dconf_after,
    }
    print(table(results))
    print(f"\nOrca {report['orca']} started in {report['orca_start_s']} s; ~/.config/dconf unchanged: "
          f"{report['home_dconf_unchanged']}")
    for result in results:
        if result["notes"]:
            print(f"{result['mode']}: " + "; ".join(result["notes"]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    ok = all(not result["notes"] for result in results) and len(results) == 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
