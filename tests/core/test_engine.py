from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image

from seeing_assistant.core import intake
from seeing_assistant.core.cancel import CancelToken
from seeing_assistant.core.engine import Answer, Conversation, Engine
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.errors import BadInputError, ModelUnavailableError


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Engine:
    # On the CPU by name: "auto" would take a GPU where there is one, and these tests are about the CPU path.
    return Engine.load(EngineSettings(model=str(tiny_model), device="cpu", max_new_tokens=24))


@pytest.fixture
def picture() -> intake.IntakeImage:
    image = Image.new("RGB", (640, 480), "white")
    image.paste((0, 0, 200), (100, 100, 300, 300))
    return intake.from_pil(image)


def test_the_model_loads_on_the_cpu_in_float32_when_asked_to(engine: Engine) -> None:
    assert engine.placement.device == "cpu"
    assert engine.placement.dtype == "float32"
    assert type(engine.model).__name__ == "LlavaForConditionalGeneration"


def test_streamed_pieces_join_to_the_answer(engine: Engine, picture: intake.IntakeImage) -> None:
    pieces: list[str] = []
    answer = engine.ask(engine.start(picture), "What is shown?", on_text=pieces.append)
    assert len(pieces) > 1, "the answer should arrive in several pieces"
    assert "".join(pieces).strip() == answer.text
    assert answer.new_tokens == 24
    assert answer.time_to_first_token_s is not None and 0 < answer.time_to_first_token_s < answer.total_s
    assert not answer.is_cancelled


def test_the_prompt_is_the_llava_chat_template_with_the_image_once(engine: Engine,
                                                                   picture: intake.IntakeImage) -> None:
    conversation = engine.start(picture)
    conversation.turns.append(("First?", "An answer."))
    text = engine.processor.apply_chat_template(conversation.messages("Second?"), add_generation_prompt=True)
    assert text == "USER: <image>\nFirst? ASSISTANT: An answer. USER: Second? ASSISTANT:"


def test_greedy_decoding_gives_the_same_answer_twice(engine: Engine, picture: intake.IntakeImage) -> None:
    first = engine.ask(engine.start(picture), "Describe it.")
    second = engine.ask(engine.start(picture), "Describe it.")
    assert first.text == second.text


def test_cancel_from_the_stream_stops_within_one_step(engine: Engine, picture: intake.IntakeImage) -> None:
    token = CancelToken()

    def stop_at_first_piece(piece: str) -> None:
        token.cancel()

    answer = engine.ask(engine.start(picture), "Describe it.", on_text=stop_at_first_piece, max_new_tokens=200,
                        cancel=token)
    assert answer.is_cancelled
    uncancelled = engine.ask(engine.start(picture), "Describe it.", max_new_tokens=200)
    assert uncancelled.new_tokens == 200
    assert answer.new_tokens <= 3, "generation must stop at the next decode step"


def test_cancel_from_another_thread(engine: Engine, picture: intake.IntakeImage) -> None:
    started = threading.Event()
    result: list[Answer] = []
    token = CancelToken()

    def ask() -> None:
        result.append(engine.ask(engine.start(picture), "Describe it.", on_text=lambda piece: started.set(),
                                 max_new_tokens=4000, cancel=token))

    worker = threading.Thread(target=ask)
    worker.start()
    assert started.wait(60)
    token.cancel()
    worker.join(60)
    assert result and result[0].is_cancelled and result[0].new_tokens < 4000


def layer_calls(model: torch.nn.Module, token: CancelToken, stop_in: str, at_call: int) -> dict[str, int]:
    """Count the forward calls of the vision blocks and the decoder layers, and cancel ``token`` inside the
    ``at_call``-th call of ``stop_in``'s, as a Stop from another thread lands in the middle of a pass."""
    calls: dict[str, int] = {"vision": 0, "language": 0}
    for name, module in model.named_modules():
        part = "vision" if "vision" in name else "language" if "language" in name else ""
        if not isinstance(module, torch.nn.ModuleList) or not part:
            continue
        for block in module:
            def count(*_: object, part: str = part) -> None:
                calls[part] += 1
                if part == stop_in and calls[part] == at_call:
                    token.cancel()

            block.register_forward_hook(count)
    return calls


