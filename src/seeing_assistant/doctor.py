"""``seeing-assistant doctor``: what this computer has, and whether the chosen model is on disk and fits."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from typing import TextIO

from seeing_assistant import __version__, devices, model_store
from seeing_assistant.errors import SeeingAssistantError

_GB = 1024**3


def _gb(count: float) -> str:
    return f"{count / _GB:.1f} GB"


def accelerator_lines() -> list[str]:
    """One line per kind of accelerator, with free memory where it can be read."""
    import torch

    lines = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            name = torch.cuda.get_device_name(index)
            lines.append(f"  CUDA {index}: {name}, {_gb(free)} free of {_gb(total)}")
    else:
        lines.append("  CUDA: not available" + (" (this torch is a CPU build)" if torch.version.cuda is None else ""))
    lines.append("  MPS (Apple): " + ("available" if torch.backends.mps.is_available() else "not available"))
    lines.append(f"  CPU: {os.cpu_count()} cores, {_gb(devices.available_memory_bytes())} free memory")
    return lines


def model_lines(model: str, device: str, dtype: str, quantize: str | None) -> list[str]:
    """Whether ``model`` is on disk, and whether it fits at the precision it would load with."""
    lines = [f"Model {model}:"]
    try:
        folder = model_store.locate(model)
    except SeeingAssistantError as error:
        return [*lines, f"  on disk: no. {error}"]
    weights = model_store.weights_info(folder)
    lines.append(f"  on disk: yes, at {folder} ({_gb(weights.bytes_on_disk)}, stored as {weights.stored_dtype})")
    try:
        placement = devices.resolve(device, dtype, weights.bytes_at("float32"))
    except SeeingAssistantError as error:
        return [*lines, f"  device: {error}"]
    precision = quantize or placement.dtype
    needed = weights.bytes_at(precision)
    if placement.device.startswith("cuda"):
        import torch

        index = int(placement.device.partition(":")[2] or 0)
        free = torch.cuda.mem_get_info(index)[0]
    else:
        free = devices.available_memory_bytes()
    verdict = "fits" if needed < 0.9 * free else "does NOT fit: try --quantize 4bit or a smaller model"
    lines.append(f"  would run on {placement.device} in {precision}: needs about {_gb(needed)} for the weights, "
                 f"{_gb(free)} free: {verdict}")
    return lines


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Print the report; always exits 0, since it reports problems rather than failing on them."""
    import torch
    import transformers

    lines = [
        f"Seeing Assistant {__version__}",
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()} ({sys.executable})",
        f"torch {torch.__version__}, transformers {transformers.__version__}",
        "Accelerators:",
        *accelerator_lines(),
        *model_lines(args.model, args.device, args.dtype, args.quantize),
    ]
    out.write("\n".join(lines) + "\n")
    return 0
