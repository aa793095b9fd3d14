"""The benchmarks run end to end on the tiny model (their figures are reported, never asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import engine as engine_benchmark


def run_benchmark(module: str, *arguments: str, out: Path, timeout: int,
                  env: dict[str, str] | None = None) -> tuple[str, Any]:
    """Run ``python -m benchmarks.<module> ... --json out`` as a user would; its printed table and its JSON report."""
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *arguments, "--json", str(out)],
                          cwd=Path(__file__).resolve().parents[1], env=dict(os.environ) if env is None else env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, json.loads(out.read_text())


def test_engine_benchmark_measures_first_and_follow_up(tiny_model: Path) -> None:
    row = engine_benchmark.measure(tiny_model, "float32", runs=1, answer_tokens=4)
    assert row["followup_reused_tokens"] > 576
    assert row["time_to_first_token_s"]["median"] > 0
    assert row["followup_time_to_first_token_s"]["median"] > 0
    text = engine_benchmark.table({"tiny": [row]})
    assert text.splitlines()[2].startswith("| tiny | float32 |")


def test_latency_benchmark_runs_end_to_end_on_the_tiny_model(tmp_path: Path) -> None:
    stdout, report = run_benchmark("latency", "--quick", "--runs", "1", out=tmp_path / "out.json", timeout=600)
    assert "| tiny |" in stdout and "window visible after launch" in stdout
    for key in ("time_to_first_audio_speedup", "overhead_ms_1080p", "overhead_ms_2160p", "overhead_by_stages_ms_1080p",
                "overhead_by_stages_ms_2160p", "followup_ttft_ratio", "decode_rate_ratio", "window_visible_s"):
        assert isinstance(report[key], float), key
    stages = report["models"]["tiny"]["stages_ms"]["1080p"]
    assert set(stages) == {"intake", "fitting", "processing", "hop_to_worker", "hop_back"}
    assert all(stage["median"] > 0 for stage in stages.values()), stages  # each one timed, the hops included
    assert "The app's own path by stage" in stdout
    tiny = report["models"]["tiny"]
    assert tiny["time_to_first_audio_s"]["app"]["median"] > 0 and tiny["time_to_first_audio_s"]["naive"]["median"] > 0
    assert tiny["decode_tokens_per_s"]["raw"]["median"] > 0
    served = report["server"]["models"]["tiny"]  # the same model through transformers serve
    assert "Through a model server" in stdout
    assert 0 < served["app_own_ms"]["median"] < served["app_ttft_s"]["median"] * 1000
    assert served["stop_ms"]["median"] > 0 and served["time_to_first_audio_s"]["median"] > 0


def test_screen_text_benchmark_reads_a_real_qt_window_and_hears_it(tmp_path: Path) -> None:
    _, report = run_benchmark("screen_text", "--quick", out=tmp_path / "out.json", timeout=300)
    row = report["screens"][0]
    assert row["screen"].startswith("Qt window") and row["pieces"] > 20
    assert row["word_recall"] > 0.9 and row["ocr_s"] > 0 and row["first_sound_s"] > 0


def test_latency_benchmark_without_a_display_measures_everything_else(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if name not in ("DISPLAY", "QT_QPA_PLATFORM")}
    stdout, report = run_benchmark("latency", "--quick", "--runs", "1", out=tmp_path / "out.json", timeout=600,
                                   env=env)
    assert "window visible after launch: skipped: there is no display (DISPLAY is not set)" in stdout
    assert report["window_visible_s"] is None
    assert report["models"]["tiny"]["time_to_first_audio_s"]["app"]["median"] > 0


def test_gpu_benchmark_runs_its_code_on_a_tiny_model_on_the_cpu(tmp_path: Path) -> None:
    stdout, report = run_benchmark("gpu", "--small", "--runs", "1", out=tmp_path / "gpu.json", timeout=600)
    assert report["prompt_tokens"] > 576 and report["bandwidth_gb_s"] > 0
    assert report["decoder_bytes_per_token"] > 0 and report["bandwidth_bound_tokens_per_s"] > 0
    for name in ("sdpa, dynamic cache", "sdpa, static cache + torch.compile"):
        row = report["variants"][name]
        assert row["time_to_first_token_s"]["median"] > 0 and row["decode_tokens_per_s"]["median"] > 0, name
    assert report["variants"]["4-bit (bitsandbytes nf4)"] == {"skipped": "bitsandbytes' 4-bit weights need a CUDA GPU"}
    assert report["app_time_to_first_audio_s"]["median"] > 0
    assert "| sdpa, dynamic cache |" in stdout


def test_grounding_benchmark_times_exactly_the_screen_texts_tokens(tiny_model: Path, tmp_path: Path) -> None:
    from benchmarks import grounding as bench

    from seeing_assistant.core import grounding
    from seeing_assistant.core.engine import Engine
    from seeing_assistant.core.engine_settings import EngineSettings

    image, text = bench.the_screen()
    assert "Page 3 of 11" in text.as_text()  # the real recogniser read the drawn window
    engine = Engine.load(EngineSettings(model=str(tiny_model), device="cpu"))
    inputs, start, end, asked = bench.prompt_parts(engine, image, text, 128)
    timed = engine.processor.tokenizer.decode(inputs["input_ids"][0, start:end]).replace(" ", "")
    assert asked.startswith(grounding.HEADER) and timed.startswith("Textintheimage")  # from the OCR text's start
    assert end - start == -(-(len(asked) - len(bench.QUESTION)) // grounding.CHARACTERS_PER_TOKEN)
    assert bench.text_prefill(engine, inputs, start, end) > 0
    _, report = run_benchmark("grounding", "--quick", out=tmp_path / "grounding.json", timeout=300)
    rows = report["rows"]
    assert [row["model"] for row in rows] == ["tiny LLaVA", "tiny SmolVLM"]
    assert all(row["text_prefill_s"]["median"] > 0 and row["first_token_plain_s"]["median"] > 0 for row in rows)


def test_stop_benchmark_presses_stop_in_each_stage_of_both_models(tmp_path: Path) -> None:
    stdout, report = run_benchmark("stop", "--quick", "--no-server", out=tmp_path / "stop.json", timeout=600)
    assert set(report["models"]) == {"stop_ms", "stop_ms_small"}
    for key in ("mid", "small"):
        assert report[key]["prompt_tokens"] > 1024  # the long prompt: the text's 1,024 tokens and the picture's
        assert report[key]["decode_tokens_per_s"]["with_checks"]["median"] > 0
        assert "prefill" in report[key]["longest_unchecked_ms"]
    # Tiny models run each stage in milliseconds, so a Stop may land in the next one; some must land where meant.
    assert report["stop_ms"] or report["stop_ms_small"]
    assert stdout.startswith("| stage | tiny LLaVA | tiny SmolVLM |")


def test_wayland_benchmark_times_the_portal_against_xwayland(tmp_path: Path) -> None:
    _, report = run_benchmark("wayland", "--runs", "2", out=tmp_path / "wayland.json", timeout=240)
    assert report["portal"]["true_picture"] and not report["portal"]["one_flat_colour"]
    assert report["xwayland_mss"]["one_flat_colour"] and not report["xwayland_mss"]["true_picture"]
    assert report["portal"]["median_s"] > 0 and report["portal_over_mss"] is not None
