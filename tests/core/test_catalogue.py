from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from seeing_assistant.core import catalogue, intake, model_store
from seeing_assistant.core.cancel import CancelToken
from seeing_assistant.core.catalogue import CATALOGUE, CatalogueModel
from seeing_assistant.core.engine import Conversation, Engine
from seeing_assistant.core.engine_settings import EngineSettings
from tests.support.random_models import build_llava, build_smolvlm

GiB = 2**30
ANSWER_TOKENS = 12

# A tiny random model of each catalogue architecture, built offline from its real transformers classes.
BUILDERS: dict[str, Callable[[Path], Path]] = {"llava": build_llava, "idefics3": build_smolvlm}
ARCHITECTURES = sorted({model.model_type for model in CATALOGUE})


def test_the_default_with_a_gpu_is_the_apps_default_model() -> None:
    assert catalogue.DEFAULT.model_id == model_store.DEFAULT_MODEL
    assert catalogue.by_key("llava-7b") is catalogue.DEFAULT


def test_keys_and_hub_ids_find_their_entries() -> None:
    assert len({model.key for model in CATALOGUE}) == len({model.model_id for model in CATALOGUE}) == len(CATALOGUE)
    for model in CATALOGUE:
        assert catalogue.by_key(model.key) is model
        assert catalogue.find(model.model_id) is model
    assert catalogue.find("./my-model") is None
    with pytest.raises(KeyError, match=r"llava-7b, llava-13b, smolvlm-500m, smolvlm-256m"):
        catalogue.by_key("gpt-5")


def test_every_entry_is_an_image_text_to_text_architecture_in_transformers() -> None:
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    for model in CATALOGUE:
        assert model.model_type in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES, model.key
    assert {model.key: model.model_type for model in CATALOGUE} == {
        "llava-7b": "llava", "llava-13b": "llava", "smolvlm-500m": "idefics3", "smolvlm-256m": "idefics3"}


def test_every_architecture_has_a_tiny_model_that_the_engine_is_tested_with() -> None:
    assert set(ARCHITECTURES) == set(BUILDERS)


@pytest.mark.parametrize("model", CATALOGUE, ids=lambda model: model.key)
def test_the_figures_agree_with_half_precision_weights(model: CatalogueModel) -> None:
    assert 1.9 < model.download_bytes / model.parameters < 2.1, "float16 and bfloat16 take two bytes a parameter"
    assert model.needs_gpu_memory_bytes is not None and model.needs_gpu_memory_bytes > model.download_bytes
    assert model.cpu_friendly == (model.parameters < 1_000_000_000)
    assert model.title.split(":")[0] in model.title and len(model.title) < 80


@pytest.mark.parametrize(("device", "free", "gpu", "key", "reason"), [
    ("cuda", 64 * GiB, 85_029_158_912, "llava-13b", "An NVIDIA GPU with 79 GB: LLaVA-1.5 13B in half precision."),
    ("cuda", 64 * GiB, 34_190_000_000, "llava-13b", "An NVIDIA GPU with 32 GB: LLaVA-1.5 13B in half precision."),
    ("cuda", 32 * GiB, 25_757_220_864, "llava-7b", "An NVIDIA GPU with 24 GB: LLaVA-1.5 7B in half precision."),
    ("cuda", 12 * GiB, 15_828_320_256, "llava-7b", "An NVIDIA GPU with 15 GB: LLaVA-1.5 7B in half precision."),
    ("cuda:1", 16 * GiB, 12 * GiB, "llava-7b",
     "An NVIDIA GPU with 12 GB: LLaVA-1.5 7B in 4-bit, which needs the bitsandbytes package."),
    ("cuda", 16 * GiB, 6_441_926_656, "llava-7b",
     "An NVIDIA GPU with 6 GB: LLaVA-1.5 7B in 4-bit, which needs the bitsandbytes package."),
    ("cuda", 16 * GiB, 4 * GiB, "smolvlm-500m",
     "An NVIDIA GPU with 4 GB is too small for LLaVA even in 4-bit: SmolVLM 500M answers on it in seconds."),
    ("cpu", 16 * GiB, None, "smolvlm-500m", "No usable GPU: SmolVLM 500M answers on the processor in seconds."),
    ("cpu", 3 * GiB, None, "smolvlm-256m",
     "No usable GPU and 3 GB of free memory: SmolVLM 256M, the smallest, answers on the processor."),
    ("mps", 8 * GiB, None, "smolvlm-500m", "An Apple GPU: SmolVLM 500M answers on it in seconds."),
    ("mps", 2 * GiB, None, "smolvlm-256m",
     "An Apple GPU and 2 GB of free memory: SmolVLM 256M, the smallest, answers on it."),
])
def test_recommend_picks_the_model_this_machine_runs_well(device: str, free: int, gpu: int | None, key: str,
                                                          reason: str) -> None:
    model, why = catalogue.recommend(device, free, gpu)
    assert (model.key, why) == (key, reason)
    quantize = catalogue.quantize_for(model, gpu)
    assert (quantize == "4bit") == ("4-bit," in why)
    if gpu is not None:
        bytes_per_weight = 0.5 if quantize else 2
        assert model.parameters * bytes_per_weight < gpu, "the recommended model must fit on the card"
    else:
        assert model.cpu_friendly


