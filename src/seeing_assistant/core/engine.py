"""The model engine: load an image-text-to-text model offline and stream answers about one image at a time.

Qt-free and thread-agnostic: the caller runs ``ask`` wherever it likes (the CLI's main thread, a GUI worker) and
receives text pieces through a callback. Each ``ask`` carries its request's :class:`~seeing_assistant.core.cancel.
CancelToken`: the token is checked inside the model's forward pass (before each part of every decoder layer and
vision-encoder block, and between a long prompt's attention chunks: :mod:`~seeing_assistant.core.stop_checks`) and
between tokens, so a Stop from any thread ends the answer within milliseconds, in the prefill too. Follow-up
questions reuse the key/value cache of the image and earlier turns.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seeing_assistant.core import devices, intake, messages, model_store
from seeing_assistant.core.cancel import Cancelled, CancelToken
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.errors import BadInputError, ModelUnavailableError, SeeingAssistantError, short_reason
from seeing_assistant.core.intake import IntakeImage
from seeing_assistant.core.rates import decode_rate
from seeing_assistant.core.seams import TextCallback

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

# A follow-up needs at least this many tokens of context left for its answer.
MIN_ANSWER_ROOM = 32
# How fast the model reads a prompt's text here is timed once at load on this many tokens (after a short warm-up):
# the screen's text in a first question is cut to what it reads in grounding.TEXT_SECONDS.
RATE_PROBE_TOKENS = 32
_RATE_PROBE_TEXT = "The quick brown fox jumps over the lazy dog near the river bank at 10:45 on a Monday. "



@dataclass
class Answer:
    """One answer with the figures a user (or a benchmark) may want."""

    text: str
    new_tokens: int
    prompt_tokens: int
    reused_tokens: int
    time_to_first_token_s: float | None
    total_s: float
    is_cancelled: bool

    @property
    def tokens_per_s(self) -> float | None:
        """Decode rate after the first token, or None when too few tokens came to measure it."""
        return decode_rate(self.new_tokens, self.time_to_first_token_s, self.total_s)


@dataclass
class Conversation:
    """The image being discussed, the turns so far, and the cache of everything the model has already read."""

    image: IntakeImage
    turns: list[tuple[str, str]] = field(default_factory=list)
    model_image: Any = None  # the image at the size the processor resizes to, made once (see Engine.start)
    cache: Any = None
    cached_ids: list[int] = field(default_factory=list)
    # How many tokens the image became, and whether tokenizing the prompt's text alone (with that many image
    # tokens) was checked to give the processor's exact ids: then follow-ups skip the image preprocessing.
    image_tokens: int = 0
    is_text_tokenizing_exact: bool = False

    def forget_cache(self) -> None:
        """Drop the cache, so that the next question reads the image and every turn afresh."""
        self.cache, self.cached_ids = None, []

    def messages(self, question: str) -> list[dict[str, Any]]:
        """Chat messages for the next question; the image goes in the first user turn only."""
        chat: list[dict[str, Any]] = []
        for index, (asked, answered) in enumerate([*self.turns, (question, "")]):
            content: list[dict[str, Any]] = [{"type": "text", "text": asked}]
            if index == 0:
                content.insert(0, {"type": "image", "image": self.model_image or self.image.image})
            chat.append({"role": "user", "content": content})
            if index < len(self.turns):
                chat.append({"role": "assistant", "content": [{"type": "text", "text": answered}]})
        return chat


class Engine:
    """A loaded model and processor that answer questions about images, streaming the text as it is written."""

    is_remote = False  # the model runs here

    def __init__(self, settings: EngineSettings, processor: Any, model: Any, placement: devices.Placement,
                 load_s: float) -> None:
        self.settings = settings
        self.processor = processor
        self.model = model
        self.placement = placement
        self.load_s = load_s
        self.text_tokens_per_s: float | None = None  # how fast it reads a prompt's text here (see load)
        self._token: CancelToken | None = None  # the request being answered; its Stop is checked in every block
        self._checks = self._install_checks()
        text_config = model.config.get_text_config(decoder=True)
        self._context_limit = int(getattr(text_config, "max_position_embeddings", 4096) or 4096)

    @property
    def model_name(self) -> str:
        """The model as the user named it."""
        return self.settings.model

    @classmethod
    def load(cls, settings: EngineSettings) -> Engine:
        """Load the model from disk; never downloads, and every failure is one clear sentence."""
        started = time.perf_counter()
        folder = model_store.locate(settings.model)
        float32_bytes = model_store.weights_info(folder).bytes_at("float32")
        placement = devices.resolve(settings.device, settings.dtype, float32_bytes)
        import torch
        from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor
        from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        load_kwargs: dict[str, Any] = {"dtype": placement.torch_dtype(), "local_files_only": True}
        if settings.quantize:
            load_kwargs["quantization_config"] = _quantization_config(settings.quantize, placement)
            load_kwargs["device_map"] = {"": placement.device}
        try:
            config = AutoConfig.from_pretrained(folder, local_files_only=True)
            if config.model_type not in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
                raise ModelUnavailableError(messages.MODEL_NOT_IMAGE_TEXT.format(model=settings.model))
            processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
            model = AutoModelForImageTextToText.from_pretrained(folder, config=config, **load_kwargs)
        except ModelUnavailableError:
            raise
        except (torch.OutOfMemoryError, MemoryError):
            raise SeeingAssistantError(messages.OUT_OF_MEMORY) from None
        except Exception as error:  # noqa: BLE001 - broken files raise many kinds; each means "cannot load"
            raise ModelUnavailableError(_load_failed(settings.model, error)) from None
        if not getattr(processor, "chat_template", None):
            raise ModelUnavailableError(messages.MODEL_HAS_NO_CHAT_TEMPLATE.format(model=settings.model))
        image_processor: Any = getattr(processor, "image_processor", None)
        if placement.device == "cpu" and getattr(image_processor, "do_image_splitting", False):
            # SmolVLM (Idefics3) cuts a screenshot into 16 tiles and a global one (1,148 prompt tokens): with
            # SmolVLM-256M's shape on 2 CPU cores the first token came after 53-56 s; one tile (87 tokens) after
            # 5.0-5.6 s. On a processor the model sees the whole picture once, and the screen's text comes from OCR.
            image_processor.do_image_splitting = False
            tile = _model_side(image_processor)  # now the one tile's side
            if tile:  # the one tile is all it sees: not first brought up to 2,048 px and back down
                image_processor.size = {"longest_edge": tile}
        if not settings.quantize:
            model.to(placement.device)  # type: ignore[arg-type]  # mistyped in transformers
        model.eval()
        engine = cls(settings, processor, model, placement, time.perf_counter() - started)
        engine.text_tokens_per_s = _text_reading_rate(model, processor.tokenizer)
        return engine

    def start(self, image: IntakeImage) -> Conversation:
        """Begin a new conversation about ``image``, brought to the picture the model is shown (see :meth:`fitted`)."""
        return Conversation(image=image, model_image=self.fitted(image.image))

    def fitted(self, picture: Any) -> Any:
        """The picture the model is shown, or None to leave it all to the processor.

        "pad" (the default): the whole picture, centred on a square of the processor's mean colour, as LLaVA-1.5 was
        trained and evaluated (its ``expand2square``); the processor's centre crop would otherwise cut a 16:9
        screenshot to its middle 56% and lose the taskbar, sidebars and the start of every line. It is scaled
        first, with PIL's fast reducing path, so that its long side is the processor's size (a 4K screenshot's
        preprocessing went from about 200 ms to a few ms): the processor then has nothing left to do.
        "crop": the processor's own resize and centre crop, the picture only brought down to its short side first.
        """
        from PIL import Image

        image_processor = getattr(self.processor, "image_processor", None)
        target = _model_side(image_processor)
        if self.settings.image_fit != "pad":
            short, long = sorted(picture.size)
            if not target or short <= target:
                return None
            scaled_long = int(target * long / short)  # as transformers' get_resize_output_image_size computes it
            width, height = (scaled_long, target) if picture.width >= picture.height else (target, scaled_long)
            return picture.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=1.5)
        mean = tuple(getattr(image_processor, "image_mean", None) or intake.CLIP_MEAN)
        return intake.padded_square(picture, target, mean, Image.Resampling.BICUBIC, reducing_gap=1.5)

    def _check_stop(self, *_: Any) -> None:
        """Before each block of the model: end the forward pass when the request being answered was cancelled."""
        token = self._token
        if token is not None and token.is_cancelled:
            raise Cancelled

    @property
    def has_stop_checks(self) -> bool:
        """Whether Stop is checked inside the model's forward pass (the stop benchmark turns it off to compare)."""
        return bool(self._checks)

    @has_stop_checks.setter
    def has_stop_checks(self, wanted: bool) -> None:
        from seeing_assistant.core import stop_checks

        if wanted and not self._checks:
            self._checks = self._install_checks()
        elif not wanted:
            stop_checks.remove(self.model, self._checks)
            self._checks = []

    def _install_checks(self) -> list[Any]:
        from seeing_assistant.core import stop_checks  # imports torch and transformers, loaded by now

        return stop_checks.install(self.model, self._check_stop)

    def close(self) -> None:
        """Nothing is held open: the model's memory goes with the engine."""

    def ask(self, conversation: Conversation, question: str, on_text: TextCallback | None = None,
            max_new_tokens: int | None = None, cancel: CancelToken | None = None, min_new_tokens: int | None = None,
            logits_processor: list[Any] | None = None) -> Answer:
        """Answer ``question`` about the conversation's image, calling ``on_text`` with each new piece of text.

        ``cancel`` is the request's own token: cancelled before or during the answer (from any thread), the answer ends
        at the next block of the model and what was written is returned with ``is_cancelled``. ``logits_processor`` is
        handed to ``generate`` (the latency benchmark uses one to put full stops into a random model's text, as a real
        model writes them).
        """
        token = cancel or CancelToken()
        started = time.perf_counter()
        if token.is_cancelled:
            return _cancelled_answer(started)
        self._token = token
        try:
            return self._ask(conversation, question, on_text, max_new_tokens, token, min_new_tokens, logits_processor,
                             started)
        finally:
            self._token = None

    def _ask(self, conversation: Conversation, question: str, on_text: TextCallback | None,
             max_new_tokens: int | None, token: CancelToken, min_new_tokens: int | None,
             logits_processor: list[Any] | None, started: float) -> Answer:
        import torch

        limit = max_new_tokens or self.settings.max_new_tokens
        chat = conversation.messages(question)
        is_first_turn = not conversation.turns
        inputs: Any = None
        if conversation.is_text_tokenizing_exact and conversation.cache is not None:
            # A follow-up: the image is already in the cache, so only the text needs tokenizing.
            prompt_ids = self._tokenize_text(chat, conversation.image_tokens)
        else:
            inputs = self._process(chat)
            prompt_ids = inputs["input_ids"][0].tolist()
        if token.is_cancelled:
            return _cancelled_answer(started, len(prompt_ids))
        # Shorten the answer to what still fits in the model's context; refuse only when almost nothing does.
        room = self._context_limit - len(prompt_ids)
        if room < min(limit, MIN_ANSWER_ROOM):
            raise BadInputError(messages.CONVERSATION_TOO_LONG)
        limit = min(limit, room)
        image_token_id = getattr(self.model.config, "image_token_id", None)
        reused = _reuse_prefix(conversation, prompt_ids, image_token_id)
        if not reused and inputs is None:
            inputs = self._process(chat)
            prompt_ids = inputs["input_ids"][0].tolist()
        input_ids = torch.tensor([prompt_ids], device=self.model.device)
        generate_inputs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
        if reused:
            generate_inputs["cache"] = conversation.cache
        else:
            # The image has to be encoded: hand over its pixels (and any other processor outputs).
            for key, value in inputs.items():
                if key not in generate_inputs:
                    is_float = isinstance(value, torch.Tensor) and value.is_floating_point()
                    generate_inputs[key] = value.to(self.model.device, self.model.dtype) if is_float else value
            conversation.cache = _new_cache(self.model)
            generate_inputs["cache"] = conversation.cache
        from seeing_assistant.core.streamer import CallbackStreamer  # imports transformers, loaded by now

        streamer = CallbackStreamer(self.processor.tokenizer, on_text, started)
        try:
            with torch.inference_mode():
                output = self.model.generate(
                    **generate_inputs,
                    do_sample=False,
                    max_new_tokens=limit,
                    min_new_tokens=min_new_tokens,
                    streamer=streamer,
                    stopping_criteria=[_CancelCriteria(token)],
                    logits_processor=logits_processor,
                )
        except (torch.OutOfMemoryError, MemoryError):
            conversation.forget_cache()
            raise SeeingAssistantError(messages.OUT_OF_MEMORY) from None
        except Cancelled:
            # Stopped inside a forward pass: the cache holds part of a step, so the next question starts afresh.
            conversation.forget_cache()
            text = streamer.written.strip()
            if text:
                conversation.turns.append((question, text))
            return Answer(text=text, new_tokens=streamer.new_tokens, prompt_tokens=len(prompt_ids),
                          reused_tokens=reused, time_to_first_token_s=streamer.first_token_s,
                          total_s=time.perf_counter() - started, is_cancelled=True)
        except BaseException:
            # Interrupted part-way: what the cache holds is unknown, so the next question starts afresh.
            conversation.forget_cache()
            raise
        sequence: list[int] = output[0].tolist()
        # The cache holds every token but the last one generated, which the model never read back.
        conversation.cached_ids = sequence[: conversation.cache.get_seq_length()]
        new_ids = sequence[len(prompt_ids):]
        text = self.processor.tokenizer.decode(new_ids, skip_special_tokens=True).strip()
        is_cancelled = token.is_cancelled
        if is_first_turn and image_token_id is not None:
            # Checked after the answer, off the path to the first word: does the text alone tokenize exactly?
            conversation.image_tokens = prompt_ids.count(image_token_id)
            conversation.is_text_tokenizing_exact = self._tokenize_text(chat, conversation.image_tokens) == prompt_ids
        if text or not is_cancelled:
            conversation.turns.append((question, text))
        return Answer(
            text=text,
            new_tokens=streamer.new_tokens,
            prompt_tokens=len(prompt_ids),
            reused_tokens=reused,
            time_to_first_token_s=streamer.first_token_s,
            total_s=time.perf_counter() - started,
            is_cancelled=is_cancelled,
        )

    def _process(self, chat: list[dict[str, Any]]) -> Any:
        """Render the chat with the model's template and preprocess the image: the full processor path."""
        return self.processor.apply_chat_template(
            chat, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
        )

    def _tokenize_text(self, chat: list[dict[str, Any]], image_tokens: int) -> list[int]:
        """Render the chat with the model's template and tokenize it without touching the image's pixels.

        The image placeholder is expanded to ``image_tokens`` copies, as the processor does; like the processor,
        special tokens are added unless the template already starts with the BOS token.
        """
        text: str = self.processor.apply_chat_template(chat, add_generation_prompt=True)
        placeholder = getattr(self.processor, "image_token", None)
        if placeholder:
            text = text.replace(placeholder, placeholder * image_tokens)
        tokenizer = self.processor.tokenizer
        add_special = not (tokenizer.bos_token and text.startswith(tokenizer.bos_token))
        ids: list[int] = tokenizer(text, add_special_tokens=add_special)["input_ids"]
        return ids


