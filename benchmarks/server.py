"""The server engine's own cost, measured where it happens, against a real ``transformers serve`` in one run.

    python -m benchmarks.server --json out.json [--runs 7] [--quick]

Builds the mid-size random LLaVA-1.5 (~62 M parameters, 576 image tokens; --quick: the tiny one), serves it with
``transformers serve`` on 127.0.0.1 (CPU, float32), and measures for a 1920x1080 screenshot:

- the app's time to first token through the server: from the request (intake of the screenshot) to the first piece
  handed to the caller's thread;
- the app's own part of it, timed where it happens: the picture padded, sized and encoded (``start``), and the
  first piece's hop from the stream's reader to the caller's thread; everything between is the server's and the
  network's (the request sent and read, the prefill, the first token);
- as a cross-check, the difference method: the app's time to first token minus a bare client's (httpx2, the
  identical request body prepared beforehand), in pairs of alternating order;
- Stop: from the request's ``token.cancel()`` to ``ask()`` returning, while the server is mid-answer
  (:func:`measure_stop` also before the first token, for ``benchmarks.stop``);
- time to first audio: from the request to the first sample handed to the audio device, through the sentence
  speaker (eSpeak NG, Qt push-mode sink), for a 12-token first sentence (random weights write no full stops, so
  the answer is 12 tokens long and its end is the sentence's).

Medians with min and max of ``--runs`` runs; target for the app's part: at most 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.audio_lab import PrivatePulse
from tests.support.model_server import ModelServer
from tests.support.qt_wait import finish
from tests.support.random_models import MID, TINY, build_llava

from benchmarks.engine import cell, screenshot, summary

QUESTION = "Describe the screen."
FIRST_SENTENCE_TOKENS = 12


def app_first_token(engine: Any, raw_image: Any) -> dict[str, float]:
    """One first question through the engine: the whole wait, and the app's own parts of it, in seconds."""
    from seeing_assistant.core import intake

    marks: dict[str, float] = {}

    def on_text(piece: str) -> None:
        marks.setdefault("first", time.perf_counter())

    requested = time.perf_counter()
    image = intake.from_pil(raw_image, source="screenshot")
    conversation = engine.start(image)
    asked = time.perf_counter()
    answer = engine.ask(conversation, QUESTION, on_text=on_text, max_new_tokens=2)
    prepare = asked - requested
    hop = marks["first"] - (asked + answer.first_piece_read_s)
    return {"ttft": marks["first"] - requested, "prepare": prepare, "hop": hop, "own": prepare + hop,
            "server": answer.first_piece_read_s}


