"""The user's wait, measured end to end against the naive approach, in one run.

    python -m benchmarks.latency --json out.json [--quick] [--runs 5]

Builds random-weight LLaVA-1.5-shaped models offline (tiny, and mid: ~62 M parameters, 576 image tokens; --quick:
tiny only), starts a private PulseAudio server as the audio device, and measures on the CPU in float32:

- time to first audio: from the request to the first synthesised sample handed to the audio device, for a
  200-token answer. The app: intake of the screenshot, the engine streaming into the speaker (eSpeak NG per
  sentence, Qt push-mode sink). Naive (the seed's): generate the whole answer, decode it, synthesise it all, then
  play. A logits processor puts ". " after every 12 tokens into both, as a real model writes full stops.
- pipeline overhead, measured where it happens: each stage of the app's own path timed in the same request (the
  screenshot's intake, the picture's fitting, the processor, the hop to the worker thread, the first piece's signal
  back to the GUI thread), their sum the overhead; and, as a cross-check, the difference method: the app's time to
  first token minus raw ``model.generate``'s on the identical prepared inputs, 2 x runs pairs in alternating order.
  Also the speaker's stage: from the first sentence's last piece to its first sample at the device. Screen capture
  itself is not included (Xvfb's screen is 1280x800).
- follow-up: a follow-up's time to first token over the first question's, in the app.
- decode rate: tokens/s through the app (worker thread, streaming) over raw ``generate`` on the same inputs.
- start-up: launch to visible window of the installed app (needs a display), and this process's peak memory.
- the catalogue's small model (SmolVLM-256M's real shape, random weights; not with --quick): time to first audio.
- through a model server: the same model served by ``transformers serve``; the app's own part of the time to
  first token, Stop, and time to first audio (see :mod:`benchmarks.server`).

Prints a markdown table and writes JSON; medians of ``--runs`` runs with min and max. The JSON's top level holds the
mid model's (tiny's with --quick) headline ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.audio_lab import PrivatePulse
from tests.support.qt_wait import finish
from tests.support.random_models import MID, TINY, build_llava, build_smolvlm

from benchmarks import server
from benchmarks.engine import screenshot, summary
from seeing_assistant.core.cancel import CancelToken

ANSWER_TOKENS = 200
SENTENCE_TOKENS = 12
QUESTION = "Describe the screen."


def sentence_forcer(tokenizer: Any, prompt_length: int) -> Any:
    """A logits processor that makes every 12th new token a full stop and the next a space."""
    import torch
    from transformers import LogitsProcessor

    stop, space = tokenizer.convert_tokens_to_ids("."), tokenizer.convert_tokens_to_ids("\u0120")

    class FullStops(LogitsProcessor):
        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            written = input_ids.shape[1] - prompt_length
            forced = stop if written % SENTENCE_TOKENS == SENTENCE_TOKENS - 2 else (
                space if written % SENTENCE_TOKENS == SENTENCE_TOKENS - 1 else None)
            if forced is None:
                return scores
            only = torch.full_like(scores, float("-inf"))
            only[:, forced] = 0
            return only  # type: ignore[return-value]  # transformers annotates FloatTensor, torch returns Tensor

    return FullStops()


def prompt_length(engine: Any, image: Any) -> int:
    """How many tokens the first question's prompt has (the processor's own count)."""
    conversation = engine.start(image)
    return int(engine._process(conversation.messages(QUESTION))["input_ids"].shape[1])


def time_to_first_audio(engine: Any, raw_image: Any, speaker: Any, output: Any, synthesizer: Any,
                        length: int) -> tuple[float, float]:
    """One run of each path; seconds from the request to the first sample handed to the device."""
    from seeing_assistant.core import intake

    forcer = sentence_forcer(engine.processor.tokenizer, length)
    # The app: stream into the speaker; stop generating once the first audio has gone to the device.
    speaker.stop()
    output.wait(5)
    requested = time.perf_counter()
    image = intake.from_pil(raw_image, source="screenshot")

    stop = CancelToken()  # this answer's own Stop, pressed once the first audio is out

    def on_text(piece: str) -> None:
        speaker.feed(piece)
        if output.audio_started_at is not None:
            stop.cancel()

    engine.ask(engine.start(image), QUESTION, on_text=on_text, max_new_tokens=ANSWER_TOKENS,
               min_new_tokens=ANSWER_TOKENS, logits_processor=[forcer], cancel=stop)
    deadline = time.perf_counter() + 60
    while output.audio_started_at is None and time.perf_counter() < deadline:
        time.sleep(0.001)
    app = output.audio_started_at - requested
    speaker.stop()
    output.wait(5)
    # Naive: everything generated and decoded, then all of it synthesised, then played.
    requested = time.perf_counter()
    image = intake.from_pil(raw_image, source="screenshot")
    answer = engine.ask(engine.start(image), QUESTION, max_new_tokens=ANSWER_TOKENS, min_new_tokens=ANSWER_TOKENS,
                        logits_processor=[forcer])
    output.clear()
    output.play(synthesizer.synthesize(answer.text))
    while output.audio_started_at is None and time.perf_counter() < deadline + 120:
        time.sleep(0.001)
    naive = output.audio_started_at - requested
    output.clear()
    return app, naive


def app_first_token(worker: Any, raw_image: Any, request_id: int, tokens: int) -> tuple[float, float]:
    """Through the worker thread as the window uses it: (seconds to the first piece, tokens/s), ``tokens`` long."""
    from PySide6.QtCore import QEventLoop, QTimer

    from seeing_assistant.core import intake
    from seeing_assistant.core.session import Reply
    from seeing_assistant.desktop.worker import Request

    marks: dict[str, Any] = {}
    loop = QEventLoop()

    def on_chunk(got: int, piece: str) -> None:
        if got == request_id and "first" not in marks:
            marks["first"] = time.perf_counter()

    def on_finished(got: int, reply: Reply) -> None:
        if got == request_id:
            marks["done"] = reply
            loop.quit()

    receiver = gui_receiver(on_chunk, on_finished)
    worker.chunk.connect(receiver.chunk)
    worker.finished.connect(receiver.finished)
    QTimer.singleShot(120000, loop.quit)
    requested = time.perf_counter()
    image = intake.from_pil(raw_image, source="screenshot")
    ticket = worker.session.new_request(image)  # the session's numbering: the replies carry its number
    request_id = ticket.id
    worker.answer_requested.emit(Request(ticket, QUESTION, image, tokens))
    loop.exec()
    worker.chunk.disconnect(receiver.chunk)
    worker.finished.disconnect(receiver.finished)
    answer = marks["done"].answer
    return marks["first"] - requested, float(answer.tokens_per_s or 0.0) if answer is not None else 0.0


class StageClock:
    """Times each stage of the app's own path for one request, where it happens, in the same run.

    The engine's picture fitting and processor are wrapped (their own duration); the worker's ``started`` and
    ``chunk`` signals are heard on the worker's thread (a direct connection) and on the GUI thread (the queued
    connection the window uses), so the two thread hops are differences of clock readings a few microseconds apart,
    not of two half-second timings taken at different moments.
    """

    STAGES = ("intake", "fitting", "processing", "hop_to_worker", "hop_back")

    def __init__(self, engine: Any, worker: Any) -> None:
        from PySide6.QtCore import Qt

        self.marks: dict[str, float] = {}
        self.spent: dict[str, float] = {"fitting": 0.0, "processing": 0.0}
        for name, attribute in (("fitting", "fitted"), ("processing", "_process")):
            original = getattr(engine, attribute)
            setattr(engine, attribute, self._timed(name, original))
        worker.started.connect(lambda request_id: self.marks.setdefault("started", time.perf_counter()),
                               Qt.ConnectionType.DirectConnection)
        worker.chunk.connect(lambda request_id, piece: self.marks.setdefault("chunk_sent", time.perf_counter()),
                             Qt.ConnectionType.DirectConnection)

    def _timed(self, name: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started
        return timed

    def reset(self) -> None:
        """Forget the last request's marks."""
        self.marks.clear()
        self.spent.update(fitting=0.0, processing=0.0)

    def stages(self) -> dict[str, float]:
        """Seconds per stage of the last request."""
        marks = self.marks
        return {"intake": marks["intake_done"] - marks["requested"], "fitting": self.spent["fitting"],
                "processing": self.spent["processing"], "hop_to_worker": marks["started"] - marks["emitted"],
                "hop_back": marks["chunk_received"] - marks["chunk_sent"]}


