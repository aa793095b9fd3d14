"""What the screen's text in the prompt costs the first word: the prefill of the OCR text, measured by itself.

    python -m benchmarks.grounding [--json FILE] [--runs 5] [--budget N] [--quick]

The first question about a screen carries the screen's OCR text before the question (``core.grounding``), cut to a
token budget. The engine times how fast its model reads a prompt's text when it loads (``text_tokens_per_s``), and
the budget is what it reads in ``grounding.TEXT_SECONDS`` (2 s), header included, up to 1,024 tokens; none when that
leaves too little room. This benchmark checks that promise on the model shapes a CPU user meets:

- SmolVLM-256M-Instruct's real shape (random weights): the catalogue's model for a computer without a GPU;
- LLaVA-1.5-7B's language model (Vicuna-7B's shape: 4096 wide, 32 layers) as a 2-layer slice with random weights
  (the 7B itself does not fit this machine's memory in fp32). The whole model's rate is taken as the slice's over 16,
  and its prefill as the slice's times 16 (an upper bound: the embedding and the one row of logits count 16 times).

Per model, with the real engine and the real recogniser: a busy screen's text (the five drawn screens of
``tests/support/screens.py``, recognised, as one screen's text) is cut to the budget the engine chose (or
``--budget``) and put into the grounded prompt by the engine's own processor. The part of the prompt before the
text (template and image) is run once to fill the cache, then the text's tokens alone are run on that cache and
timed: that is the wait the text adds. Reported: the rate the engine timed at load, the budget, the text's characters
and tokens, its prefill (median, min, max), the first token of the question without the text through
``Engine.ask`` (each run right after the text's), and their ratio per run. Figures are medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.random_models import ModelSize, build_llava, build_smolvlm

from benchmarks.engine import cell, summary

QUESTION = "What is the total on this screen?"
# Vicuna-7B's decoder (LLaVA-1.5-7B's language model), two of its 32 layers; a small vision tower, since only the
# number of image tokens (576) matters here, not what they say.
LLAVA_7B_SLICE = ModelSize(vocab_size=32000, vision_hidden=64, vision_layers=1, vision_heads=2,
                           text_hidden=4096, text_layers=2, text_heads=32, text_intermediate=11008)
LLAVA_7B_LAYERS = 32


def the_screen() -> tuple[Any, Any]:
    """The drawn application window as the picture, and a busy screen's text: every drawn screen's, recognised."""
    from tests.support.screens import all_screens

    from seeing_assistant.core import intake, messages
    from seeing_assistant.core.ocr import ScreenText, TextReader

    screens = all_screens()
    reader = TextReader()
    reader.load()
    blocks = [block for screen in screens for block in reader.read(screen.image).blocks]
    return intake.from_pil(screens[0].image, source=messages.THE_SCREEN), ScreenText(blocks, screens[0].image.size)


def prompt_parts(engine: Any, image: Any, text: Any, budget: int) -> tuple[dict[str, Any], int, int, str]:
    """The grounded prompt's inputs, where its OCR text starts and ends (in tokens), and the grounded question.

    The random models' tokenizers are trained on a few sentences and cut OCR text into about 2.5 times the tokens a
    real one does, so the span timed is the first ``characters / CHARACTERS_PER_TOKEN`` tokens of the text: as many
    as the budget assumes a real tokenizer makes.
    """
    from seeing_assistant.core import grounding

    asked = grounding.grounded(QUESTION, text, budget)
    conversation = engine.start(image)
    grounded_inputs = engine._process(conversation.messages(asked))
    plain_ids = engine._process(conversation.messages(QUESTION))["input_ids"][0].tolist()
    grounded_ids = grounded_inputs["input_ids"][0].tolist()
    start = 0
    while start < len(plain_ids) and plain_ids[start] == grounded_ids[start]:
        start += 1
    end = len(grounded_ids) - (len(plain_ids) - start)  # the question and what follows it are shared again
    real_tokens = -(-(len(asked) - len(QUESTION)) // grounding.CHARACTERS_PER_TOKEN)
    return dict(grounded_inputs), start, min(end, start + real_tokens), asked


def text_prefill(engine: Any, inputs: dict[str, Any], start: int, end: int) -> float:
    """Seconds for the model to read the OCR text's tokens ``start:end`` on the cache of everything before them."""
    import torch

    model = engine.model
    prefix = {key: value for key, value in inputs.items() if key not in ("input_ids", "attention_mask")}
    prefix = {key: (value.to(model.dtype) if value.is_floating_point() else value) for key, value in prefix.items()}
    ids = inputs["input_ids"]
    with torch.inference_mode():
        before = model(input_ids=ids[:, :start], attention_mask=torch.ones(1, start, dtype=torch.long),
                       use_cache=True, logits_to_keep=1, **prefix)
        started = time.perf_counter()
        model(input_ids=ids[:, start:end], attention_mask=torch.ones(1, end, dtype=torch.long), cache=before.cache,
              cache_position=torch.arange(start, end), use_cache=True, logits_to_keep=1)
        return time.perf_counter() - started


