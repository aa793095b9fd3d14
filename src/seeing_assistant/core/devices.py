"""Choose where a model runs and at what precision: CUDA or MPS in float16, the CPU in float32 when it fits.

On the CPU, float32 was measured faster to the first word than bfloat16 on CPUs without native bfloat16
(``python -m benchmarks.cpu_dtype``); bfloat16 is used when float32 weights would not fit in free memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from seeing_assistant.core import messages
from seeing_assistant.core.errors import BadInputError

if TYPE_CHECKING:
    import torch



@dataclass(frozen=True)
class Placement:
    """A resolved device (``cpu``, ``cuda``, ``cuda:1``, ``mps``) and precision name."""

    device: str
    dtype: str

    def torch_dtype(self) -> torch.dtype:
        """The precision as a torch dtype."""
        import torch

        return {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[self.dtype]


def resolve_device(requested: str) -> str:
    """Turn ``auto`` into the best accelerator present, and check that a named one exists."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    kind = requested.split(":", 1)[0]
    if kind == "cpu":
        return "cpu"
    if kind == "cuda" and torch.cuda.is_available():
        index = requested.partition(":")[2]
        if not index or (index.isdigit() and int(index) < torch.cuda.device_count()):
            return requested
    if kind == "mps" and requested == "mps" and torch.backends.mps.is_available():
        return "mps"
    raise BadInputError(messages.DEVICE_NOT_AVAILABLE.format(device=requested))


def available_memory_bytes() -> int:
    """Free system memory, which bounds what the CPU can hold."""
    import psutil

    return int(psutil.virtual_memory().available)


def resolve_dtype(requested: str, device: str, float32_bytes: int | None = None) -> str:
    """Pick the precision: float16 on accelerators, float32 on the CPU unless it would not fit."""
    if requested != "auto":
        if requested == "float16" and device == "cpu":
            # Works, but many times slower than float32 on CPUs: allowed because the user asked for it.
            return requested
        if requested == "bfloat16" and device == "mps":
            raise BadInputError(messages.DTYPE_NOT_SUPPORTED.format(dtype=requested, device=device))
        return requested
    if device != "cpu":
        return "float16"
    if float32_bytes is not None and float32_bytes > 0.8 * available_memory_bytes():
        return "bfloat16"
    return "float32"


def resolve(requested_device: str, requested_dtype: str, float32_bytes: int | None = None) -> Placement:
    """Resolve both the device and the precision."""
    device = resolve_device(requested_device)
    return Placement(device=device, dtype=resolve_dtype(requested_dtype, device, float32_bytes))
