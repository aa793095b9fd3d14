"""What an engine is made from: a model on this computer, or a model server the user chose (a leaf: imports no engine).

Both engines, the session, the factories and the front ends read these; keeping them apart from the engines that
use them is what lets the local engine, the server engine and the interfaces import each other's facts without a
circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from seeing_assistant.core import messages, model_store
from seeing_assistant.core.errors import ServerError
from seeing_assistant.core.limits import DEFAULT_MAX_NEW_TOKENS

DEFAULT_READ_TIMEOUT_S = 120  # the longest silence while a server thinks (a big model's first token on a busy GPU)


@dataclass(frozen=True)
class ServerSettings:
    """Where the server is and how to talk to it; the API key is never shown in a repr or a log."""

    url: str
    model: str = ""  # empty: the one the server serves (the first, when it serves several)
    api_key: str | None = field(default=None, repr=False)
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    ca_file: str = ""  # a PEM file of the certificate authority of a private certificate

    @property
    def base_url(self) -> str:
        """The address as requests use it (see :func:`normalised`)."""
        return normalised(self.url)


def normalised(url: str) -> str:
    """The base address: no trailing slash, ``http://`` when no scheme was written, ``/v1`` when there is no path.

    "localhost:8000", "http://localhost:8000/" and "http://localhost:8000/v1/" all become
    "http://localhost:8000/v1". A path the user wrote (a proxy's "/ollama/v1") is kept as written. An address with
    ``user:key@`` in it is refused: it would be announced, printed by ``doctor`` and saved in the settings file.
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError(messages.SERVER_BAD_ADDRESS.format(url=_without_credentials(url.strip())))
    if parts.username is not None or parts.password is not None:
        raise ServerError(messages.SERVER_ADDRESS_HAS_KEY.format(url=_without_credentials(url.strip())))
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _without_credentials(url: str) -> str:
    """The address with anything before an ``@`` in its host part taken out, so that a key is never repeated."""
    scheme, separator, rest = url.rpartition("://")
    host_part, slash, path = rest.partition("/")
    if "@" in host_part:
        host_part = host_part.rpartition("@")[2]
    return f"{scheme}{separator}{host_part}{slash}{path}"


@dataclass(frozen=True)
class EngineSettings:
    """What to load and how: a hub id or folder, device, precision, optional quantisation, answer length.

    ``server`` set: answers come from that model server, and the local model's fields are not used.
    """

    model: str = model_store.DEFAULT_MODEL
    device: str = "auto"
    dtype: str = "auto"
    quantize: str | None = None
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    image_fit: str = "pad"  # one of limits.IMAGE_FIT_CHOICES: the whole picture on a square, or its centre
    server: ServerSettings | None = None  # answer from this model server instead of a model loaded here

    @classmethod
    def of(cls, chosen: Any, server: ServerSettings | None = None) -> EngineSettings:
        """The engine's part of the app's settings or of the command line's options (the same six names)."""
        return cls(model=chosen.model, device=chosen.device, dtype=chosen.dtype, quantize=chosen.quantize,
                   max_new_tokens=chosen.max_new_tokens, image_fit=chosen.image_fit, server=server)

    @property
    def answers_from(self) -> str:
        """The model as the user named it, or the server's address."""
        if self.server is not None:
            return self.server.model or self.server.base_url
        return self.model
