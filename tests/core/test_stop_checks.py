"""The Stop checks inside a forward pass: the chunked attention is the same attention, checked between chunks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from seeing_assistant.core import intake, stop_checks
from seeing_assistant.core.cancel import Cancelled, CancelToken
from seeing_assistant.core.engine import Engine
from seeing_assistant.core.engine_settings import EngineSettings


class Attention(torch.nn.Module):
    """Just what transformers' SDPA function reads of an attention module."""

    def __init__(self, is_causal: bool) -> None:
        super().__init__()
        self.is_causal = is_causal
        self.num_key_value_groups = 1
        self.checks = 0

    def check(self) -> None:
        self.checks += 1


@pytest.mark.parametrize(("is_causal", "past", "with_mask"), [
    (True, 0, False),  # a first question's prefill: transformers passes no mask, only "causal"
    (True, 40, False),  # part of a prompt on a cache
    (True, 40, True),  # with the mask transformers makes
    (False, 0, False),  # a vision encoder: every patch sees every patch
], ids=["prefill", "on-a-cache", "masked", "vision"])
def test_the_chunked_attention_is_sdpas_and_checks_between_chunks(is_causal: bool, past: int,
                                                                  with_mask: bool) -> None:
    torch.manual_seed(0)
    queries = 600
    query = torch.randn(1, 2, queries, 16)
    key, value = torch.randn(1, 2, past + queries, 16), torch.randn(1, 2, past + queries, 16)
    mask = None
    if with_mask:
        rows = torch.arange(past, past + queries).unsqueeze(1)
        mask = (torch.arange(past + queries).unsqueeze(0) <= rows)[None, None]
    module = Attention(is_causal)
    setattr(module, stop_checks._CHECK, module.check)
    chunked, _ = stop_checks.chunked_sdpa_attention(module, query, key, value, mask, scaling=0.25)
    if mask is None and is_causal and past:
        rows = torch.arange(past, past + queries).unsqueeze(1)
        mask = (torch.arange(past + queries).unsqueeze(0) <= rows)[None, None]  # what SDPA needs to be told
    whole, _ = sdpa_attention_forward(module, query, key, value, mask, scaling=0.25)
    assert chunked.shape == whole.shape
    assert torch.allclose(chunked, whole, atol=1e-5)
    assert module.checks == -(-queries // stop_checks.QUERY_CHUNK) - 1  # between every two chunks


def test_a_stop_between_two_chunks_of_one_attention_ends_the_pass() -> None:
    module = Attention(is_causal=True)
    token = CancelToken()

    def check() -> None:
        token.cancel()  # the Stop lands while the first chunk is computed
        token.raise_if_cancelled()

    setattr(module, stop_checks._CHECK, check)
    query = key = value = torch.randn(1, 2, 600, 16)
    with pytest.raises(Cancelled):
        stop_checks.chunked_sdpa_attention(module, query, key, value, None)


def test_the_engine_answers_the_same_with_the_checks_and_without(tiny_model: Path) -> None:
    engine = Engine.load(EngineSettings(model=str(tiny_model), device="cpu", max_new_tokens=12))
    assert engine.model.config._attn_implementation == stop_checks.CHUNKED_SDPA
    picture = intake.from_pil(Image.new("RGB", (640, 480), "white"))
    inputs = engine._process(engine.start(picture).messages("What is shown?"))
    assert inputs["input_ids"].shape[1] > stop_checks.QUERY_CHUNK  # the picture alone is 576 tokens: chunked
    with torch.inference_mode():
        chunked = engine.model(**inputs).logits[0, -1]
        engine.model.set_attn_implementation("sdpa")
        whole = engine.model(**inputs).logits[0, -1]
    assert torch.allclose(chunked, whole, atol=1e-5)
