"""How fast Stop acts wherever the answer is: milliseconds from Stop to the request's end, stage by stage.

    python -m benchmarks.stop [--json FILE] [--runs 5] [--quick]

Each request carries its own cancel token (``core.cancel``); the local engine checks it before every block of the
model and before each projection, norm and activation inside one (``engine._install_stop_checks``), and between
tokens. This benchmark presses Stop as the window does, from another thread, at a chosen moment of one stage, and
times from ``token.cancel()`` to ``AssistantSession.ask`` returning (the engine's thread free for the next request):

- ``ocr``: halfway through the text recogniser's reading of a drawn application window (the first question about a
  screen carries its text; one of the recogniser's ONNX passes cannot be cut, so the session leaves it in the
  background and returns);
- ``vision``: halfway through the image's encoding by the vision tower;
- ``prefill_25``, ``prefill_50``, ``prefill_75``: at that share of the language model's read of a long prompt (the
  picture's tokens and 1,024 tokens of text: the screen-text budget's cap);
- ``decode``: halfway through a 64-token answer.

The moments come from a first, unstopped run of the same request, timed by hooks on the model's first vision block,
its first decoder layer and its head. A Stop that landed in another stage than meant (the machine slowed or sped up)
is counted under the stage it landed in. Each stage's figure is the median and the max of ``--runs`` Stops; the
longest stretch the model ran without a check in that stage is named, since that bounds the stage's Stop.

Models: the mid-size random LLaVA-1.5 (``stop_ms``) and SmolVLM-256M-Instruct's real shape with random weights
(``stop_ms_small``). The decode rate with and without the checks is measured in alternating pairs in the same run
(``decode_tokens_per_s``, and their ratio). With a model server, ``benchmarks.server.measure_stop`` gives
``stop_ms_server`` when it is there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.random_models import MID, TINY, build_llava, build_smolvlm

from benchmarks.engine import summary
from seeing_assistant.core.cancel import CancelToken

LONG_TEXT_TOKENS = 1024  # the screen-text budget's cap (core.grounding): the longest first question the app makes
DECODE_TOKENS = 64
SHORT_QUESTION = "What is on the screen?"
STAGES = ("ocr", "vision", "prefill_25", "prefill_50", "prefill_75", "decode")
_TEXT = "The quick brown fox jumps over the lazy dog near the river bank at 10:45 on a Monday. "


class StageClock:
    """Hooks on a model that mark when its image's encoding, its prefill and its first token begin and end.

    It also records each check point's time (before every block part, as the engine's own checks are placed, and
    between an attention's query chunks), so that the longest stretch between two checks in each stage can be named.
    """

    def __init__(self, model: Any) -> None:
        import torch

        from seeing_assistant.core import stop_checks

        self._chunk_checks: list[tuple[Any, Any]] = []
        for name, module in model.named_modules():
            check = getattr(module, stop_checks._CHECK, None)
            if check is not None and hasattr(module, "is_causal"):  # an attention module, checked between chunks
                self._chunk_checks.append((module, check))
                setattr(module, stop_checks._CHECK, self._chunk_point(f"{name} (between chunks)", check))
        self.marks: dict[str, float] = {}
        self.points: list[tuple[float, str]] = []
        self.events = {name: threading.Event() for name in ("vision", "prefill", "decode")}
        self._handles = []
        vision_blocks: list[tuple[str, Any]] = []
        text_blocks: list[tuple[str, Any]] = []
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.ModuleList) and len(module):
                (vision_blocks if "vision" in name else text_blocks).append((name, module))
                for index, block in enumerate(module):
                    for part_name, part in block.named_modules():
                        if part is block or not any(part.children()):
                            label = f"{name}.{index}{'.' + part_name if part_name else ''}"
                            self._handles.append(part.register_forward_pre_hook(self._point(label)))
        if vision_blocks:
            self._handles.append(vision_blocks[0][1][0].register_forward_pre_hook(self._mark("vision")))
        self._handles.append(text_blocks[0][1][0].register_forward_pre_hook(self._mark("prefill")))
        head = model.get_output_embeddings()
        self._handles.append(head.register_forward_pre_hook(self._point("the head")))
        self._handles.append(head.register_forward_hook(self._mark("decode")))

    def _point(self, label: str) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            self.points.append((time.perf_counter(), label))
        return hook

    def _chunk_point(self, label: str, check: Callable[..., None]) -> Callable[..., None]:
        def chunk_check(*arguments: Any) -> None:
            self.points.append((time.perf_counter(), label))
            check(*arguments)
        return chunk_check

    def _mark(self, name: str) -> Callable[..., None]:
        def hook(*_: Any) -> None:
            if name not in self.marks:
                self.marks[name] = time.perf_counter()
                self.events[name].set()
        return hook

    def reset(self) -> None:
        """Forget the last request's marks."""
        self.marks.clear()
        self.points.clear()
        for event in self.events.values():
            event.clear()

    def stage_at(self, moment: float, ocr: tuple[float, float] | None = None) -> str:
        """The stage the request was in at ``moment``."""
        if ocr is not None and ocr[0] <= moment < ocr[1]:
            return "ocr"
        if "decode" in self.marks and moment >= self.marks["decode"]:
            return "decode"
        if "prefill" in self.marks and moment >= self.marks["prefill"]:
            return "prefill"
        return "vision" if "vision" in self.marks and moment >= self.marks["vision"] else "before"

    def longest_gaps(self) -> dict[str, dict[str, Any]]:
        """Per stage, the longest time between two check points, and the part that ran in it."""
        gaps: dict[str, dict[str, Any]] = {}
        for (start, label), (end, _) in zip(self.points, self.points[1:], strict=False):
            stage = self.stage_at(start)
            gap = (end - start) * 1000
            if gap > gaps.get(stage, {}).get("ms", -1):
                gaps[stage] = {"ms": round(gap, 1), "after": label}
        return gaps

    def remove(self) -> None:
        """Take the hooks out."""
        from seeing_assistant.core import stop_checks

        for handle in self._handles:
            handle.remove()
        for module, check in self._chunk_checks:
            setattr(module, stop_checks._CHECK, check)