def first_token(engine: Any, image: Any, question: str) -> float:
    """Seconds to the first token of ``question`` about ``image`` through ``Engine.ask`` (a fresh conversation)."""
    answer = engine.ask(engine.start(image), question, max_new_tokens=1, min_new_tokens=1)
    return float(answer.time_to_first_token_s or 0.0)


def measure(name: str, folder: Path, image: Any, text: Any, budget: int | None, runs: int,
            scale: float = 1.0) -> dict[str, Any]:
    """One model's figures; ``scale`` turns a slice's timings into the whole model's (1 for a whole model)."""
    from seeing_assistant.core import grounding
    from seeing_assistant.core.engine import Engine
    from seeing_assistant.core.engine_settings import EngineSettings

    engine = Engine.load(EngineSettings(model=str(folder), device="cpu"))
    rate = engine.text_tokens_per_s / scale if engine.text_tokens_per_s else None
    chosen = grounding.budget_for("cpu", rate) if budget is None else budget
    report: dict[str, Any] = {"model": name, "reading_rate_tokens_per_s": rate, "budget_tokens": chosen}
    plain, prefill = [], []
    if chosen:
        inputs, start, end, asked = prompt_parts(engine, image, text, chosen)
        text_prefill(engine, inputs, start, end)  # warm-up
        report.update(ocr_characters=len(asked) - len(QUESTION), ocr_tokens=end - start)
    for _ in range(runs):
        if chosen:
            prefill.append(text_prefill(engine, inputs, start, end) * scale)
        plain.append(first_token(engine, image, QUESTION) * scale)
    report["first_token_plain_s"] = summary(plain)
    if prefill:
        report["text_prefill_s"] = summary(prefill)
        report["text_over_plain"] = summary([added / without for added, without in zip(prefill, plain, strict=True)])
    del engine
    return report


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of the figures."""
    lines = ["| model | reading rate (tokens/s) | budget (tokens) | OCR text (characters / tokens) | its prefill (s) "
             "| first token without it (s) | ratio |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        rate = row["reading_rate_tokens_per_s"]
        start = f"| {row['model']} | {rate:.0f} | {row['budget_tokens']} |" if rate else \
            f"| {row['model']} | - | {row['budget_tokens']} |"
        plain = f"{row['first_token_plain_s']['median']:.2f}"
        if "text_prefill_s" in row:
            lines.append(f"{start} {row['ocr_characters']} / {row['ocr_tokens']} | {cell(row['text_prefill_s'], 2)} "
                         f"| {plain} | {row['text_over_plain']['median']:.2f} |")
        else:
            lines.append(f"{start} none: the question goes alone | 0 | {plain} | 0 |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, and write the JSON when asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--budget", type=int, help="OCR text tokens (default: the engine's own choice)")
    parser.add_argument("--quick", action="store_true", help="tiny models, one run: checks that it works")
    args = parser.parse_args(argv)
    image, text = the_screen()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        if args.quick:
            rows.append(measure("tiny LLaVA", build_llava(Path(scratch) / "tiny"), image, text, args.budget, 1))
            rows.append(measure("tiny SmolVLM", build_smolvlm(Path(scratch) / "smol"), image, text, args.budget, 1))
        else:
            smol = build_smolvlm(Path(scratch) / "smolvlm-256m", real_shape=True)
            rows.append(measure("SmolVLM-256M's shape", smol, image, text, args.budget, args.runs))
            sliced = build_llava(Path(scratch) / "llava-7b-slice", LLAVA_7B_SLICE)
            rows.append(measure("LLaVA-1.5-7B (a 2-layer slice of its language model, times 16)", sliced, image,
                                text, args.budget, args.runs, scale=LLAVA_7B_LAYERS / LLAVA_7B_SLICE.text_layers))
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"when": time.strftime("%Y-%m-%d"), "runs": args.runs,
                                               "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