def _text_reading_rate(model: Any, tokenizer: Any) -> float | None:
    """Tokens a second the model reads a prompt's text at on its device, timed on ``RATE_PROBE_TOKENS`` tokens.

    A short read first (kernels chosen, memory allocated), then the timed one; about a tenth of a second with
    SmolVLM-256M on 2 CPU cores, milliseconds on a GPU. None when it cannot be timed (the budget then falls back).
    """
    import torch

    try:
        ids: list[int] = tokenizer(_RATE_PROBE_TEXT, add_special_tokens=False)["input_ids"]
        ids = (ids * (RATE_PROBE_TOKENS // max(1, len(ids)) + 1))[:RATE_PROBE_TOKENS]
        probe = torch.tensor([ids], device=model.device)
        is_cuda = probe.device.type == "cuda"
        with torch.inference_mode():
            model(input_ids=probe[:, :8], use_cache=False, logits_to_keep=1)
            if is_cuda:
                torch.cuda.synchronize()
            started = time.perf_counter()
            model(input_ids=probe, use_cache=False, logits_to_keep=1)
            if is_cuda:
                torch.cuda.synchronize()
            seconds = time.perf_counter() - started
    except Exception as error:  # noqa: BLE001 - only the budget depends on it; it falls back to the device's
        log.info("the model's reading rate could not be timed: %s", short_reason(error))
        return None
    return len(ids) / seconds if seconds > 0 else None


def _model_side(image_processor: Any) -> int | None:
    """The side of the square picture the model sees, where the processor makes one; None where it does not.

    LLaVA's resizes the short side to 336 (then crops a square); SmolVLM's (Idefics3), with its tiling off, squashes
    the picture to one square tile of ``max_image_size`` (512 px), so a picture padded to that square keeps its shape.
    """
    size = getattr(image_processor, "size", None)
    shortest = size.get("shortest_edge") if isinstance(size, dict) else getattr(size, "shortest_edge", None)
    if shortest:
        return int(shortest)
    if image_processor is not None and getattr(image_processor, "do_image_splitting", None) is False:
        tile = (getattr(image_processor, "max_image_size", None) or {}).get("longest_edge")
        return int(tile) if tile else None
    return None


def _reuse_prefix(conversation: Conversation, prompt_ids: list[int], image_token_id: int | None) -> int:
    """Trim the conversation's cache to the part shared with ``prompt_ids``; return how many tokens it keeps.

    The image and earlier turns are then not read again. Returns 0 (start afresh) unless the shared part
    covers every image token, since the image's pixels are only encoded when the cache is empty; a model whose
    image token is unknown always starts afresh.
    """
    cache, cached = conversation.cache, conversation.cached_ids
    if cache is None or not cached or image_token_id is None:
        conversation.forget_cache()
        return 0
    shared = 0
    for old, new in zip(cached, prompt_ids, strict=False):
        if old != new:
            break
        shared += 1
    # The model must read at least one new token to produce the next one.
    shared = min(shared, len(prompt_ids) - 1)
    last_image_position = max((i for i, t in enumerate(prompt_ids) if t == image_token_id), default=-1)
    if shared <= last_image_position or shared == 0:
        conversation.forget_cache()
        return 0
    if shared < cache.get_seq_length():
        cache.crop(shared - cache.get_seq_length())
    return shared


def _new_cache(model: Any) -> Any:
    """An empty dynamic key/value cache that this engine keeps between turns."""
    from transformers import DynamicCache

    return DynamicCache(config=model.config)


def _load_failed(model: str, error: BaseException) -> str:
    """The one-sentence message for a model that is on disk but cannot be loaded."""
    return messages.MODEL_LOAD_FAILED.format(model=model, reason=short_reason(error))


def _quantization_config(quantize: str, placement: devices.Placement) -> Any:
    """A BitsAndBytesConfig for 4-bit or 8-bit loading, with clear errors when that is impossible here."""
    try:
        import bitsandbytes  # noqa: F401 - only checks that the extra is installed
    except ImportError:
        raise BadInputError(messages.QUANTIZATION_NOT_INSTALLED) from None
    if not placement.device.startswith("cuda"):
        raise BadInputError(messages.QUANTIZATION_NEEDS_GPU)
    from transformers import BitsAndBytesConfig

    if quantize == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_compute_dtype=placement.torch_dtype(),
            bnb_4bit_quant_type="nf4",
        )
    return BitsAndBytesConfig(load_in_8bit=True)


def _cancelled_answer(started: float, prompt_tokens: int = 0) -> Answer:
    """The answer to a request that was cancelled before the model read anything."""
    return Answer(text="", new_tokens=0, prompt_tokens=prompt_tokens, reused_tokens=0, time_to_first_token_s=None,
                  total_s=time.perf_counter() - started, is_cancelled=True)


class _CancelCriteria:
    """A stopping criterion that ends generation between tokens as soon as the request's token is cancelled."""

    def __init__(self, token: CancelToken) -> None:
        self._token = token

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        import torch

        return torch.full((input_ids.shape[0],), self._token.is_cancelled, dtype=torch.bool,
                          device=input_ids.device)  # type: ignore[return-value]