class TimedReader:
    """The real text recogniser, with the moments its read begins and ends."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.began = threading.Event()
        self.ended = threading.Event()
        self.span: tuple[float, float] = (0.0, 0.0)

    def load(self) -> None:
        """Load the real recogniser."""
        self.reader.load()

    def read(self, picture: Any, on_block: Any = None, should_stop: Any = None) -> Any:
        """Read as the real recogniser does, marking the start and the end."""
        self.ended.clear()
        started = time.perf_counter()
        self.began.set()
        try:
            return self.reader.read(picture, on_block=on_block, should_stop=should_stop)
        finally:
            self.span = (started, time.perf_counter())
            self.ended.set()


def long_question(engine: Any, text_tokens: int) -> str:
    """A question with ``text_tokens`` tokens of screen-like text before it, as a grounded first question is."""
    tokenizer = engine.processor.tokenizer
    ids = tokenizer(_TEXT * (text_tokens // 8 + 1), add_special_tokens=False)["input_ids"][:text_tokens]
    return tokenizer.decode(ids) + "\n\nWhat is on the screen?"


def press_stop(token: CancelToken, wait_for: threading.Event, delay_s: float, pressed: list[float]) -> threading.Thread:
    """A thread that presses Stop ``delay_s`` after ``wait_for`` is set, as the window's thread would."""
    def press() -> None:
        if not wait_for.wait(120):
            return
        began = time.perf_counter()
        while time.perf_counter() - began < delay_s:
            time.sleep(min(0.002, max(0.0, delay_s - (time.perf_counter() - began))))
        pressed.append(time.perf_counter())
        token.cancel()

    thread = threading.Thread(target=press, name="stop-presser", daemon=True)
    thread.start()
    return thread


