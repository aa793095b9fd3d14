"""Where a Stop is seen inside a model's forward pass: before each part of every block, and between query chunks.

Imported by the engine once torch and transformers are loaded. Nothing here names a model: a model's decoder
layers, its vision encoder's blocks and its projector's stages are the elements of its ``nn.ModuleList``s, and its
attention goes through transformers' ``AttentionInterface``, whatever the architecture.

Why both: between layers alone was not enough (one layer of the mid-size random LLaVA read a 1,618-token prompt in
430-560 ms on 2 busy cores); before each projection, norm and activation the longest stretch left is the attention
itself (35-65 ms there quiet, up to 230 ms on a busy machine). So a long prompt's attention is computed a chunk of
queries at a time, with a check between chunks: each chunk is the same computation (every query's row of the
attention is independent of the others), done by the same SDPA function, so the answer does not change. A decode
step has one query and is never cut.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

CHUNKED_SDPA = "seeing_assistant_chunked_sdpa"
QUERY_CHUNK = 256  # queries per attention chunk: a sixth of a 1,618-token prompt's attention per check
_CHECK = "_seeing_assistant_stop_check"


def install(model: Any, check: Callable[..., None]) -> list[Any]:
    """Call ``check`` before every block and each of its parts, and between a long prompt's attention chunks.

    Returns the hooks' handles; :func:`remove` takes them and the attention's checks out again.
    """
    from torch import nn

    _use_chunked_attention(model)
    handles: list[Any] = []
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is not None:  # between the last layer and the head: the head, the token's bookkeeping, then the criteria
        handles.append(head.register_forward_pre_hook(check))
    for module in model.modules():
        if isinstance(module, nn.ModuleList):
            for block in module:
                for part in block.modules():
                    setattr(part, _CHECK, check)  # read by the attention between its chunks
                    if part is block or not any(part.children()):
                        handles.append(part.register_forward_pre_hook(check))
    return handles


def remove(model: Any, handles: list[Any]) -> None:
    """Take the checks out (the stop benchmark compares the decode rate with and without them)."""
    for handle in handles:
        handle.remove()
    for module in model.modules():
        if hasattr(module, _CHECK):
            delattr(module, _CHECK)


def _use_chunked_attention(model: Any) -> None:
    """Switch the model's SDPA attention (the default) to the chunked one; any other implementation is left alone."""
    if getattr(model.config, "_attn_implementation", None) != "sdpa":
        return
    AttentionInterface.register(CHUNKED_SDPA, chunked_sdpa_attention)
    # The masks SDPA takes, too: an attention name transformers does not know gets none, which let a follow-up's
    # new tokens see the whole cache at once and changed its answer.
    AttentionMaskInterface.register(CHUNKED_SDPA, sdpa_mask)
    try:
        model.set_attn_implementation(CHUNKED_SDPA)
    except (ValueError, TypeError, AttributeError):  # a model that cannot take it keeps its own attention
        return


def chunked_sdpa_attention(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                           attention_mask: torch.Tensor | None, **kwargs: Any) -> tuple[torch.Tensor, None]:
    """Transformers' SDPA attention, computed ``QUERY_CHUNK`` queries at a time with a Stop check between chunks."""
    q_length = query.shape[2]
    if q_length <= QUERY_CHUNK:
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    is_causal = kwargs.pop("is_causal", None)
    is_causal = bool(is_causal if is_causal is not None else getattr(module, "is_causal", True))
    position_bias = kwargs.pop("position_bias", None)
    kv_length = key.shape[2]
    past = kv_length - q_length  # tokens already in the cache before this prompt's part
    check = getattr(module, _CHECK, None)
    pieces = []
    for start in range(0, q_length, QUERY_CHUNK):
        if check is not None and start:
            check()
        end = min(start + QUERY_CHUNK, q_length)
        chunk_key, chunk_value, mask = key, value, attention_mask
        if mask is not None:
            mask = mask[:, :, start:end, :] if mask.shape[2] == q_length else mask
        elif is_causal:
            # SDPA's own causal flag aligns to the top left, which is wrong for a chunk that starts part-way down:
            # the chunk's rows see the keys up to their own position, written out as a mask.
            chunk_key, chunk_value = key[:, :, : past + end], value[:, :, : past + end]
            rows = torch.arange(past + start, past + end, device=query.device).unsqueeze(1)
            columns = torch.arange(past + end, device=query.device).unsqueeze(0)
            mask = (columns <= rows)[None, None]
        bias = position_bias
        if bias is not None:
            bias = bias[:, :, start:end, : chunk_key.shape[2]] if bias.shape[2] == q_length else bias
        output, _ = sdpa_attention_forward(module, query[:, :, start:end], chunk_key, chunk_value, mask,
                                           is_causal=False if mask is not None else is_causal,
                                           position_bias=bias, **kwargs)
        pieces.append(output)
    return torch.cat(pieces, dim=1), None