@pytest.mark.parametrize("stage", ["vision", "language"])
def test_a_stop_inside_the_first_pass_ends_it_at_the_next_block(tiny_model: Path, picture: intake.IntakeImage,
                                                                 stage: str) -> None:
    engine = Engine.load(EngineSettings(model=str(tiny_model), device="cpu", max_new_tokens=24))
    token = CancelToken()
    calls = layer_calls(engine.model, token, stage, at_call=1)
    pieces: list[str] = []
    conversation = engine.start(picture)
    answer = engine.ask(conversation, "Describe it.", on_text=pieces.append, cancel=token)
    assert answer.is_cancelled and answer.new_tokens == 0 and pieces == []
    # Stopped in the image's first encoder block: neither its second block nor the language model ran; stopped in
    # the prefill's first layer: its second layer never ran.
    assert calls[stage] == 1
    if stage == "vision":
        assert calls["language"] == 0
    after = engine.ask(conversation, "Describe it.")
    assert not after.is_cancelled and after.new_tokens == 24, "the cache of a cut pass is not reused"


def test_a_request_stopped_before_it_reached_the_engine_reads_nothing(engine: Engine,
                                                                       picture: intake.IntakeImage) -> None:
    token = CancelToken()
    token.cancel()  # Stop came while the picture's text was read: the engine must not clear it and answer
    answer = engine.ask(engine.start(picture), "Describe it.", cancel=token)
    assert answer.is_cancelled and answer.new_tokens == 0 and answer.text == ""
    assert engine.ask(engine.start(picture), "Describe it.").new_tokens == 24, "only that request was stopped"


def test_the_stop_checks_can_be_taken_out_and_put_back(engine: Engine, picture: intake.IntakeImage) -> None:
    with_checks = engine.ask(engine.start(picture), "Describe it.").text
    engine.has_stop_checks = False
    try:
        assert not engine.has_stop_checks
        assert engine.ask(engine.start(picture), "Describe it.").text == with_checks
    finally:
        engine.has_stop_checks = True
    assert engine.has_stop_checks


def test_a_follow_up_reuses_the_image_and_matches_a_fresh_run(engine: Engine, picture: intake.IntakeImage) -> None:
    conversation = engine.start(picture)
    first = engine.ask(conversation, "What is shown?")
    follow_up = engine.ask(conversation, "What colour is the square?")
    assert conversation.turns == [("What is shown?", first.text), ("What colour is the square?", follow_up.text)]
    assert conversation.image_tokens == 576
    assert conversation.is_text_tokenizing_exact, "the follow-up should skip preprocessing the image again"
    assert follow_up.reused_tokens > 576, "the image and the first question should not be read again"
    assert follow_up.prompt_tokens > first.prompt_tokens

    fresh = Conversation(image=picture, turns=[("What is shown?", first.text)],
                         model_image=engine.fitted(picture.image))
    recomputed = engine.ask(fresh, "What colour is the square?")
    assert recomputed.reused_tokens == 0
    assert recomputed.text == follow_up.text, "reusing the cache must not change the answer"


def test_a_conversation_that_outgrows_the_context_is_refused(engine: Engine, picture: intake.IntakeImage) -> None:
    conversation = engine.start(picture)
    conversation.turns.append(("Tell me everything.", "word " * 3500))
    with pytest.raises(BadInputError, match=r"start a new conversation"):
        engine.ask(conversation, "And then?")


def test_a_hub_id_that_is_not_downloaded_says_how_to_get_it() -> None:
    with pytest.raises(ModelUnavailableError, match=r"run 'seeing-assistant download llava-hf/llava-1.5-7b-hf'"):
        Engine.load(EngineSettings())


def test_a_downloaded_hub_id_loads_offline_from_the_cache(tiny_model: Path, offline_hub: Path) -> None:
    snapshot = offline_hub / "hub" / "models--test--tiny-llava" / "snapshots" / "0123abcd"
    shutil.copytree(tiny_model, snapshot)
    (offline_hub / "hub" / "models--test--tiny-llava" / "refs").mkdir()
    (offline_hub / "hub" / "models--test--tiny-llava" / "refs" / "main").write_text("0123abcd")
    loaded = Engine.load(EngineSettings(model="test/tiny-llava"))
    assert loaded.model_name == "test/tiny-llava"


