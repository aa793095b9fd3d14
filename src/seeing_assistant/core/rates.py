"""Figures shared by both engines' answers."""

from __future__ import annotations


def decode_rate(new_tokens: int, time_to_first_token_s: float | None, total_s: float) -> float | None:
    """Tokens a second after the first one, or None when too few tokens came to measure it (both engines' answers)."""
    if time_to_first_token_s is None or new_tokens < 2:
        return None
    decode_s = total_s - time_to_first_token_s
    return (new_tokens - 1) / decode_s if decode_s > 0 else None