def bare_first_token(url: str, body: dict[str, Any]) -> float:
    """A bare client's time to the first piece, with the request body prepared beforehand."""
    import httpx2

    with httpx2.Client(timeout=120, trust_env=False) as client:
        started = time.perf_counter()
        with client.stream("POST", url + "/chat/completions", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data:") and '"content"' in line:
                    return time.perf_counter() - started
    raise RuntimeError("the server sent no text")


def _press_stop(token: Any, marks: dict[str, float]) -> None:
    """Stop as the window presses it, from another thread; the moment of ``cancel()`` kept."""
    marks["stop"] = time.perf_counter()
    token.cancel()


def stop_latency(engine: Any, raw_image: Any) -> float:
    """Seconds from the request's ``token.cancel()`` (another thread's, at the fifth piece) to ``ask()`` returning."""
    from seeing_assistant.core import intake
    from seeing_assistant.core.cancel import CancelToken

    conversation = engine.start(intake.from_pil(raw_image, source="screenshot"))
    token = CancelToken()
    marks: dict[str, float] = {}
    count = 0

    def on_text(piece: str) -> None:
        nonlocal count
        count += 1
        if count == 5:
            threading.Thread(target=_press_stop, args=(token, marks)).start()

    answer = engine.ask(conversation, QUESTION, on_text=on_text, max_new_tokens=2000, cancel=token)
    assert answer.is_cancelled
    return time.perf_counter() - marks["stop"]


def stop_before_first_token(engine: Any, raw_image: Any, after_s: float) -> float | None:
    """Seconds from ``token.cancel()`` to ``ask()`` returning, Stop pressed ``after_s`` into the request.

    None when a piece came first: that Stop was not before the first token.
    """
    from seeing_assistant.core import intake
    from seeing_assistant.core.cancel import CancelToken

    conversation = engine.start(intake.from_pil(raw_image, source="screenshot"))
    token = CancelToken()
    marks: dict[str, float] = {}
    timer = threading.Timer(after_s, _press_stop, args=(token, marks))
    timer.start()
    answer = engine.ask(conversation, QUESTION, max_new_tokens=2000, cancel=token)
    returned = time.perf_counter()
    timer.join()
    if answer.time_to_first_token_s is not None or not answer.is_cancelled:
        return None
    return returned - marks["stop"]


def measure_stop(runs: int = 5) -> dict[str, dict[str, float]]:
    """Milliseconds from Stop (``token.cancel()``) to ``ask()`` returning, through a real ``transformers serve``.

    The tiny random LLaVA, a 1920x1080 screenshot: Stop before the first token (halfway through the server's time
    to first token, measured first) and mid-stream (at the fifth piece); median and max of ``runs`` each.
    """
    from seeing_assistant.core.engine_settings import EngineSettings, ServerSettings
    from seeing_assistant.core.server_engine import ServerEngine

    raw = screenshot().image
    with tempfile.TemporaryDirectory() as scratch:
        folder = build_llava(Path(scratch) / "tiny", TINY)
        with ModelServer(folder, Path(scratch)) as server:
            engine = ServerEngine.load(EngineSettings(server=ServerSettings(url=server.url)))
            try:
                first_token_s = statistics.median(app_first_token(engine, raw)["server"] for _ in range(3))
                before: list[float] = []
                for _ in range(runs * 4):  # a run where the first token beat the Stop is not one
                    seconds = stop_before_first_token(engine, raw, first_token_s / 2)
                    if seconds is not None:
                        before.append(seconds)
                    if len(before) == runs:
                        break
                mid = [stop_latency(engine, raw) for _ in range(runs)]
            finally:
                engine.close()
    if not before:
        raise RuntimeError("every first token came before the Stop: the server answers too fast to stop before it")
    return {stage: {"median": statistics.median(seconds) * 1000, "max": max(seconds) * 1000}
            for stage, seconds in (("before_first_token", before), ("mid_stream", mid))}


def first_audio(engine: Any, raw_image: Any, speaker: Any, output: Any) -> float:
    """Seconds from the request to the first sample handed to the audio device, for a 12-token first sentence."""
    from seeing_assistant.core import intake

    speaker.stop()
    output.wait(5)
    requested = time.perf_counter()
    conversation = engine.start(intake.from_pil(raw_image, source="screenshot"))
    engine.ask(conversation, QUESTION, on_text=speaker.feed, max_new_tokens=FIRST_SENTENCE_TOKENS)
    speaker.finish()
    deadline = time.perf_counter() + 60
    while output.audio_started_at is None and time.perf_counter() < deadline:
        time.sleep(0.001)
    seconds: float = output.audio_started_at - requested
    speaker.stop()
    output.wait(5)
    return seconds


def measure(folder: Path, scratch: Path, runs: int, speaker: Any, output: Any) -> dict[str, Any]:
    """Every figure for one model served by transformers serve."""
    from seeing_assistant.core.engine_settings import EngineSettings, ServerSettings
    from seeing_assistant.core.server_engine import ServerEngine

    raw = screenshot().image
    with ModelServer(folder, scratch) as server:
        engine = ServerEngine.load(EngineSettings(server=ServerSettings(url=server.url)))
        try:
            from seeing_assistant.core import intake

            body = {"model": engine.model_name, "stream": True, "max_tokens": 2, "temperature": 0,
                    "messages": engine.start(intake.from_pil(raw)).messages(QUESTION)}
            app_first_token(engine, raw)  # warm up both paths
            bare_first_token(server.url, body)
            app_runs, bare_runs = [], []
            for index in range(runs):
                if index % 2:
                    bare_runs.append(bare_first_token(server.url, body))
                    app_runs.append(app_first_token(engine, raw))
                else:
                    app_runs.append(app_first_token(engine, raw))
                    bare_runs.append(bare_first_token(server.url, body))
            stops = [stop_latency(engine, raw) for _ in range(runs)]
            audio = [first_audio(engine, raw, speaker, output) for _ in range(runs)]
        finally:
            engine.close()
    differences = [app["ttft"] - bare for app, bare in zip(app_runs, bare_runs, strict=True)]
    return {
        "app_ttft_s": summary([run["ttft"] for run in app_runs]),
        "bare_client_ttft_s": summary(bare_runs),
        "app_own_ms": summary([run["own"] * 1000 for run in app_runs]),
        "app_prepare_ms": summary([run["prepare"] * 1000 for run in app_runs]),
        "app_hop_ms": summary([run["hop"] * 1000 for run in app_runs]),
        "difference_ms": summary([value * 1000 for value in differences]),
        "stop_ms": summary([value * 1000 for value in stops]),
        "time_to_first_audio_s": summary(audio),
    }


def table(report: dict[str, Any]) -> str:
    """The figures as a markdown table."""
    lines = ["| model | app TTFT s | app's own part ms (picture; hop) | difference cross-check ms "
             "| Stop ms | first audio s |", "|---|---|---|---|---|---|"]

    for name, row in report["models"].items():
        lines.append(f"| {name} | {cell(row['app_ttft_s'], 3)} | {cell(row['app_own_ms'], 1)} "
                     f"({row['app_prepare_ms']['median']:.1f}; {row['app_hop_ms']['median']:.2f}) "
                     f"| {cell(row['difference_ms'], 1)} | {cell(row['stop_ms'], 2)} "
                     f"| {cell(row['time_to_first_audio_s'], 3)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run it all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="write the figures here")
    parser.add_argument("--quick", action="store_true", help="the tiny model only")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    report = run(args.runs, args.quick)
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def run(runs: int, quick: bool) -> dict[str, Any]:
    """Measure the tiny (and, unless ``quick``, the mid) model through transformers serve."""
    sizes = {"tiny": TINY} if quick else {"mid": MID}
    report: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
                              "measured_at": time.strftime("%Y-%m-%d %H:%M"), "runs": runs,
                              "server": "transformers serve (CPU, float32) on 127.0.0.1", "models": {}}
    with tempfile.TemporaryDirectory() as scratch, PrivatePulse() as pulse:
        os.environ.update(pulse.env)
        if not os.environ.get("DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # audio needs an application, not a screen
        from PySide6.QtWidgets import QApplication

        from seeing_assistant import speech

        _application = QApplication.instance() or QApplication([])
        output = speech.QtAudioOutput()
        speaker = speech.VoiceSpeaker(output)
        for name, size in sizes.items():
            folder = build_llava(Path(scratch) / name, size)
            report["models"][name] = measure(folder, Path(scratch), runs, speaker, output)
        speaker.close()
    headline = report["models"]["tiny" if quick else "mid"]
    report["app_own_ms"] = headline["app_own_ms"]["median"]
    report["stop_ms"] = headline["stop_ms"]["median"]
    report["difference_ms"] = statistics.median([headline["difference_ms"]["median"]])
    return report


if __name__ == "__main__":
    finish(main())