def measure_model(folder: Path, runs: int, with_ocr: bool) -> dict[str, Any]:
    """Stop at every stage of a long first question about a screen, ``runs`` times each; the figures in ms."""
    from tests.support.screens import application_window

    from seeing_assistant.core import intake, messages
    from seeing_assistant.core.engine import Engine
    from seeing_assistant.core.engine_settings import EngineSettings
    from seeing_assistant.core.ocr import TextReader
    from seeing_assistant.core.session import AssistantSession

    engine = Engine.load(EngineSettings(model=str(folder), device="cpu", max_new_tokens=DECODE_TOKENS))
    picture = intake.from_pil(application_window().image, source=messages.THE_SCREEN)
    question = long_question(engine, LONG_TEXT_TOKENS)
    reader = TimedReader(TextReader()) if with_ocr else None
    if reader is not None:
        reader.load()
    clock = StageClock(engine.model)

    def first_question(stage: str) -> tuple[AssistantSession, Any]:
        # A fresh session each time: the first question of a conversation, with the picture's text read for the
        # OCR stage (the long text is the question's own in the others, so the recogniser stays out of them).
        session = AssistantSession(lambda _: engine, reader=reader if stage == "ocr" else None,
                                   text_budget=16 if stage == "ocr" else 0)
        session.load(EngineSettings(model=str(folder)))
        request = session.begin(picture)
        clock.reset()
        return session, request

    def ask(stage: str, session: AssistantSession, request: Any) -> Any:
        return session.ask(SHORT_QUESTION if stage == "ocr" else question, request=request,
                           max_new_tokens=DECODE_TOKENS)

    ask("model", *first_question("model"))  # warm-up: kernels chosen, memory allocated
    reply = ask("model", *first_question("model"))
    calibration = dict(clock.marks)
    gaps = clock.longest_gaps()
    answer = reply.answer
    prompt_tokens = answer.prompt_tokens if answer is not None else 0
    durations = {
        "vision": calibration["prefill"] - calibration.get("vision", calibration["prefill"]),
        "prefill": calibration["decode"] - calibration["prefill"],
    }
    ocr_span = None
    if reader is not None:
        ask("ocr", *first_question("ocr"))
        ocr_span = reader.span
        durations["ocr"] = ocr_span[1] - ocr_span[0]
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    landed_elsewhere: dict[str, int] = {}
    plans: list[tuple[str, str, float]] = []  # stage, the event to wait for, the delay after it
    if reader is not None:
        plans.append(("ocr", "ocr", 0.5 * durations["ocr"]))
    if durations["vision"] > 0:
        plans.append(("vision", "vision", 0.5 * durations["vision"]))
    plans += [(f"prefill_{share}", "prefill", share / 100 * durations["prefill"]) for share in (25, 50, 75)]
    plans.append(("decode", "decode", 0.5 * (answer.total_s - answer.time_to_first_token_s) if answer and
                  answer.time_to_first_token_s else 0.05))
    for attempt in range(3 * runs):  # a Stop that landed elsewhere is tried again, up to three times a run
        for stage, event_name, delay in plans:
            if len(samples[stage]) >= runs or (attempt >= runs and not landed_elsewhere.get(stage)):
                continue
            pressed: list[float] = []
            session, request = first_question(stage)
            if reader is not None:
                reader.ended.wait(60)  # the recogniser's pass a Stop left in the background has ended
                reader.began.clear()
            wait_for = reader.began if event_name == "ocr" and reader is not None else clock.events[event_name]
            presser = press_stop(request.token, wait_for, delay, pressed)
            reply = ask(stage, session, request)
            returned = time.perf_counter()
            presser.join(5)
            if not pressed:
                landed_elsewhere[stage] = landed_elsewhere.get(stage, 0) + 1
                continue
            span = reader.span if stage == "ocr" and reader is not None and reader.ended.is_set() else None
            at = clock.stage_at(pressed[0], span if span else (pressed[0], returned) if stage == "ocr" else None)
            meant = "prefill" if stage.startswith("prefill") else stage
            if at != meant or not reply.is_cancelled:
                landed_elsewhere[stage] = landed_elsewhere.get(stage, 0) + 1
                continue
            samples[stage].append((returned - pressed[0]) * 1000)
    clock.remove()
    rows = {stage: {**{key: round(value, 1) for key, value in summary(values).items()}, "n": len(values)}
            for stage, values in samples.items() if values}
    return {"prompt_tokens": prompt_tokens, "stage_s": {key: round(value, 3) for key, value in durations.items()},
            "stop_ms": rows, "landed_elsewhere": landed_elsewhere, "longest_unchecked_ms": gaps,
            "decode_tokens_per_s": decode_rates(engine, picture, runs)}


