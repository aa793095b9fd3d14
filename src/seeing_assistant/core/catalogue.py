"""A short list of models sized to the machine, and the one to suggest for this computer.

Every entry is an image-text-to-text model that ``Engine`` loads with ``AutoModelForImageTextToText``. The figures
are the hub's: the safetensors download, the parameter count, and the graphics memory the model needs in half
precision (its weights plus room for the CUDA context, the image's activations and a conversation's cache).
Qt-free and torch-free: the settings dialog and the command line both read it.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1_000_000_000  # download sizes and memory needs are quoted in decimal gigabytes, as the hub shows them


@dataclass(frozen=True)
class CatalogueModel:
    """One model the app offers, with what it costs to download and to run."""

    key: str  # short, for the command line: "llava-7b"
    model_id: str  # the hub id
    title: str  # for a combo box: what it is good for and what it needs
    model_type: str  # config.json's model_type: an image-text-to-text architecture in transformers
    download_bytes: int  # the safetensors files, as the hub lists them
    parameters: int
    needs_gpu_memory_bytes: int | None  # in half precision on an NVIDIA GPU
    cpu_friendly: bool  # answers on an ordinary processor within seconds


LLAVA_7B = CatalogueModel(
    key="llava-7b",
    model_id="llava-hf/llava-1.5-7b-hf",
    title="LLaVA-1.5 7B: best answers, needs an NVIDIA GPU with 16 GB",
    model_type="llava",
    download_bytes=14_100_000_000,  # 3 shards, 7.06 B parameters in float16
    parameters=7_063_000_000,
    # 14.1 GB of weights plus ~0.9 GB for the CUDA context, activations and a conversation's cache (about 0.5 MB
    # a token): every 16 GB card holds it, a T4's 15.8e9 usable bytes included.
    needs_gpu_memory_bytes=15 * GB,
    cpu_friendly=False,  # 28 GB in float32 and minutes an answer on a processor
)
LLAVA_13B = CatalogueModel(
    key="llava-13b",
    model_id="llava-hf/llava-1.5-13b-hf",
    title="LLaVA-1.5 13B: more careful answers, needs an NVIDIA GPU with 32 GB",
    model_type="llava",
    download_bytes=26_700_000_000,  # 6 shards, 13.35 B parameters in float16
    parameters=13_350_000_000,
    needs_gpu_memory_bytes=30_700_000_000,  # 26.7 GB of weights with 15% headroom: a 32 GB card, not a 24 GB one
    cpu_friendly=False,
)
SMOLVLM_500M = CatalogueModel(
    key="smolvlm-500m",
    model_id="HuggingFaceTB/SmolVLM-500M-Instruct",
    title="SmolVLM 500M: quick short answers, runs on any computer with 4 GB free",
    # SmolVLM (v1) checkpoints are Idefics3 models on the hub; "smolvlm" is SmolVLM2's type.
    model_type="idefics3",
    download_bytes=1_020_000_000,  # one file, bfloat16
    parameters=507_000_000,  # SmolLM2-360M, a 93 M SigLIP encoder and the connector
    needs_gpu_memory_bytes=1_230_000_000,  # the model card: "inference on one image with 1.23GB of GPU RAM"
    cpu_friendly=True,
)
SMOLVLM_256M = CatalogueModel(
    key="smolvlm-256m",
    model_id="HuggingFaceTB/SmolVLM-256M-Instruct",
    title="SmolVLM 256M: the smallest and quickest, for computers short of memory",
    model_type="idefics3",
    download_bytes=513_000_000,  # one file, bfloat16
    parameters=256_000_000,  # SmolLM2-135M, the same 93 M encoder and connector
    needs_gpu_memory_bytes=1 * GB,  # the model card: "under 1GB of GPU RAM"
    cpu_friendly=True,
)

CATALOGUE: tuple[CatalogueModel, ...] = (LLAVA_7B, LLAVA_13B, SMOLVLM_500M, SMOLVLM_256M)
DEFAULT = LLAVA_7B  # with a GPU; the same as model_store.DEFAULT_MODEL (a test holds them together)

# LLaVA-1.5 7B in 4-bit (nf4 through bitsandbytes): about 3.9 GB of weights (the 6.7 B language model at half a
# byte a weight, its float16 embeddings and output layer, the quantized CLIP encoder) plus ~1 GB of context,
# activations and cache. Cards sold as 6 GB report 6.2e9 bytes or more.
FOUR_BIT_7B_GPU_BYTES = 5_500_000_000
# On the processor the app runs in float32 (devices.resolve_dtype): SmolVLM 500M is 2 GB of weights there plus
# ~1 GB while it reads a picture cut into up to 17 tiles of 64 tokens; below 4 GB free, the 256M (1 GB) is safer.
SMOLVLM_500M_FREE_BYTES = 4 * GB


def by_key(key: str) -> CatalogueModel:
    """The entry with this short key; KeyError names the known ones."""
    for model in CATALOGUE:
        if model.key == key:
            return model
    raise KeyError(f"{key!r} is not in the catalogue ({', '.join(model.key for model in CATALOGUE)})")


def find(model_id: str) -> CatalogueModel | None:
    """The entry for a hub id, or None for a model the catalogue does not list (a folder, another id)."""
    return next((model for model in CATALOGUE if model.model_id == model_id), None)


def quantize_for(model: CatalogueModel, gpu_memory_bytes: int | None) -> str | None:
    """``"4bit"`` when an NVIDIA GPU of this size holds ``model`` only in 4-bit, else None (half precision)."""
    if gpu_memory_bytes is None or model.needs_gpu_memory_bytes is None:
        return None
    return "4bit" if gpu_memory_bytes < model.needs_gpu_memory_bytes else None


def recommend(device: str, free_memory_bytes: int, gpu_memory_bytes: int | None) -> tuple[CatalogueModel, str]:
    """The catalogue entry for this machine and one plain sentence saying why.

    ``device`` is the resolved device ("cuda", "cuda:1", "mps" or "cpu"), ``free_memory_bytes`` the system's free
    memory and ``gpu_memory_bytes`` the NVIDIA GPU's total memory (None without one). On a GPU too small for
    LLaVA in half precision the 7B is still the choice, in 4-bit: see :func:`quantize_for`.
    """
    if device.startswith("cuda") and gpu_memory_bytes:
        card = f"An NVIDIA GPU with {_gigabytes(gpu_memory_bytes)} GB"
        if gpu_memory_bytes >= (LLAVA_13B.needs_gpu_memory_bytes or 0):
            return LLAVA_13B, f"{card}: LLaVA-1.5 13B in half precision."
        if gpu_memory_bytes >= (LLAVA_7B.needs_gpu_memory_bytes or 0):
            return LLAVA_7B, f"{card}: LLaVA-1.5 7B in half precision."
        if gpu_memory_bytes >= FOUR_BIT_7B_GPU_BYTES:
            return LLAVA_7B, f"{card}: LLaVA-1.5 7B in 4-bit, which needs the bitsandbytes package."
        return SMOLVLM_500M, f"{card} is too small for LLaVA even in 4-bit: SmolVLM 500M answers on it in seconds."
    where = "An Apple GPU" if device == "mps" else "No usable GPU"
    runs_on = "on it" if device == "mps" else "on the processor"
    if free_memory_bytes >= SMOLVLM_500M_FREE_BYTES:
        return SMOLVLM_500M, f"{where}: SmolVLM 500M answers {runs_on} in seconds."
    return SMOLVLM_256M, (f"{where} and {_gigabytes(free_memory_bytes)} GB of free memory: SmolVLM 256M, the smallest, "
                          f"answers {runs_on}.")


def _gigabytes(size: int) -> int:
    """A memory size as the card or the system monitor states it: 25,757,220,864 bytes is a "24 GB" card."""
    return round(size / 2**30)


def for_this_computer() -> tuple[CatalogueModel, str]:
    """The entry for this computer, from its NVIDIA GPU's memory (or none) and its free memory, with the reason.

    Imports torch to look at the GPU: call it off the window's thread.
    """
    import torch

    from seeing_assistant.core import devices

    device = devices.resolve_device("auto")
    gpu = torch.cuda.get_device_properties(0).total_memory if device.startswith("cuda") else None
    return recommend(device, devices.available_memory_bytes(), gpu)
