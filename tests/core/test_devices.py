"""Where a model runs and at what precision."""

from __future__ import annotations

import pytest

from seeing_assistant.core import devices
from seeing_assistant.core.errors import BadInputError


def test_the_cpu_with_auto_precision_runs_in_float32() -> None:
    placement = devices.resolve("cpu", "auto")
    assert placement == devices.Placement(device="cpu", dtype="float32")
    assert str(placement.torch_dtype()) == "torch.float32"


@pytest.mark.parametrize("device", ["cuda:7", "tpu", "mps:1"])
def test_a_device_this_computer_lacks_is_refused_in_one_sentence(device: str) -> None:
    with pytest.raises(BadInputError) as caught:
        devices.resolve(device, "auto")
    sentence = str(caught.value)
    assert device in sentence and "--device auto" in sentence
    assert "\n" not in sentence and sentence.endswith(".")


def test_bfloat16_on_apple_graphics_is_refused_in_one_sentence() -> None:
    with pytest.raises(BadInputError, match=r"^The precision bfloat16 is not supported on mps: use --dtype auto\.$"):
        devices.resolve_dtype("bfloat16", "mps")


def test_accelerators_default_to_float16_and_a_chosen_precision_is_kept() -> None:
    assert devices.resolve_dtype("auto", "cuda") == "float16"
    assert devices.resolve_dtype("float16", "cpu") == "float16"
    assert devices.resolve_dtype("bfloat16", "cpu") == "bfloat16"


def test_weights_too_big_for_free_memory_in_float32_load_in_bfloat16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "available_memory_bytes", lambda: 10_000_000_000)
    assert devices.resolve("cpu", "auto", float32_bytes=28_000_000_000).dtype == "bfloat16"
    assert devices.resolve("cpu", "auto", float32_bytes=1_000_000_000).dtype == "float32"
