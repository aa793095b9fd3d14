"""Engine benchmark: time to first token, decode rate, and a follow-up's time to first token against the first's.

Run ``python -m benchmarks.engine`` (add ``--size tiny`` for a quick run, ``--json out.json`` to keep the figures).
It builds random-weight LLaVA-1.5-shaped models offline and measures the app's own ``Engine`` on them, in each
precision the CPU could use, so the CPU's default precision is chosen by measurement. Medians of ``--runs`` runs,
with min and max.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from tests.support.random_models import MID, TINY, build_llava

from seeing_assistant.core import intake
from seeing_assistant.core.engine import Engine
from seeing_assistant.core.engine_settings import EngineSettings

SIZES = {"tiny": TINY, "mid": MID}


def screenshot(width: int = 1920, height: int = 1080) -> intake.IntakeImage:
    """A synthetic screenshot: title bar, two windows and some text, run through the app's intake."""
    image = Image.new("RGB", (width, height), (30, 30, 40))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 32), fill=(220, 220, 220))
    draw.rectangle((100, 80, 1000, 700), fill=(255, 255, 255))
    draw.rectangle((1100, 200, 1800, 900), fill=(240, 240, 200))
    for line in range(20):
        draw.text((120, 100 + line * 28), f"Line {line}: the quick brown fox jumps over the lazy dog", fill="black")
    return intake.from_pil(image, source="benchmark screenshot")


def summary(values: list[float]) -> dict[str, float]:
    """Median, min and max of a list of measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def cell(figure: dict[str, float], digits: int) -> str:
    """A summary as a table cell: "median (min to max)"."""
    return f"{figure['median']:.{digits}f} ({figure['min']:.{digits}f} to {figure['max']:.{digits}f})"


def measure(folder: Path, dtype: str, runs: int, answer_tokens: int) -> dict[str, Any]:
    """Load the model once in ``dtype`` and time first questions and follow-ups on the same screenshot."""
    engine = Engine.load(EngineSettings(model=str(folder), device="cpu", dtype=dtype))
    image = screenshot()
    engine.ask(engine.start(image), "Warm up.", max_new_tokens=2)
    first_ttft, follow_ttft, rates, reused = [], [], [], []
    for _ in range(runs):
        conversation = engine.start(image)
        first = engine.ask(conversation, "Describe the screen.", max_new_tokens=answer_tokens,
                           min_new_tokens=answer_tokens)
        follow = engine.ask(conversation, "What does the title bar say?", max_new_tokens=8, min_new_tokens=8)
        assert first.time_to_first_token_s is not None and follow.time_to_first_token_s is not None
        first_ttft.append(first.time_to_first_token_s)
        follow_ttft.append(follow.time_to_first_token_s)
        if first.tokens_per_s is not None:
            rates.append(first.tokens_per_s)
        reused.append(follow.reused_tokens)
    return {
        "dtype": dtype,
        "load_s": engine.load_s,
        "time_to_first_token_s": summary(first_ttft),
        "followup_time_to_first_token_s": summary(follow_ttft),
        "followup_ttft_ratio": statistics.median(follow_ttft) / statistics.median(first_ttft),
        "tokens_per_s": summary(rates),
        "followup_reused_tokens": statistics.median(reused),
        "answer_tokens": answer_tokens,
    }


def table(results: dict[str, list[dict[str, Any]]]) -> str:
    """The results as a markdown table."""
    lines = [
        "| model | dtype | first TTFT s (min-max) | follow-up TTFT s (min-max) | follow-up / first | tokens/s |",
        "|---|---|---|---|---|---|",
    ]
    for size, rows in results.items():
        for row in rows:
            first, follow, rate = row["time_to_first_token_s"], row["followup_time_to_first_token_s"], row[
                "tokens_per_s"]
            lines.append(
                f"| {size} | {row['dtype']} | {first['median']:.3f} ({first['min']:.3f}-{first['max']:.3f}) "
                f"| {follow['median']:.3f} ({follow['min']:.3f}-{follow['max']:.3f}) "
                f"| {row['followup_ttft_ratio']:.3f} | {rate['median']:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    """Build the models, measure, print a table and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", choices=[*SIZES, "all"], default="all")
    parser.add_argument("--dtypes", default="float32,bfloat16", help="comma-separated CPU precisions to compare")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--answer-tokens", type=int, default=64)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    sizes = list(SIZES) if args.size == "all" else [args.size]
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            folder = build_llava(Path(scratch) / size, SIZES[size])
            results[size] = [measure(folder, dtype, args.runs, args.answer_tokens)
                             for dtype in args.dtypes.split(",")]
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%d %H:%M"), "results": results},
                                        indent=2))


if __name__ == "__main__":
    main()
