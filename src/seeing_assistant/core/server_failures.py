"""One sentence per way a model server can fail, each saying what to do; raised as :class:`ServerError` (exit code 3).

An HTTP status has its sentence (:func:`status_sentence`), read with the server's own words (:func:`error_text`);
a failure to reach or read the server is told by what its exception chain holds (:func:`failure_sentence`).
"""

from __future__ import annotations

import json
import ssl
from urllib.parse import urlsplit

from seeing_assistant.core import messages
from seeing_assistant.core.engine_settings import ServerSettings
from seeing_assistant.core.errors import ServerError, short_reason


def error_text(content: bytes) -> str:
    """The server's own words about an error: OpenAI's ``error.message``, FastAPI's ``detail``, or the text."""
    text = content.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:160]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:160]
        for key in ("detail", "message", "error"):
            if data.get(key):
                return str(data[key])[:160]
    return text[:160]


def status_sentence(status: int, reason: str, server: ServerSettings, model: str = "") -> str:
    """The sentence for an HTTP error status from the server."""
    url = server.base_url
    if status in (401, 403):
        return messages.SERVER_UNAUTHORISED.format(url=url, status=status)
    if status == 404:
        if "model" in reason.lower() and model:
            return messages.SERVER_MODEL_NOT_SERVED.format(model=model, served=reason)
        suggestion = url if url.endswith("/v1") else url + "/v1"
        return messages.SERVER_NO_API.format(url=url, suggestion=suggestion)
    if status == 413:
        return messages.SERVER_PICTURE_TOO_LARGE
    if status in (502, 503, 504):  # a proxy in front of a server that is down, starting or too slow
        return messages.SERVER_BEHIND_PROXY_UNAVAILABLE.format(status=status)
    if status == 400 and "model" in reason.lower() and model and model in reason:
        return messages.SERVER_MODEL_NOT_SERVED.format(model=model, served=reason)
    if status == 400 and "plain http" in reason.lower():
        return messages.SERVER_HTTP_TO_HTTPS.format(url=url)
    return messages.SERVER_HTTP_ERROR.format(status=status, reason=reason or "no reason given")


def failure_sentence(error: BaseException, server: ServerSettings) -> str:
    """The sentence for a failure to reach or read the server (the exception chain tells which)."""
    import httpx2

    url = server.base_url
    host = urlsplit(url).hostname or url
    chain = error_chain(error)
    text = " ".join(str(each) for each in chain).lower()
    if any(isinstance(each, ssl.SSLCertVerificationError) for each in chain) or "certificate verify failed" in text:
        if "hostname mismatch" in text or "ip address mismatch" in text or "doesn't match" in text:
            return messages.SERVER_CERT_MISMATCH.format(host=host)
        return messages.SERVER_CERT_UNTRUSTED.format(url=url)
    if "wrong_version_number" in text or "wrong version number" in text or "record layer failure" in text \
            or "packet length too long" in text:
        return messages.SERVER_HTTPS_TO_HTTP.format(url=url)
    if isinstance(error, httpx2.ReadTimeout):
        return messages.SERVER_READ_TIMEOUT.format(seconds=f"{server.read_timeout_s:g}")
    if isinstance(error, httpx2.ConnectTimeout):
        return messages.SERVER_NOT_LISTENING.format(url=url)
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo failed" in text \
            or "no address associated" in text or "temporary failure in name resolution" in text:
        return messages.SERVER_UNKNOWN_HOST.format(host=host, url=url)
    if isinstance(error, httpx2.ConnectError):
        return messages.SERVER_NOT_LISTENING.format(url=url)
    if isinstance(error, (httpx2.RemoteProtocolError, httpx2.ReadError)):
        # Plain http to a TLS port: uvicorn (vLLM with --ssl-certfile) hangs up without a word.
        if url.startswith("http://") and ("without sending a response" in text or "illegal" in text):
            return messages.SERVER_HTTP_TO_HTTPS.format(url=url)
        return messages.SERVER_STREAM_BROKEN
    return messages.SERVER_UNEXPECTED.format(url=url, reason=short_reason(error))


def error_chain(error: BaseException) -> list[BaseException]:
    """The error and each one it came from (its cause, else its context), without going round in circles."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def ssl_context(ca_file: str) -> ssl.SSLContext:
    """The system's trusted certificates, plus the user's certificate authority when one is chosen."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError):
            raise ServerError(messages.SERVER_CA_FILE_UNREADABLE.format(path=ca_file)) from None
    return context