# --- Each catalogue architecture through the app's real engine, on the CPU ---

@pytest.fixture(scope="module", params=ARCHITECTURES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = BUILDERS[request.param](tmp_path_factory.mktemp("models") / request.param)
    return Engine.load(EngineSettings(model=str(folder), device="cpu", max_new_tokens=ANSWER_TOKENS))


@pytest.fixture
def wide_picture() -> intake.IntakeImage:
    image = Image.new("RGB", (640, 360), "white")  # 16:9, like a screenshot
    image.paste((0, 0, 200), (40, 40, 200, 200))
    return intake.from_pil(image)


def test_the_engine_loads_the_real_classes_in_float32(engine: Engine) -> None:
    expected = {"llava": ("LlavaForConditionalGeneration", "LlavaProcessor"),
                "idefics3": ("Idefics3ForConditionalGeneration", "Idefics3Processor")}[engine.model.config.model_type]
    assert (type(engine.model).__name__, type(engine.processor).__name__) == expected
    assert (engine.placement.device, engine.placement.dtype) == ("cpu", "float32")
    # Timed at load, for the screen's text budget (a silent failure would leave None and the device's default).
    assert engine.text_tokens_per_s is not None and engine.text_tokens_per_s > 0


def test_a_wide_picture_is_shown_whole_on_a_square(engine: Engine, wide_picture: intake.IntakeImage) -> None:
    shown = engine.start(wide_picture).model_image
    assert shown is not None and shown.width == shown.height
    if engine.model.config.model_type == "llava":
        assert shown.size == (336, 336), "scaled to the processor's shortest_edge, then padded"
    else:
        # SmolVLM on the CPU sees one square tile (the engine turns its tiling off), which its processor makes by
        # squashing the picture: the engine pads it to that square first (64 px here, SmolVLM's 512), so it keeps
        # its shape, and the processor is not asked to bring it up to its full size (2,048) and back down.
        assert shown.size == (64, 64) and engine.processor.image_processor.size == {"longest_edge": 64}
        assert shown.getpixel((32, 0)) == (128, 128, 128), "padded with the processor's mean, 0.5"
        pixels = engine._process(engine.start(wide_picture).messages("What is shown?"))["pixel_values"]
        assert pixels.shape[-2:] == (64, 64)
        top, middle = pixels[0, 0, :, 0, 32], pixels[0, 0, :, 32, 32]  # the padding; the white picture
        assert top.abs().max() < 0.05 and middle.min() > 0.9, "the picture keeps its shape: it is not squashed"


def test_an_answer_streams_in_several_pieces(engine: Engine, wide_picture: intake.IntakeImage) -> None:
    pieces: list[str] = []
    answer = engine.ask(engine.start(wide_picture), "What is shown?", on_text=pieces.append)
    assert len(pieces) > 1, "the answer should arrive in several pieces"
    assert "".join(pieces).strip() == answer.text
    assert answer.new_tokens == ANSWER_TOKENS and answer.text.isprintable()
    assert answer.time_to_first_token_s is not None and 0 < answer.time_to_first_token_s < answer.total_s
    assert not answer.is_cancelled


def test_a_follow_up_reuses_the_conversation_and_matches_a_fresh_run(engine: Engine,
                                                                     wide_picture: intake.IntakeImage) -> None:
    conversation = engine.start(wide_picture)
    first = engine.ask(conversation, "What is shown?")
    follow_up = engine.ask(conversation, "What colour is the square?")
    assert conversation.turns == [("What is shown?", first.text), ("What colour is the square?", follow_up.text)]
    assert follow_up.new_tokens == ANSWER_TOKENS
    # LLaVA: 576 tokens; SmolVLM on the CPU: the whole picture once, 4 tokens (the engine turns tiling off there).
    assert conversation.image_tokens == {"llava": 576, "idefics3": 4}[engine.model.config.model_type]
    assert follow_up.reused_tokens > conversation.image_tokens, "the image should not be read again"
    # SmolVLM's processor frames its image tokens with tile tokens, so its follow-ups are preprocessed afresh
    # (only the cache is reused); LLaVA's tokenize from the text alone.
    assert conversation.is_text_tokenizing_exact == (engine.model.config.model_type == "llava")

    fresh = Conversation(image=wide_picture, turns=[("What is shown?", first.text)],
                         model_image=engine.fitted(wide_picture.image))
    recomputed = engine.ask(fresh, "What colour is the square?")
    assert recomputed.reused_tokens == 0
    assert recomputed.text == follow_up.text, "reusing the cache must not change the answer"


def test_cancel_from_the_stream_stops_the_answer(engine: Engine, wide_picture: intake.IntakeImage) -> None:
    token = CancelToken()

    def stop_at_first_piece(piece: str) -> None:
        token.cancel()

    conversation = engine.start(wide_picture)
    answer = engine.ask(conversation, "Describe it.", on_text=stop_at_first_piece, max_new_tokens=200,
                        cancel=token)
    assert answer.is_cancelled and answer.new_tokens <= 3, "generation must stop at the next decode step"
    after = engine.ask(conversation, "Describe it again.")
    assert not after.is_cancelled and after.new_tokens == ANSWER_TOKENS, "the next question answers in full"