def decode_rates(engine: Any, picture: Any, runs: int) -> dict[str, Any]:
    """The decode rate with the checks and without them, in alternating pairs, and the ratio of their medians."""
    rates: dict[str, list[float]] = {"with_checks": [], "without_checks": []}
    for _ in range(max(3, runs)):
        for name, wanted in (("with_checks", True), ("without_checks", False)):
            engine.has_stop_checks = wanted
            answer = engine.ask(engine.start(picture), "Describe it.", max_new_tokens=DECODE_TOKENS,
                                min_new_tokens=DECODE_TOKENS)
            if answer.tokens_per_s:
                rates[name].append(answer.tokens_per_s)
    engine.has_stop_checks = True
    result: dict[str, Any] = {name: {key: round(value, 2) for key, value in summary(values).items()}
                              for name, values in rates.items()}
    result["ratio"] = round(statistics.median(rates["with_checks"]) / statistics.median(rates["without_checks"]), 3)
    return result


def table(report: dict[str, Any]) -> str:
    """A markdown table: each stage's Stop for each model."""
    models = [key for key in ("stop_ms", "stop_ms_small", "stop_ms_server") if key in report]
    lines = ["| stage | " + " | ".join(report["models"][key] for key in models) + " |",
             "|---|" + "---|" * len(models)]
    stages = list(STAGES) + [stage for key in models for stage in report[key] if stage not in STAGES]
    for stage in dict.fromkeys(stages):
        cells = []
        for key in models:
            figure = report[key].get(stage)
            cells.append(f"{figure['median']:.1f} (max {figure['max']:.1f})" if figure else "-")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, and write the JSON when asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny models, one run: checks that it works")
    parser.add_argument("--no-server", action="store_true", help="leave out the model server's Stop")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    report: dict[str, Any] = {"when": time.strftime("%Y-%m-%d"), "runs": runs, "models": {}}
    with tempfile.TemporaryDirectory() as scratch:
        mid = build_llava(Path(scratch) / "llava", TINY if args.quick else MID)
        measured = measure_model(mid, runs, with_ocr=True)
        report["models"]["stop_ms"] = "tiny LLaVA" if args.quick else "mid-size LLaVA-1.5 (random, 62 M)"
        report["stop_ms"] = measured.pop("stop_ms")
        report["mid"] = measured
        small = build_smolvlm(Path(scratch) / "smolvlm", real_shape=not args.quick)
        measured = measure_model(small, runs, with_ocr=False)
        report["models"]["stop_ms_small"] = "tiny SmolVLM" if args.quick else "SmolVLM-256M's shape (random)"
        report["stop_ms_small"] = measured.pop("stop_ms")
        report["small"] = measured
    if not args.no_server:
        from benchmarks import server

        measure_stop = getattr(server, "measure_stop", None)
        if measure_stop is not None:
            report["models"]["stop_ms_server"] = "model server (transformers serve, tiny LLaVA)"
            report["stop_ms_server"] = measure_stop(runs)
    print(table(report))
    for key in ("mid", "small"):
        rates = report[key]["decode_tokens_per_s"]
        print(f"{report['models']['stop_ms' if key == 'mid' else 'stop_ms_small']}: decode "
              f"{rates['with_checks']['median']:.1f} tokens/s with the checks, "
              f"{rates['without_checks']['median']:.1f} without (ratio {rates['ratio']:.3f}); "
              f"longest unchecked stretch per stage: {report[key]['longest_unchecked_ms']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
