"""The product's main path on a GPU: a LLaVA-1.5-7B-shaped model in fp16, measured in one prepared run.

    python -m benchmarks.gpu --json out.json        # on a CUDA machine (an H100: about 5 minutes)
    python -m benchmarks.gpu --small --json out.json # the same code on a tiny model on the CPU (the tests run it)

Builds the model with random weights directly on the device (no 14 GB file written or read): CLIP ViT-L/14 at
336 px and a Llama-2-7B decoder, the shapes of ``llava-hf/llava-1.5-7b-hf``. Measures, for a 1920x1080 screenshot's
prompt (576 image tokens and the question):

- memory bandwidth: a large on-device copy (bytes read and written over its time);
- time to first token (the whole prefill, the vision tower included) and decode tokens/s over 200 new tokens, with
  SDPA attention: with the dynamic key/value cache the app uses, and with a static cache plus ``torch.compile``;
- the fraction of the bandwidth bound that decode reaches: the bound is the bandwidth over the bytes of weights one
  token reads (the language model's, the vision tower is not read while decoding);
- the same in 4-bit with bitsandbytes (CUDA only);
- the app's whole path on that model: the engine from the screenshot's intake, streaming into the sentence speaker
  (eSpeak NG) writing a WAV file: time to first audio, from the request to the first sample written.

Targets on an H100 (80 GB): decode at least 60% of the bandwidth bound, time to first token at most 80 ms, time to
first audio at most 0.5 s, 4-bit decode at least as fast as fp16. Prints a table and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.random_models import TINY, ModelSize, build_llava_processor, llava_config, suppress_breaking_tokens

from benchmarks.engine import screenshot, summary
from seeing_assistant.core.cancel import CancelToken

# llava-hf/llava-1.5-7b-hf: CLIP ViT-L/14-336 (24 layers, 1024 wide) and Llama-2-7B (32 layers, 4096 wide).
SEVEN_B = ModelSize(vocab_size=32000, vision_hidden=1024, vision_layers=24, vision_heads=16, text_hidden=4096,
                    text_layers=32, text_heads=32, text_intermediate=11008)
QUESTION = "Describe the screen for a blind person: the main window, its text, and what has the focus."
DECODE_TOKENS = 200


def device_bandwidth(torch: Any, device: str, megabytes: int) -> float:
    """Bytes per second of a large on-device copy (each byte read once and written once)."""
    source = torch.empty(megabytes * 2**20, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    target.copy_(source)  # warm up
    runs = []
    for _ in range(5):
        synchronize(torch, device)
        started = time.perf_counter()
        target.copy_(source)
        synchronize(torch, device)
        runs.append(time.perf_counter() - started)
    return 2 * source.numel() / statistics.median(runs)


def synchronize(torch: Any, device: str) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def build_model(size: ModelSize, device: str, dtype: Any, processor: Any) -> Any:
    """The LLaVA model with random weights made on ``device`` itself, in ``dtype``."""
    import torch
    from transformers import LlavaForConditionalGeneration

    config = llava_config(size, processor.tokenizer)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlavaForConditionalGeneration._from_config(config, dtype=dtype, attn_implementation="sdpa")
    suppress_breaking_tokens(model, processor.tokenizer)
    return model.eval()


def decoder_bytes(model: Any) -> int:
    """The bytes of weights one decoded token reads: the language model and its output layer, not the vision tower."""
    language = model.model.language_model
    total = sum(parameter.numel() * parameter.element_size() for parameter in language.parameters())
    return total + sum(parameter.numel() * parameter.element_size() for parameter in model.lm_head.parameters())


def timed_generate(torch: Any, model: Any, inputs: dict[str, Any], tokens: int, device: str,
                   **options: Any) -> tuple[float, float]:
    """(seconds to the first token, tokens/s after it) of one ``generate`` of ``tokens`` new tokens."""
    from transformers.generation.streamers import BaseStreamer

    stamps: list[float] = []

    class Clock(BaseStreamer):
        def put(self, value: Any) -> None:
            synchronize(torch, device)
            stamps.append(time.perf_counter())

        def end(self) -> None:
            pass

    synchronize(torch, device)
    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(**inputs, do_sample=False, max_new_tokens=tokens, min_new_tokens=tokens, streamer=Clock(),
                       **options)
    first = stamps[1] - started  # the first put() is the prompt
    rate = (len(stamps) - 2) / (stamps[-1] - stamps[1]) if len(stamps) > 2 else 0.0
    return first, rate


def measure_variant(torch: Any, model: Any, inputs: dict[str, Any], device: str, runs: int, bound: float,
                    **options: Any) -> dict[str, Any]:
    """Time to first token and decode rate of one configuration, after a warm-up (which compiles, if asked)."""
    timed_generate(torch, model, inputs, 4, device, **options)
    first = [timed_generate(torch, model, inputs, 1, device, **options)[0] for _ in range(runs)]
    rates = [timed_generate(torch, model, inputs, DECODE_TOKENS, device, **options)[1]
             for _ in range(max(1, runs // 2))]
    rate = statistics.median(rates)
    return {"time_to_first_token_s": summary(first), "decode_tokens_per_s": summary(rates),
            "bandwidth_bound_fraction": rate / bound if bound else None}


def app_first_audio(model: Any, processor: Any, device: str, runs: int, folder: Path) -> dict[str, float]:
    """The app's whole path: intake, the engine streaming into the sentence speaker that writes a WAV file."""
    from seeing_assistant import speech
    from seeing_assistant.core import devices, intake
    from seeing_assistant.core.engine import Engine
    from seeing_assistant.core.engine_settings import EngineSettings

    dtype = "float16" if device.startswith("cuda") else "float32"
    engine = Engine(EngineSettings(model="random LLaVA-1.5-7B shape", device=device, dtype=dtype), processor, model,
                    devices.Placement(device=device, dtype=dtype), 0.0)
    raw = screenshot().image
    engine.ask(engine.start(intake.from_pil(raw, source="warm-up")), QUESTION, max_new_tokens=4)
    results = []
    for run in range(runs):
        output = speech.WavFileOutput(folder / f"answer-{run}.wav")
        first_sample: dict[str, float] = {}
        play = output.play

        def played(pcm: Any, play: Any = play, first_sample: dict[str, float] = first_sample) -> None:
            first_sample.setdefault("at", time.perf_counter())
            play(pcm)

        setattr(output, "play", played)  # noqa: B010 - the moment the first sentence's sound is written
        speaker = speech.VoiceSpeaker(output)
        requested = time.perf_counter()
        image = intake.from_pil(raw, source="screenshot")

        stop = CancelToken()  # this answer's own Stop, pressed once the first audio is out

        def on_text(piece: str, speaker: Any = speaker, first_sample: dict[str, float] = first_sample,
                    stop: CancelToken = stop) -> None:
            speaker.feed(piece)
            if first_sample:
                stop.cancel()

        engine.ask(engine.start(image), QUESTION, on_text=on_text, max_new_tokens=60, min_new_tokens=60,
                   logits_processor=[full_stops(processor.tokenizer)], cancel=stop)
        speaker.finish()
        deadline = time.perf_counter() + 60
        while not first_sample and time.perf_counter() < deadline:
            time.sleep(0.001)
        results.append(first_sample["at"] - requested)
        speaker.close()
    return summary(results)