def test_missing_and_incomplete_folders(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"There is no model folder at ./nowhere"):
        Engine.load(EngineSettings(model="./nowhere"))
    with pytest.raises(ModelUnavailableError, match=r"has no config.json"):
        Engine.load(EngineSettings(model=str(tmp_path)))


def test_damaged_weights_are_a_load_error(tiny_model: Path, tmp_path: Path) -> None:
    broken = shutil.copytree(tiny_model, tmp_path / "broken")
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelUnavailableError, match=r"could not be loaded"):
        Engine.load(EngineSettings(model=str(broken)))


def test_a_text_only_model_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path / "text-only"
    LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                 num_attention_heads=2)).save_pretrained(folder)
    with pytest.raises(ModelUnavailableError, match=r"cannot answer questions about images"):
        Engine.load(EngineSettings(model=str(folder)))


def test_quantize_without_bitsandbytes_or_gpu_is_explained(tiny_model: Path) -> None:
    with pytest.raises(BadInputError, match=r"bitsandbytes|NVIDIA GPU"):
        Engine.load(EngineSettings(model=str(tiny_model), quantize="4bit"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has the device the test asks for")
def test_an_absent_device_is_explained(tiny_model: Path) -> None:
    with pytest.raises(BadInputError, match=r"The device cuda is not available"):
        Engine.load(EngineSettings(model=str(tiny_model), device="cuda"))


EDGE_MARKS = {"left": (255, 0, 0), "right": (0, 0, 255), "top": (0, 200, 0), "bottom": (255, 255, 0)}


def marked(width: int, height: int) -> intake.IntakeImage:
    """A grey picture with a coloured band, a tenth of the side deep, along each of its four edges."""
    image = Image.new("RGB", (width, height), (128, 128, 128))
    band_x, band_y = width // 10, height // 10
    image.paste(EDGE_MARKS["top"], (band_x, 0, width - band_x, band_y))
    image.paste(EDGE_MARKS["bottom"], (band_x, height - band_y, width - band_x, height))
    image.paste(EDGE_MARKS["left"], (0, band_y, band_x, height - band_y))
    image.paste(EDGE_MARKS["right"], (width - band_x, band_y, width, height - band_y))
    return intake.from_pil(image, source="the screen")


def colours_seen(engine: Engine, image: intake.IntakeImage) -> set[str]:
    """Which edge marks are in the pixel values the processor hands the model (de-normalised to 0-255)."""
    conversation = engine.start(image)
    inputs = engine._process(conversation.messages("What is shown?"))
    processor = engine.processor.image_processor
    mean = torch.tensor(processor.image_mean).view(3, 1, 1)
    std = torch.tensor(processor.image_std).view(3, 1, 1)
    pixels = ((inputs["pixel_values"][0].float() * std + mean) * 255).round()
    seen = set()
    for name, colour in EDGE_MARKS.items():
        target = torch.tensor(colour, dtype=pixels.dtype).view(3, 1, 1)
        if ((pixels - target).abs().max(dim=0).values < 12).sum() >= 20:
            seen.add(name)
    return seen


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)], ids=["16:9", "9:16"])
def test_the_model_sees_all_four_edges_of_a_wide_or_tall_picture(tiny_model: Path, size: tuple[int, int]) -> None:
    padded = Engine.load(EngineSettings(model=str(tiny_model)))
    picture = marked(*size)
    assert padded.fitted(picture.image).size == (336, 336)
    assert colours_seen(padded, picture) == set(EDGE_MARKS)
    # The processor's own centre crop (the "crop" setting) loses the two far edges of the long side.
    cropped = Engine.load(EngineSettings(model=str(tiny_model), image_fit="crop"))
    lost = {"left", "right"} if size[0] > size[1] else {"top", "bottom"}
    assert colours_seen(cropped, picture) == set(EDGE_MARKS) - lost
