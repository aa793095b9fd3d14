"""Build random-weight LLaVA-1.5-shaped models offline, for tests and benchmarks.

The models use the real classes (LlavaForConditionalGeneration, LlavaProcessor, a BPE tokenizer and the
LLaVA-1.5 chat template) and are saved to a folder, so they load through the same ``from_pretrained`` path a
user's downloaded model does. Their answers are gibberish: measure structure and timing, never wording.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The chat template that llava-hf/llava-1.5-7b-hf ships: "USER: <image>\n{question} ASSISTANT: {answer} USER: ...".
LLAVA_15_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] != 'system' %}{{ message['role'].upper() + ': ' }}{% endif %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
    "{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{{ content['text'] + ' ' }}{% endfor %}"
    "{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ content['text'] + ' ' }}{% endgeneration %}{% endfor %}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# The chat template that HuggingFaceTB/SmolVLM-256M-Instruct and -500M-Instruct ship (chat_template.json):
# "<|im_start|>User:<image>{question}<end_of_utterance>\nAssistant: {answer}<end_of_utterance>\n...".
SMOLVLM_CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

_WORDS = (
    "the a an of on in at to with and or is are was window screen button menu text file edit view help open "
    "close save cancel ok dialog title bar icon desktop taskbar image photo picture person people dog cat street "
    "car tree sky blue red green white black yellow left right top bottom centre middle shows contains there this "
    "that it which reads says label field search address page tab browser terminal document paragraph heading "
    "list item link selected focused cursor 12 3.5 v1.2 e.g. Dr. approx. . , : ; ! ? ( ) -"
).split()


@dataclass(frozen=True)
class ModelSize:
    """Dimensions of a random LLaVA-1.5-shaped model (336 px, patch 14, 576 image tokens)."""

    vocab_size: int
    vision_hidden: int
    vision_layers: int
    vision_heads: int
    text_hidden: int
    text_layers: int
    text_heads: int
    text_intermediate: int


# About 0.3 M parameters: loads in well under a second, for tests.
TINY = ModelSize(
    vocab_size=600, vision_hidden=32, vision_layers=2, vision_heads=2,
    text_hidden=32, text_layers=2, text_heads=2, text_intermediate=64,
)
# About 60 M parameters: big enough that the model's own time dominates, for benchmarks.
MID = ModelSize(
    vocab_size=32000, vision_hidden=256, vision_layers=4, vision_heads=4,
    text_hidden=512, text_layers=8, text_heads=8, text_intermediate=1376,
)


def _corpus(vocab_size: int, seed: int) -> list[str]:
    """Sentences of English-like words plus random letter strings, enough for ``vocab_size`` BPE merges."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    extra = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(vocab_size)]
    vocabulary = _WORDS + extra
    return [" ".join(rng.choice(vocabulary) for _ in range(24)) for _ in range(max(200, vocab_size // 4))]


def build_tokenizer(vocab_size: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """A byte-level BPE tokenizer with LLaMA's special tokens and the ``<image>`` token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<unk>", "<s>", "</s>", "<pad>", "<image>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(_corpus(vocab_size, seed), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        padding_side="left",
        extra_special_tokens={"image_token": "<image>"},
    )


def _unprintable_token_ids(tokenizer) -> list[int]:  # type: ignore[no-untyped-def]
    """Ids of tokens that decode to anything but printable ASCII."""
    return [
        token_id
        for token_id in range(len(tokenizer))
        if any(not 32 <= ord(char) < 127 for char in tokenizer.decode([token_id]))
    ]


def build_llava_processor(vocab_size: int, seed: int = 0) -> Any:
    """A LlavaProcessor as llava-hf/llava-1.5-7b-hf's: CLIP's 336 px preprocessing, a BPE tokenizer, its template."""
    from transformers import CLIPImageProcessorPil, LlavaProcessor

    return LlavaProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": 336},
            crop_size={"height": 336, "width": 336},
            image_mean=CLIP_MEAN,
            image_std=CLIP_STD,
        ),
        tokenizer=build_tokenizer(vocab_size, seed),
        chat_template=LLAVA_15_CHAT_TEMPLATE,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )


def llava_config(size: ModelSize, tokenizer: Any) -> Any:
    """A LLaVA-1.5 configuration of ``size`` (336 px, patch 14, 576 image tokens) for ``tokenizer``."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    return LlavaConfig(
        vision_config=CLIPVisionConfig(
            image_size=336,
            patch_size=14,
            hidden_size=size.vision_hidden,
            intermediate_size=size.vision_hidden * 4,
            num_hidden_layers=size.vision_layers,
            num_attention_heads=size.vision_heads,
            projection_dim=size.vision_hidden,
        ),
        text_config=LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=size.text_hidden,
            intermediate_size=size.text_intermediate,
            num_hidden_layers=size.text_layers,
            num_attention_heads=size.text_heads,
            num_key_value_heads=size.text_heads,
            max_position_embeddings=4096,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=3,
        ),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        image_seq_length=576,
        projector_hidden_act="gelu",
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
    )


def suppress_breaking_tokens(model: Any, tokenizer: Any) -> None:
    """A random model can emit the <image> id (which would break the next turn's prompt), stop at once, or emit
    control characters and broken UTF-8. Suppressing those gives answers of exactly max_new_tokens tokens of
    printable text."""
    image_token_id = tokenizer.convert_tokens_to_ids("<image>")
    model.generation_config.suppress_tokens = [image_token_id, 0, 1, 2, 3, *_unprintable_token_ids(tokenizer)]
    model.generation_config.bos_token_id = 1
    model.generation_config.eos_token_id = 2
    model.generation_config.pad_token_id = 3


def build_llava(folder: Path, size: ModelSize = TINY, seed: int = 0) -> Path:
    """Build a random LLaVA-1.5-shaped model with its processor and save both into ``folder``."""
    import torch
    from transformers import LlavaForConditionalGeneration

    torch.manual_seed(seed)
    processor = build_llava_processor(size.vocab_size, seed)
    model = LlavaForConditionalGeneration(llava_config(size, processor.tokenizer)).eval()
    suppress_breaking_tokens(model, processor.tokenizer)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


# SmolVLM-256M-Instruct's real dimensions (its config.json): SmolLM2-135M as the decoder, a 93 M SigLIP encoder on
# 512 px tiles in 16 px patches, 64 tokens a tile after the pixel shuffle, pictures brought to 2048 px and split.
SMOLVLM_256M_SHAPE = {"vocab_size": 49280, "vision_hidden": 768, "vision_layers": 12, "vision_heads": 12,
                      "vision_intermediate": 3072, "tile": 512, "patch": 16, "longest_edge": 2048,
                      "text_hidden": 576, "text_layers": 30, "text_heads": 9, "text_kv_heads": 3,
                      "text_intermediate": 1536}


def build_smolvlm(folder: Path, seed: int = 0, real_shape: bool = False) -> Path:
    """Build a random SmolVLM-shaped model with its processor and save both into ``folder``.

    SmolVLM-256M-Instruct and -500M-Instruct are Idefics3 models on the hub (config.json: ``"model_type":
    "idefics3"``; the ``smolvlm`` type is SmolVLM2's, whose processor also needs torchvision and num2words), so
    these are the real Idefics3 classes with SmolVLM's layout, shrunk: a SigLIP-style encoder on 64 px tiles
    (SmolVLM: 512) in 8 px patches (16), pixel shuffle by 4 as in SmolVLM, so each tile is 4 image tokens (64);
    pictures are scaled to a longest edge of 128 px (2048) and split into up to 2 x 2 tiles (4 x 4) plus the whole
    picture as a global tile. The tokenizer has SmolVLM's image tokens and the chat template is SmolVLM's own.
    """
    import torch
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
        Idefics3VisionConfig,
        LlamaConfig,
    )

    torch.manual_seed(seed)
    shape = SMOLVLM_256M_SHAPE if real_shape else {
        "vocab_size": TINY.vocab_size, "vision_hidden": TINY.vision_hidden, "vision_layers": TINY.vision_layers,
        "vision_heads": TINY.vision_heads, "vision_intermediate": TINY.vision_hidden * 4, "tile": 64, "patch": 8,
        "longest_edge": 128, "text_hidden": TINY.text_hidden, "text_layers": TINY.text_layers,
        "text_heads": TINY.text_heads, "text_kv_heads": TINY.text_heads, "text_intermediate": TINY.text_intermediate}
    tokenizer = build_tokenizer(shape["vocab_size"], seed)
    # The tokens SmolVLM's tokenizer has and its processor writes around each tile: "<|im_start|>" opens the
    # chat template; "<fake_token_around_image>", "<global-img>" and "<row_R_col_C>" frame the tiles.
    tiles = [f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7)]
    tokenizer.add_special_tokens({"additional_special_tokens": [
        "<|im_start|>", "<fake_token_around_image>", "<image>", "<end_of_utterance>", "<global-img>", *tiles]})
    processor = Idefics3Processor(
        image_processor=Idefics3ImageProcessorPil(
            size={"longest_edge": shape["longest_edge"]},
            max_image_size={"longest_edge": shape["tile"]},
            image_mean=[0.5, 0.5, 0.5],
            image_std=[0.5, 0.5, 0.5],
        ),
        tokenizer=tokenizer,
        image_seq_len=(shape["tile"] // shape["patch"]) ** 2 // 16,  # patches a tile / 4 ** 2 (the pixel shuffle)
        chat_template=SMOLVLM_CHAT_TEMPLATE,
    )
    image_token_id = tokenizer.convert_tokens_to_ids("<image>")
    config = Idefics3Config(
        vision_config=Idefics3VisionConfig(
            image_size=shape["tile"],
            patch_size=shape["patch"],
            hidden_size=shape["vision_hidden"],
            intermediate_size=shape["vision_intermediate"],
            num_hidden_layers=shape["vision_layers"],
            num_attention_heads=shape["vision_heads"],
        ),
        text_config=LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=shape["text_hidden"],
            intermediate_size=shape["text_intermediate"],
            num_hidden_layers=shape["text_layers"],
            num_attention_heads=shape["text_heads"],
            num_key_value_heads=shape["text_kv_heads"],
            max_position_embeddings=8192,  # SmolVLM-256M's context
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=3,
        ),
        image_token_id=image_token_id,
        scale_factor=4,
    )
    model = Idefics3ForConditionalGeneration(config).eval()
    # As in build_llava: no image or frame tokens, no stop, no control characters or broken UTF-8, so answers are
    # exactly max_new_tokens tokens of printable text.
    model.generation_config.suppress_tokens = sorted(
        {0, 1, 2, 3, *tokenizer.all_special_ids, *_unprintable_token_ids(tokenizer)})
    model.generation_config.bos_token_id = 1
    model.generation_config.eos_token_id = 2
    model.generation_config.pad_token_id = 3
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_whisper(folder: Path, seed: int = 0, shape: str = "tiny") -> Path:
    """A random Whisper with a byte-level tokenizer, saved with its processor: the real classes and pipeline.

    ``shape`` "tiny" is for tests; "base" has whisper-base.en's sizes (6+6 layers, width 512, 51,865-token output
    layer, 74 M parameters) for honest timings. Every token but the lower-case letters and space is suppressed, so
    transcripts are readable (if meaningless) text.
    """
    import json

    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    printable = list(range(ord("!"), ord("~") + 1))
    others = list(range(ord("\u00a1"), ord("\u00ac") + 1)) + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    byte_values = printable + others
    characters = [chr(value) for value in byte_values]
    extra = 0
    for value in range(256):
        if value not in byte_values:
            byte_values.append(value)
            characters.append(chr(256 + extra))
            extra += 1
    vocab = {character: index for index, character in enumerate(characters)}
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
    for special in specials:
        vocab[special] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    end = vocab["<|endoftext|>"]
    tokenizer = WhisperTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), unk_token="<|endoftext|>",
                                 bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    tiny = {"vocab_size": len(vocab), "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
            "decoder_attention_heads": 2, "d_model": 64, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128}
    base = {"vocab_size": 51865, "encoder_layers": 6, "decoder_layers": 6, "encoder_attention_heads": 8,
            "decoder_attention_heads": 8, "d_model": 512, "encoder_ffn_dim": 2048, "decoder_ffn_dim": 2048}
    sizes: dict[str, Any] = {"tiny": tiny, "base": base}[shape]
    config = WhisperConfig(
        num_mel_bins=80, max_source_positions=1500, max_target_positions=128,
        decoder_start_token_id=vocab["<|startoftranscript|>"], eos_token_id=end, pad_token_id=end, bos_token_id=end,
        begin_suppress_tokens=None, suppress_tokens=None, **sizes,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    letters = {ord(character) for character in "abcdefghijklmnopqrstuvwxyz "}
    suppressed = [index for index, value in enumerate(byte_values) if value not in letters]
    suppressed += list(range(len(vocab), config.vocab_size))  # output rows with no token behind them
    model.generation_config = GenerationConfig(
        decoder_start_token_id=vocab["<|startoftranscript|>"], eos_token_id=end, pad_token_id=end,
        no_timestamps_token_id=vocab["<|notimestamps|>"], is_multilingual=False, max_length=128,
        forced_decoder_ids=None, begin_suppress_tokens=[end], suppress_tokens=suppressed,
    )
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer).save_pretrained(
        folder)
    return folder


def build_text_only(folder: Path, seed: int = 0) -> Path:
    """A random Llama that reads text only (with a chat template), saved to ``folder``: a server serving it drops
    every picture without a word, as a text-only model on vLLM or Ollama would."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    tokenizer = build_tokenizer(TINY.vocab_size, seed)
    tokenizer.chat_template = (
        "{% for message in messages %}{{ message['role'].upper() + ': ' }}"
        "{% if message['content'] is string %}{{ message['content'] + ' ' }}{% else %}"
        "{% for part in message['content'] | selectattr('type', 'equalto', 'text') %}{{ part['text'] + ' ' }}"
        "{% endfor %}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
    )
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=TINY.text_hidden,
                         intermediate_size=TINY.text_intermediate, num_hidden_layers=TINY.text_layers,
                         num_attention_heads=TINY.text_heads, num_key_value_heads=TINY.text_heads,
                         max_position_embeddings=4096, bos_token_id=1, eos_token_id=2, pad_token_id=3)
    model = LlamaForCausalLM(config).eval()
    model.generation_config.suppress_tokens = [0, 1, 2, 3, *_unprintable_token_ids(tokenizer)]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
