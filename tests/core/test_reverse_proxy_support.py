"""The test support's reverse proxy (nginx) in front of the tiny model server: TLS, 401 and 413 as a real proxy gives.

These check the tool the server engine's tests use, not the app: that a streamed answer passes through unbuffered,
and that each fault the proxy is for (untrusted certificate, hostname mismatch, missing key, large body) happens.
"""

from __future__ import annotations

import json
import shutil
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx2
import pytest

from seeing_assistant.core.server_failures import error_chain
from tests.support.model_server import ModelServer
from tests.support.reverse_proxy import WRONG_NAME, ReverseProxy, has_cryptography, make_certificates

KEY = "sk-test-4b1d"
LIMIT = 64 * 1024


def test_nginx_is_installed() -> None:
    assert shutil.which("nginx"), "nginx is not installed: run scripts/install --test"


@pytest.fixture(scope="module")
def proxy(llava_server: ModelServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReverseProxy]:
    assert shutil.which("nginx"), "nginx is not installed: run scripts/install --test"
    with ReverseProxy(tmp_path_factory.mktemp("proxy"), llava_server.port, api_key=KEY,
                      max_body_bytes=LIMIT) as running:
        yield running


def trusting(proxy: ReverseProxy) -> ssl.SSLContext:
    """What the app builds when the user chose the proxy's CA file: the system's CAs plus that one."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=proxy.ca_file)
    return context


def chat(llava_server: ModelServer, **extra: Any) -> dict[str, Any]:
    return {"model": str(llava_server.model), "stream": True, "max_tokens": 48,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "What is shown?"}]}], **extra}


def test_an_answer_streams_through_https_in_pieces_as_they_come(proxy: ReverseProxy,
                                                                llava_server: ModelServer) -> None:
    arrivals: list[tuple[float, dict[str, Any]]] = []
    with httpx2.Client(verify=trusting(proxy), trust_env=False, timeout=30,
                       headers={"Authorization": f"Bearer {KEY}"}) as client, \
            client.stream("POST", proxy.url("https") + "/chat/completions", json=chat(llava_server)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                arrivals.append((time.monotonic(), json.loads(line.removeprefix("data: "))))
    finishes = [choice.get("finish_reason") for _, chunk in arrivals for choice in chunk.get("choices", [])]
    assert len(arrivals) > 10
    assert finishes[-1] in ("length", "stop") and not any(finishes[:-1])
    # Unbuffered: the first pieces arrived well before the last (a buffering proxy hands them over all at once).
    assert arrivals[-1][0] - arrivals[0][0] > 0.05


def test_with_the_key_the_api_answers_without_it_401_in_openais_words(proxy: ReverseProxy) -> None:
    with httpx2.Client(verify=trusting(proxy), trust_env=False, timeout=10) as client:
        refused = client.get(proxy.url("https") + "/models")
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "invalid_request_error"
        assert "API key" in refused.json()["error"]["message"]
        assert client.get(proxy.url("https") + "/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get(proxy.url("https") + "/models", headers={"Authorization": f"Bearer {KEY}"}).status_code \
            == 200
        assert client.get(proxy.url("https").removesuffix("/v1") + "/health").status_code == 200  # as vLLM: open
        assert client.get(proxy.url("https", "127.0.0.1") + "/models",  # the certificate names the address too
                          headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    with httpx2.Client(trust_env=False, timeout=10) as plain:
        assert plain.get(proxy.url("http") + "/models", headers={"Authorization": f"Bearer {KEY}"}).status_code \
            == 200


def test_a_body_over_the_limit_gets_413(proxy: ReverseProxy, llava_server: ModelServer) -> None:
    picture = "data:image/jpeg;base64," + "A" * (LIMIT + 1000)
    body = chat(llava_server, messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": picture}}, {"type": "text", "text": "What is shown?"}]}])
    with httpx2.Client(verify=trusting(proxy), trust_env=False, timeout=10,
                       headers={"Authorization": f"Bearer {KEY}"}) as client:
        response = client.post(proxy.url("https") + "/chat/completions", json=body)
    assert response.status_code == 413
    assert "413 Request Entity Too Large" in response.text  # nginx's own page, HTML


def test_without_the_ca_file_the_certificate_is_not_trusted(proxy: ReverseProxy) -> None:
    with httpx2.Client(verify=ssl.create_default_context(), trust_env=False, timeout=10) as client, \
            pytest.raises(httpx2.ConnectError) as failure:
        client.get(proxy.url("https") + "/models")
    causes = error_chain(failure.value)
    assert any(isinstance(each, ssl.SSLCertVerificationError) for each in causes), causes
    assert "unable to get local issuer certificate" in str(failure.value)


def test_a_certificate_for_another_name_is_a_hostname_mismatch(proxy: ReverseProxy) -> None:
    with httpx2.Client(verify=trusting(proxy), trust_env=False, timeout=10) as client, \
            pytest.raises(httpx2.ConnectError) as failure:
        client.get(proxy.url("mismatched") + "/models")
    assert any(isinstance(each, ssl.SSLCertVerificationError) for each in error_chain(failure.value))
    assert "Hostname mismatch" in str(failure.value)


@pytest.mark.parametrize("tool", ["cryptography", "openssl"])
def test_either_tool_makes_certificates_that_verify_for_localhost_only(
        tool: Literal["cryptography", "openssl"], tmp_path: Path) -> None:
    if tool == "cryptography":
        assert has_cryptography()
    else:
        assert shutil.which("openssl"), "openssl is not installed"
    made = make_certificates(tmp_path, tool)
    client = ssl.create_default_context(cafile=made.ca_file)
    client.verify_flags |= ssl.VERIFY_X509_STRICT  # Python 3.13's default: the checks a strict client makes
    for cert, key, host, error in ((made.good_cert, made.good_key, "localhost", None),
                                   (made.good_cert, made.good_key, "127.0.0.1", None),
                                   (made.good_cert, made.good_key, "::1", None),
                                   (made.wrong_cert, made.wrong_key, WRONG_NAME, None),
                                   (made.wrong_cert, made.wrong_key, "localhost", "Hostname mismatch")):
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert, key)
        outcome = handshake(client, server, host)
        assert outcome == error or (error and outcome and error in outcome), (tool, host, outcome)


def handshake(client: ssl.SSLContext, server: ssl.SSLContext, host: str) -> str | None:
    """A TLS handshake in memory: None when it succeeds, else the client's verification error."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_end = client.wrap_bio(to_client, to_server, server_hostname=host)
    s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_end = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        done = 0
        for end in (client_end, server_end):
            try:
                end.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLCertVerificationError as error:
                return str(error)
        s_in.write(to_server.read())
        to_client.write(s_out.read())
        if done == 2:
            return None
    raise AssertionError("the handshake did not finish")