def full_stops(tokenizer: Any) -> Any:
    """Make every 12th new token a full stop, as a real model writes sentences (random weights write none)."""
    import torch
    from transformers import LogitsProcessor

    stop = tokenizer.convert_tokens_to_ids(".")

    class FullStops(LogitsProcessor):
        def __init__(self) -> None:
            self.prompt: int | None = None

        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            self.prompt = self.prompt or input_ids.shape[1]
            if (input_ids.shape[1] - self.prompt) % 12 == 11:
                only = torch.full_like(scores, float("-inf"))
                only[:, stop] = 0
                return only  # type: ignore[return-value]
            return scores

    return FullStops()


def run(small: bool, runs: int) -> dict[str, Any]:
    """Every figure; ``small``: the tiny model on the CPU in float32 (the same code, for the tests)."""
    import torch

    device = "cpu" if small or not torch.cuda.is_available() else "cuda"
    if not small and device == "cpu":
        raise SystemExit("No CUDA GPU here: run with --small to try the script on the CPU.")
    dtype = torch.float32 if device == "cpu" else torch.float16
    size = TINY if small else SEVEN_B
    processor = build_llava_processor(size.vocab_size)
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else f"CPU ({platform.machine()}, "
                                                                             f"{os.cpu_count()} cores)",
        "shape": "tiny" if small else "llava-1.5-7b", "dtype": str(dtype).removeprefix("torch."),
        "torch": torch.__version__, "measured_at": time.strftime("%Y-%m-%d %H:%M"), "runs": runs}
    report["bandwidth_gb_s"] = device_bandwidth(torch, device, 256 if small else 4096) / 1e9
    started = time.perf_counter()
    model = build_model(size, device, dtype, processor)
    synchronize(torch, device)
    report["build_s"] = time.perf_counter() - started
    image = screenshot()
    inputs = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image", "image": image.image}, {"type": "text", "text": QUESTION}]}],
        add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt")
    inputs = {key: value.to(device, dtype) if value.is_floating_point() else value.to(device)
              for key, value in inputs.items()}
    report["prompt_tokens"] = int(inputs["input_ids"].shape[1])
    report["decoder_bytes_per_token"] = decoder_bytes(model)
    bound = report["bandwidth_gb_s"] * 1e9 / report["decoder_bytes_per_token"]
    report["bandwidth_bound_tokens_per_s"] = bound
    variants: dict[str, Any] = {}
    variants["sdpa, dynamic cache"] = measure_variant(torch, model, inputs, device, runs, bound)
    from transformers import CompileConfig

    # A static cache makes generate compile the model's forward (CUDA graphs, "reduce-overhead"); on the CPU
    # transformers leaves it uncompiled, so --small checks the same code path without the compiler.
    try:
        variants["sdpa, static cache + torch.compile"] = measure_variant(
            torch, model, inputs, device, runs, bound, cache_implementation="static",
            compile_config=CompileConfig(mode="reduce-overhead"))
        variants["sdpa, static cache + torch.compile"]["compiled"] = device.startswith("cuda")
    except Exception as error:  # noqa: BLE001 - a backend that cannot compile here is reported, not fatal
        variants["sdpa, static cache + torch.compile"] = {"skipped": f"{type(error).__name__}: {error}"[:300]}
    report["variants"] = variants
    with tempfile.TemporaryDirectory() as folder:
        report["app_time_to_first_audio_s"] = app_first_audio(model, processor, device, runs, Path(folder))
    # Last, since it changes the model in place.
    variants["4-bit (bitsandbytes nf4)"] = four_bit(torch, model, device, inputs, runs)
    return report


