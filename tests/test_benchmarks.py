"""The benchmarks run end to end on the tiny model (their figures are reported, never asserted)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import engine as engine_benchmark


def test_engine_benchmark_measures_first_and_follow_up(tiny_model: Path) -> None:
    row = engine_benchmark.measure(tiny_model, "float32", runs=1, answer_tokens=4)
    assert row["followup_reused_tokens"] > 576
    assert row["time_to_first_token_s"]["median"] > 0
    assert row["followup_time_to_first_token_s"]["median"] > 0
    text = engine_benchmark.table({"tiny": [row]})
    assert text.splitlines()[2].startswith("| tiny | float32 |")