def gui_receiver(on_chunk: Any, on_finished: Any) -> Any:
    """A QObject of the GUI thread whose slots hear the worker's signals as the window's do: queued, on this thread.

    (A plain function connected to a signal from another thread is called on that thread, which would hide the
    hop back.)
    """
    from PySide6.QtCore import QObject, Slot

    class Receiver(QObject):
        @Slot(int, str)
        def chunk(self, got: int, piece: str) -> None:
            on_chunk(got, piece)

        @Slot(int, object)
        def finished(self, got: int, reply: Any) -> None:
            on_finished(got, reply)

    return Receiver()


def app_stages(worker: Any, clock: StageClock, raw_image: Any, request_id: int) -> tuple[float, dict[str, float]]:
    """One short request through the worker as the window sends it: (time to first piece, the stages' seconds)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from seeing_assistant.core import intake
    from seeing_assistant.core.session import Reply
    from seeing_assistant.desktop.worker import Request

    clock.reset()
    loop = QEventLoop()

    def on_chunk(got: int, piece: str) -> None:
        if got == request_id:
            clock.marks.setdefault("chunk_received", time.perf_counter())

    def on_finished(got: int, reply: Reply) -> None:
        if got == request_id:
            loop.quit()

    receiver = gui_receiver(on_chunk, on_finished)
    worker.chunk.connect(receiver.chunk)
    worker.finished.connect(receiver.finished)
    QTimer.singleShot(120000, loop.quit)
    clock.marks["requested"] = time.perf_counter()
    image = intake.from_pil(raw_image, source="screenshot")
    clock.marks["intake_done"] = time.perf_counter()
    ticket = worker.session.new_request(image)  # the session's numbering: the replies carry its number
    request_id = ticket.id
    clock.marks["emitted"] = time.perf_counter()
    worker.answer_requested.emit(Request(ticket, QUESTION, image, 8))
    loop.exec()
    worker.chunk.disconnect(receiver.chunk)
    worker.finished.disconnect(receiver.finished)
    return clock.marks["chunk_received"] - clock.marks["requested"], clock.stages()


def speaker_stage(engine: Any, raw_image: Any, speaker: Any, output: Any, length: int) -> float:
    """Seconds from the first sentence's last piece fed to the speaker to its first sample at the audio device.

    That is the splitter, eSpeak NG's synthesis of the sentence and the Qt sink.
    """
    from seeing_assistant.core import intake

    speaker.stop()
    output.wait(5)
    fed: dict[str, float] = {}

    stop = CancelToken()  # this answer's own Stop, pressed once the first audio is out

    def on_text(piece: str) -> None:
        speaker.feed(piece)
        if "." in piece:
            fed.setdefault("sentence", time.perf_counter())
        if output.audio_started_at is not None:
            stop.cancel()

    engine.ask(engine.start(intake.from_pil(raw_image, source="screenshot")), QUESTION, on_text=on_text,
               max_new_tokens=40, min_new_tokens=40,
               logits_processor=[sentence_forcer(engine.processor.tokenizer, length)], cancel=stop)
    deadline = time.perf_counter() + 60
    while output.audio_started_at is None and time.perf_counter() < deadline:
        time.sleep(0.001)
    seconds: float = output.audio_started_at - fed["sentence"]
    speaker.stop()
    output.wait(5)
    return seconds


def raw_first_token(engine: Any, image: Any, tokens: int) -> tuple[float, float]:
    """Raw ``model.generate`` on prepared inputs: (seconds to the first token, tokens/s) of a ``tokens`` answer."""
    import torch
    from transformers.generation.streamers import BaseStreamer

    conversation = engine.start(image)
    inputs = engine._process(conversation.messages(QUESTION))
    inputs = {key: (value.to(engine.model.dtype) if value.is_floating_point() else value) for key, value in
              inputs.items()}
    stamps: list[float] = []

    class Clock(BaseStreamer):
        def put(self, value: Any) -> None:
            stamps.append(time.perf_counter())

        def end(self) -> None:
            pass

    started = time.perf_counter()
    with torch.inference_mode():
        engine.model.generate(**inputs, do_sample=False, max_new_tokens=tokens, min_new_tokens=tokens,
                              streamer=Clock())
    # The first put() is the prompt, the second the first new token.
    first = stamps[1] - started
    return first, (len(stamps) - 2) / (stamps[-1] - stamps[1])


def small_model_first_audio(folder: Path, runs: int, speaker: Any, output: Any) -> dict[str, Any]:
    """The catalogue's small model on the CPU: time to first audio (a 12-token first sentence) and first token.

    SmolVLM-256M's real shape with random weights, from a 1920x1080 screenshot.
    """
    from seeing_assistant.core import intake
    from seeing_assistant.core.engine import Engine
    from seeing_assistant.core.engine_settings import EngineSettings

    engine = Engine.load(EngineSettings(model=str(folder), device="cpu"))
    raw = screenshot().image
    length = prompt_length(engine, intake.from_pil(raw, source="screenshot"))
    audio, first_token = [], []
    for _ in range(runs):
        speaker.stop()
        output.wait(5)
        requested = time.perf_counter()

        stop = CancelToken()  # this answer's own Stop, pressed once the first audio is out

        def on_text(piece: str, stop: CancelToken = stop) -> None:
            speaker.feed(piece)
            if output.audio_started_at is not None:
                stop.cancel()

        image = intake.from_pil(raw, source="screenshot")
        answer = engine.ask(engine.start(image), QUESTION, on_text=on_text, max_new_tokens=40, min_new_tokens=40,
                            logits_processor=[sentence_forcer(engine.processor.tokenizer, length)], cancel=stop)
        deadline = time.perf_counter() + 60
        while output.audio_started_at is None and time.perf_counter() < deadline:
            time.sleep(0.001)
        audio.append(output.audio_started_at - requested)
        first_token.append(answer.time_to_first_token_s or 0.0)
    speaker.stop()
    output.wait(5)
    return {"model": "SmolVLM-256M-Instruct's shape, random weights", "prompt_tokens": length,
            "load_s": engine.load_s, "time_to_first_audio_s": summary(audio),
            "time_to_first_token_s": summary(first_token)}


def measure_model(folder: Path, runs: int, speaker: Any, output: Any, synthesizer: Any) -> dict[str, Any]:
    """Every per-model figure."""
    from PySide6.QtCore import QThread

    from seeing_assistant.core.engine import Engine
    from seeing_assistant.core.engine_settings import EngineSettings
    from seeing_assistant.desktop.worker import EngineWorker

    engine = Engine.load(EngineSettings(model=str(folder), device="cpu", dtype="float32"))
    shots = {"1080p": screenshot(1920, 1080).image, "2160p": screenshot(3840, 2160).image}  # raw frames
    from seeing_assistant.core import intake

    length = prompt_length(engine, intake.from_pil(shots["1080p"], source="screenshot"))
    engine.ask(engine.start(intake.from_pil(shots["1080p"], source="warm-up")), "Warm up.", max_new_tokens=2)

    first_audio_app, first_audio_naive = [], []
    for _ in range(runs):
        app, naive = time_to_first_audio(engine, shots["1080p"], speaker, output, synthesizer, length)
        first_audio_app.append(app)
        first_audio_naive.append(naive)

    thread = QThread()
    worker = EngineWorker(lambda _: engine)
    worker.moveToThread(thread)
    thread.start()
    worker.load_requested.emit(EngineSettings(model=str(folder)))
    time.sleep(0.5)  # the factory hands over the loaded engine at once
    overhead: dict[str, list[float]] = {"1080p": [], "2160p": []}  # the difference method: the cross-check
    stages: dict[str, dict[str, list[float]]] = {name: {stage: [] for stage in StageClock.STAGES} for name in shots}
    clock = StageClock(engine, worker)
    request_id = 0
    for run in range(2 * runs):  # overhead: short answers, the two paths in alternating order
        for name, raw_image in shots.items():
            request_id += 1
            order = [True, False] if run % 2 == 0 else [False, True]
            times = {}
            for through_app in order:
                if through_app:
                    times["app"], timed = app_stages(worker, clock, raw_image, request_id)
                    for stage, seconds in timed.items():
                        stages[name][stage].append(seconds * 1000)
                else:
                    prepared = intake.from_pil(raw_image, source="screenshot")
                    times["raw"] = raw_first_token(engine, prepared, 8)[0]
            overhead[name].append((times["app"] - times["raw"]) * 1000)
    speaker_ms = [speaker_stage(engine, shots["1080p"], speaker, output, length) * 1000 for _ in range(runs)]
    app_rates, raw_rates = [], []
    for run in range(runs):  # decode rate: 200-token answers about the 1080p screenshot, alternating order
        request_id += 1
        for through_app in ([True, False] if run % 2 == 0 else [False, True]):
            if through_app:
                app_rates.append(app_first_token(worker, shots["1080p"], request_id, ANSWER_TOKENS)[1])
            else:
                prepared = intake.from_pil(shots["1080p"], source="screenshot")
                raw_rates.append(raw_first_token(engine, prepared, ANSWER_TOKENS)[1])
    thread.quit()
    thread.wait()

    first_ttft, follow_ttft = [], []
    for _ in range(runs):
        conversation = engine.start(intake.from_pil(shots["1080p"], source="screenshot"))
        first = engine.ask(conversation, QUESTION, max_new_tokens=16, min_new_tokens=16)
        follow = engine.ask(conversation, "What does the title bar say?", max_new_tokens=8, min_new_tokens=8)
        first_ttft.append(first.time_to_first_token_s or 0.0)
        follow_ttft.append(follow.time_to_first_token_s or 0.0)
    by_stage = {name: {stage: summary(values) for stage, values in per_stage.items()}
                for name, per_stage in stages.items()}
    sums = {name: [sum(per_stage[stage][index] for stage in StageClock.STAGES)
                   for index in range(len(per_stage["intake"]))] for name, per_stage in stages.items()}
    return {
        "stages_ms": by_stage,
        "overhead_by_stages_ms": {name: summary(values) for name, values in sums.items()},
        "overhead_by_stages_ms_1080p": statistics.median(sums["1080p"]),
        "overhead_by_stages_ms_2160p": statistics.median(sums["2160p"]),
        "speaker_first_sentence_to_device_ms": summary(speaker_ms),
        "time_to_first_audio_s": {"app": summary(first_audio_app), "naive": summary(first_audio_naive)},
        "time_to_first_audio_speedup": statistics.median(first_audio_naive) / statistics.median(first_audio_app),
        "overhead_ms": {name: summary(values) for name, values in overhead.items()},
        "overhead_ms_1080p": statistics.median(overhead["1080p"]),
        "overhead_ms_2160p": statistics.median(overhead["2160p"]),
        "first_ttft_s": summary(first_ttft),
        "followup_ttft_s": summary(follow_ttft),
        "followup_ttft_ratio": statistics.median(follow_ttft) / statistics.median(first_ttft),
        "decode_tokens_per_s": {"app": summary(app_rates), "raw": summary(raw_rates)},
        "decode_rate_ratio": statistics.median(app_rates) / statistics.median(raw_rates),
    }


def window_visible(runs: int) -> dict[str, float] | None:
    """Launch to visible window of the installed app, or None without a display."""
    if not os.environ.get("DISPLAY"):
        return None
    from benchmarks.app import measure_launch

    with tempfile.TemporaryDirectory() as folder:
        model = build_llava(Path(folder) / "tiny")
        return summary([measure_launch(model, Path(folder) / "config") for _ in range(runs)])


def table(report: dict[str, Any]) -> str:
    """The figures as a markdown table."""
    lines = ["| model | first audio: app s | first audio: naive s | speedup | overhead 1080p ms | overhead 2160p ms "
             "| follow-up / first TTFT | decode app / raw (tok/s) |", "|---|---|---|---|---|---|---|---|"]
    stage_lines = ["| model | picture | intake | fitting | processing | hop to worker | hop back | sum (overhead) "
                   "| difference cross-check | speaker: sentence to device |",
                   "|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in report["models"].items():
        app, naive = row["time_to_first_audio_s"]["app"], row["time_to_first_audio_s"]["naive"]
        rates = row["decode_tokens_per_s"]
        over = row["overhead_ms"]
        lines.append(
            f"| {name} | {app['median']:.3f} ({app['min']:.3f}-{app['max']:.3f}) "
            f"| {naive['median']:.3f} ({naive['min']:.3f}-{naive['max']:.3f}) "
            f"| {row['time_to_first_audio_speedup']:.1f}x "
            f"| {over['1080p']['median']:.1f} ({over['1080p']['min']:.1f} to {over['1080p']['max']:.1f}) "
            f"| {over['2160p']['median']:.1f} ({over['2160p']['min']:.1f} to {over['2160p']['max']:.1f}) "
            f"| {row['followup_ttft_ratio']:.3f} "
            f"| {row['decode_rate_ratio']:.3f} ({rates['app']['median']:.1f} / {rates['raw']['median']:.1f}) |")
    for name, row in report["models"].items():
        for picture in ("1080p", "2160p"):
            stage = row["stages_ms"][picture]
            total, difference = row["overhead_by_stages_ms"][picture], row["overhead_ms"][picture]
            speaker = row["speaker_first_sentence_to_device_ms"]
            spoken = f"{speaker['median']:.1f}" if picture == "1080p" else ""
            stage_lines.append(
                f"| {name} | {picture} | " + " | ".join(f"{stage[key]['median']:.2f}" for key in StageClock.STAGES)
                + f" | {total['median']:.1f} ({total['min']:.1f} to {total['max']:.1f}) "
                f"| {difference['median']:.1f} ({difference['min']:.1f} to {difference['max']:.1f}) "
                f"| {spoken} |")
    lines += ["", "The app's own path by stage (ms, medians; the sum with its min and max):", *stage_lines]
    window = report.get("window_visible_s_detail")
    lines.append("")
    lines.append("window visible after launch: " + (
        f"{window['median']:.3f} s ({window['min']:.3f}-{window['max']:.3f})" if window
        else "skipped: there is no display (DISPLAY is not set), so no window can be shown; everything else was "
             "measured"))
    lines.append(f"peak memory of this process: {report['peak_rss_mb']:.0f} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run it all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="write the figures here")
    parser.add_argument("--quick", action="store_true", help="the tiny model only")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = {"tiny": TINY} if args.quick else {"tiny": TINY, "mid": MID}
    report: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
                              "measured_at": time.strftime("%Y-%m-%d %H:%M"), "runs": args.runs, "models": {}}
    with tempfile.TemporaryDirectory() as scratch, PrivatePulse() as pulse:
        os.environ.update(pulse.env)
        if not os.environ.get("DISPLAY"):  # a GPU server or CI: the audio needs an application, not a screen
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        from seeing_assistant import speech

        _application = QApplication.instance() or QApplication([])
        output = speech.QtAudioOutput()
        speaker = speech.VoiceSpeaker(output)
        synthesizer = speech.default_synthesizer()
        for name, size in sizes.items():
            folder = build_llava(Path(scratch) / name, size)
            report["models"][name] = measure_model(folder, args.runs, speaker, output, synthesizer)
        if not args.quick:  # the catalogue's small model for computers without a GPU, at its real size
            small = build_smolvlm(Path(scratch) / "smolvlm-256m", real_shape=True)
            report["small_model"] = small_model_first_audio(small, args.runs, speaker, output)
        # The same model answering through a model server (transformers serve on 127.0.0.1).
        served = "tiny" if args.quick else "mid"
        report["server"] = {"models": {served: server.measure(Path(scratch) / served, Path(scratch), args.runs,
                                                               speaker, output)}}
        speaker.close()
    report["window_visible_s_detail"] = window_visible(args.runs)
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    headline = report["models"]["tiny" if args.quick else "mid"]
    for key in ("time_to_first_audio_speedup", "overhead_ms_1080p", "overhead_ms_2160p", "overhead_by_stages_ms_1080p",
                "overhead_by_stages_ms_2160p", "followup_ttft_ratio", "decode_rate_ratio"):
        report[key] = headline[key]
    window = report["window_visible_s_detail"]
    report["window_visible_s"] = window["median"] if window else None
    print(table(report))
    small_model = report.get("small_model")
    if small_model:
        first_audio, first_token = small_model["time_to_first_audio_s"], small_model["time_to_first_token_s"]
        print(f"\nSmall model ({small_model['model']}, {small_model['prompt_tokens']} prompt tokens) on the CPU: "
              f"first audio {first_audio['median']:.2f} s ({first_audio['min']:.2f}-{first_audio['max']:.2f}), "
              f"first token {first_token['median']:.2f} s")
    print()
    print("Through a model server (transformers serve, CPU, on 127.0.0.1):")
    print(server.table(report["server"]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    finish(main())