def four_bit(torch: Any, model: Any, device: str, inputs: dict[str, Any], runs: int) -> dict[str, Any]:
    """The decoder's linear layers quantized to 4 bits (nf4) with bitsandbytes, in place, where there is a CUDA GPU.

    Each layer's random fp16 weights are quantized as bitsandbytes does when a model loads in 4-bit (Params4bit
    moved to the GPU), so no file is written; the vision tower, the projector and the output layer stay fp16, as
    transformers keeps them. Untested on this machine (no GPU): it runs on the first CUDA machine lent.
    """
    if not device.startswith("cuda"):
        return {"skipped": "bitsandbytes' 4-bit weights need a CUDA GPU"}
    try:
        import bitsandbytes as bnb
    except ImportError:
        return {"skipped": "bitsandbytes is not installed (pip install '.[quantization]')"}
    language = model.model.language_model
    for module in list(language.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                quantized = bnb.nn.Linear4bit(child.in_features, child.out_features, bias=child.bias is not None,
                                              compute_dtype=torch.float16, quant_type="nf4", device="cpu")
                quantized.weight = bnb.nn.Params4bit(child.weight.data.to("cpu"), requires_grad=False,
                                                     quant_type="nf4")
                setattr(module, name, quantized.to(device))
                del child
    torch.cuda.empty_cache()
    bound_bytes = decoder_bytes(model)
    result = measure_variant(torch, model, inputs, device, runs, 0.0)
    result["decoder_bytes_per_token"] = bound_bytes
    return result


def table(report: dict[str, Any]) -> str:
    """The figures as a markdown table."""
    lines = [f"{report['device']}, {report['shape']} shape in {report['dtype']}, {report['prompt_tokens']} prompt "
             f"tokens; bandwidth {report['bandwidth_gb_s']:.0f} GB/s, bound "
             f"{report['bandwidth_bound_tokens_per_s']:.1f} tokens/s", "",
             "| configuration | time to first token s | decode tokens/s | of the bandwidth bound |",
             "|---|---|---|---|"]
    for name, row in report["variants"].items():
        if "skipped" in row:
            lines.append(f"| {name} | skipped: {row['skipped']} | | |")
            continue
        first, rate = row["time_to_first_token_s"], row["decode_tokens_per_s"]
        fraction = row.get("bandwidth_bound_fraction")
        lines.append(f"| {name} | {first['median']:.4f} ({first['min']:.4f}-{first['max']:.4f}) "
                     f"| {rate['median']:.1f} | {f'{fraction:.0%}' if fraction else '-'} |")
    audio = report["app_time_to_first_audio_s"]
    lines.append(f"\nthe app's time to first audio: {audio['median']:.3f} s ({audio['min']:.3f}-{audio['max']:.3f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run it all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="write the figures here")
    parser.add_argument("--small", action="store_true", help="the tiny model on the CPU (checks the script)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    report = run(args.small, args.runs)
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
