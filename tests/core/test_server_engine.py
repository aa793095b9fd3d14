"""The server engine against a real model server: ``transformers serve`` on 127.0.0.1 with the tiny LLaVA folder.

The faults a real server cannot be made to show on demand (a stream that breaks off, one that ends without
``finish_reason``, an error inside the stream, a silent server) come from a scripted HTTP server
(:mod:`tests.support.scripted_server`): it tests the code that reads the stream, not the server. Stop is in
``test_server_stop.py``, a server dying mid-answer in ``test_server_faults.py``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from seeing_assistant.core import intake, messages, servers
from seeing_assistant.core.engine_settings import EngineSettings, ServerSettings, normalised
from seeing_assistant.core.errors import ServerError
from seeing_assistant.core.factories import load_engine
from seeing_assistant.core.server_engine import ServerEngine
from seeing_assistant.core.server_protocol import sized_picture
from tests.support.fakes import MemoryKeyring
from tests.support.model_server import ModelServer
from tests.support.scripted_server import ScriptedServer, chunk


@pytest.fixture(scope="module")
def text_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    from tests.support.random_models import build_text_only

    folder = build_text_only(tmp_path_factory.mktemp("models") / "tiny-text")
    with ModelServer(folder, tmp_path_factory.mktemp("text-server")) as server:
        yield server


@pytest.fixture
def picture() -> intake.IntakeImage:
    image = Image.new("RGB", (1600, 900), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 200, 900), fill="red")  # marks at the left and right edges
    draw.rectangle((1400, 0, 1600, 900), fill="blue")
    draw.text((600, 400), "Inbox (3)", fill="black")
    return intake.from_pil(image)


def connect(server: ModelServer, **options: Any) -> ServerEngine:
    engine = load_engine(EngineSettings(max_new_tokens=options.pop("max_new_tokens", 16),
                                        server=ServerSettings(url=server.url, **options)))
    assert isinstance(engine, ServerEngine)
    return engine


def test_an_answer_streams_in_pieces_with_the_servers_token_counts(llava_server: ModelServer,
                                                                   picture: intake.IntakeImage) -> None:
    engine = connect(llava_server)
    try:
        assert engine.models == [engine.model_name] == [str(llava_server.model)]
        assert engine.last_check is not None and engine.last_check.sees_images
        pieces: list[str] = []
        answer = engine.ask(engine.start(picture), "What is shown?", on_text=pieces.append)
        assert len(pieces) > 1
        assert "".join(pieces).strip() == answer.text
        assert answer.new_tokens == 16
        assert answer.prompt_tokens > 576  # the picture's 576 tokens reached the model
        assert answer.time_to_first_token_s is not None and 0 < answer.time_to_first_token_s < answer.total_s
        assert not answer.is_cancelled
    finally:
        engine.close()


def rgb(picture: Image.Image, x: int, y: int) -> tuple[int, ...]:
    value = picture.getpixel((x, y))
    assert isinstance(value, tuple)
    return value


def test_the_picture_is_sent_whole_on_a_square_at_the_models_size(picture: intake.IntakeImage) -> None:
    sent = sized_picture(picture.image, "llava-hf/llava-1.5-7b-hf")
    assert sent.size == (336, 336)
    assert rgb(sent, 2, 168)[0] > 200 and rgb(sent, 2, 168)[2] < 50  # the red left edge
    assert rgb(sent, 333, 168)[2] > 200 and rgb(sent, 333, 168)[0] < 50  # the blue right edge
    assert rgb(sent, 168, 2) == (123, 117, 104)  # padded above with CLIP's mean colour
    assert sized_picture(picture.image, "Qwen/Qwen2.5-VL-7B-Instruct").size == (1024, 1024)
    assert rgb(sized_picture(picture.image, "llava-hf/llava-1.5-7b-hf", fit="crop"), 2, 168) == (255, 255, 255)


def test_a_follow_up_sends_the_whole_conversation_with_the_picture_once(llava_server: ModelServer,
                                                                        picture: intake.IntakeImage) -> None:
    engine = connect(llava_server)
    try:
        conversation = engine.start(picture)
        first = engine.ask(conversation, "What is shown?")
        second = engine.ask(conversation, "And on the left?")
        assert conversation.turns == [("What is shown?", first.text), ("And on the left?", second.text)]
        # The server read the picture, the first question and answer, and the follow-up.
        assert second.prompt_tokens > first.prompt_tokens + 5
        sent = conversation.messages("Third?")
        assert [message["role"] for message in sent] == ["user", "assistant", "user", "assistant", "user"]
        pictures = [part for message in sent if isinstance(message["content"], list)
                    for part in message["content"] if part["type"] == "image_url"]
        assert len(pictures) == 1 and pictures[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    finally:
        engine.close()


def test_a_model_the_server_does_not_serve_is_named_with_what_it_serves(llava_server: ModelServer) -> None:
    with pytest.raises(ServerError) as caught:
        connect(llava_server, model="llava-hf/llava-1.5-13b-hf")
    assert str(caught.value) == messages.SERVER_MODEL_NOT_SERVED.format(model="llava-hf/llava-1.5-13b-hf",
                                                                        served=str(llava_server.model))
    assert caught.value.exit_code == 3


def test_a_text_only_model_is_refused_because_it_would_answer_without_the_picture(
        text_only_server: ModelServer) -> None:
    with pytest.raises(ServerError) as caught:
        connect(text_only_server)
    assert str(caught.value) == messages.SERVER_IGNORES_IMAGES.format(model=str(text_only_server.model))


def test_nothing_listening_is_one_sentence() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServerError) as caught:
        load_engine(EngineSettings(server=ServerSettings(url=f"127.0.0.1:{port}")))
    assert str(caught.value) == messages.SERVER_NOT_LISTENING.format(url=f"http://127.0.0.1:{port}/v1")


def test_an_unknown_host_is_named() -> None:
    with pytest.raises(ServerError) as caught:
        load_engine(EngineSettings(server=ServerSettings(url="http://no-such-host.invalid:8000")))
    assert str(caught.value) == messages.SERVER_UNKNOWN_HOST.format(host="no-such-host.invalid",
                                                                    url="http://no-such-host.invalid:8000/v1")


def test_https_to_a_plain_http_server_says_to_use_http(llava_server: ModelServer) -> None:
    url = llava_server.url.replace("http://", "https://")
    with pytest.raises(ServerError) as caught:
        load_engine(EngineSettings(server=ServerSettings(url=url)))
    assert str(caught.value) == messages.SERVER_HTTPS_TO_HTTP.format(url=normalised(url))


def test_a_wrong_path_says_where_the_api_usually_is(llava_server: ModelServer) -> None:
    url = llava_server.url.removesuffix("/v1") + "/api"
    with pytest.raises(ServerError) as caught:
        load_engine(EngineSettings(server=ServerSettings(url=url)))
    assert str(caught.value) == messages.SERVER_NO_API.format(url=url, suggestion=url + "/v1")


@pytest.mark.parametrize("written", ["localhost:8000", "http://localhost:8000", "http://localhost:8000/",
                                     "http://localhost:8000/v1", "http://localhost:8000/v1/", " localhost:8000/v1 "])
def test_an_address_without_v1_or_with_a_trailing_slash_reaches_the_api(written: str) -> None:
    assert normalised(written) == "http://localhost:8000/v1"


def test_a_proxys_own_path_is_kept() -> None:
    assert normalised("https://example.org/ollama/v1/") == "https://example.org/ollama/v1"


@pytest.mark.parametrize("written", ["ftp://host/v1", "http://", "://x"])
def test_something_that_is_not_an_address_is_refused(written: str) -> None:
    with pytest.raises(ServerError, match="is not a server address"):
        normalised(written)


# --- Faults, from a scripted server ---------------------------------------------------------------------------------

@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()


def ask_scripted(scripted: ScriptedServer, picture: intake.IntakeImage, read_timeout_s: float = 30,
                 on_text: Callable[[str], None] | None = None) -> Any:
    engine = load_engine(EngineSettings(server=ServerSettings(url=scripted.url, read_timeout_s=read_timeout_s)))
    assert isinstance(engine, ServerEngine)
    try:
        return engine.ask(engine.start(picture), "What is shown?", on_text=on_text)
    finally:
        engine.close()


def test_a_complete_scripted_stream_is_the_answer(scripted: ScriptedServer, picture: intake.IntakeImage) -> None:
    scripted.script = [b": a comment line\n\n", chunk("Two "), chunk("words."), chunk(finish="stop", usage=True),
                       b"data: [DONE]\n\n"]
    answer = ask_scripted(scripted, picture)
    assert (answer.text, answer.prompt_tokens, answer.new_tokens) == ("Two words.", 700, 2)


def test_a_stream_that_ends_without_finish_reason_is_a_broken_answer(scripted: ScriptedServer,
                                                                     picture: intake.IntakeImage) -> None:
    scripted.script = [chunk("Half an "), chunk("answer")]
    heard: list[str] = []
    with pytest.raises(ServerError) as caught:
        ask_scripted(scripted, picture, on_text=heard.append)
    assert str(caught.value) == messages.SERVER_STREAM_BROKEN
    assert heard == ["Half an ", "answer"]  # what came was streamed before the sentence


def test_a_stream_cut_in_the_middle_of_an_event_is_a_broken_answer(scripted: ScriptedServer,
                                                                   picture: intake.IntakeImage) -> None:
    scripted.script = [chunk("Half "), b'data: {"choices": [{"delta": {"content": "an']
    with pytest.raises(ServerError) as caught:
        ask_scripted(scripted, picture)
    assert str(caught.value) == messages.SERVER_STREAM_BROKEN


def test_an_error_inside_the_stream_is_told_in_the_servers_words(scripted: ScriptedServer,
                                                                 picture: intake.IntakeImage) -> None:
    scripted.script = [chunk("Half"), b'data: {"error": {"message": "CUDA out of memory", "code": 500}}\n\n']
    with pytest.raises(ServerError) as caught:
        ask_scripted(scripted, picture)
    assert str(caught.value) == messages.SERVER_STREAM_ERROR.format(reason="CUDA out of memory")


def test_a_silent_server_times_out_with_the_timeout_named(scripted: ScriptedServer,
                                                          picture: intake.IntakeImage) -> None:
    scripted.script = [chunk("Thinking"), 3.0, chunk(finish="stop")]
    with pytest.raises(ServerError) as caught:
        ask_scripted(scripted, picture, read_timeout_s=0.5)
    assert str(caught.value) == messages.SERVER_READ_TIMEOUT.format(seconds="0.5")


@pytest.mark.parametrize(("status", "sentence"), [
    (401, messages.SERVER_UNAUTHORISED.format(url="{url}", status=401)),
    (413, messages.SERVER_PICTURE_TOO_LARGE),
    (500, messages.SERVER_HTTP_ERROR.format(status=500, reason="no reason given")),
    (504, messages.SERVER_BEHIND_PROXY_UNAVAILABLE.format(status=504)),
])
def test_an_error_status_is_one_sentence(scripted: ScriptedServer, picture: intake.IntakeImage, status: int,
                                         sentence: str) -> None:
    engine = load_engine(EngineSettings(server=ServerSettings(url=scripted.url)))
    assert isinstance(engine, ServerEngine)
    scripted.status = status
    try:
        with pytest.raises(ServerError) as caught:
            engine.ask(engine.start(picture), "What is shown?")
    finally:
        engine.close()
    assert str(caught.value) == sentence.replace("{url}", scripted.url)


# --- The key -----------------------------------------------------------------------------------------------------


def memory_backend() -> MemoryKeyring:
    """The test double as a backend of the keyring package's own kind, so that it can be this desktop's keyring."""
    from keyring.backend import KeyringBackend

    class MemoryBackend(MemoryKeyring, KeyringBackend):
        pass

    return MemoryBackend()


@pytest.fixture
def system_keyring() -> Iterator[Callable[[Any], None]]:
    """Chooses what the keyring package finds as this desktop's keyring, whatever this machine has; put back after."""
    import keyring

    found = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(found)


def test_the_api_key_goes_to_the_keyring_and_never_into_the_settings_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, system_keyring: Callable[[Any], None]) -> None:
    from seeing_assistant.core import settings

    backend = memory_backend()
    system_keyring(backend)
    monkeypatch.setattr(servers, "_memory", {})
    monkeypatch.setenv(settings.CONFIG_ENV, str(tmp_path))
    assert servers.has_keyring()
    assert servers.save_api_key("gpu-box:8000", "sk-secret-123") is None
    assert backend.secrets == {(servers.SERVICE, "http://gpu-box:8000/v1"): "sk-secret-123"}
    chosen = settings.Settings(answers_from="server", server_url="http://gpu-box:8000/v1/")
    settings.save(chosen)
    assert "sk-secret" not in settings.settings_path().read_text()
    server = servers.of_settings(chosen)
    assert server is not None and server.api_key == "sk-secret-123"
    assert "sk-secret" not in repr(server)
    assert servers.save_api_key("http://gpu-box:8000/v1", "") is None  # an empty key forgets it
    assert backend.secrets == {}


def test_without_a_keyring_the_key_lasts_this_run_and_the_user_is_told(
        monkeypatch: pytest.MonkeyPatch, system_keyring: Callable[[Any], None]) -> None:
    from keyring.backends import fail

    system_keyring(fail.Keyring())  # what the keyring package finds on a desktop without one
    monkeypatch.setattr(servers, "_memory", {})
    assert not servers.has_keyring()
    assert servers.save_api_key("http://gpu-box:8000/v1", "sk-secret-123") == messages.NO_KEYRING
    assert servers.api_key("gpu-box:8000") == "sk-secret-123"


# --- An address with the key in it -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "shown"), [
    ("http://admin:sk-in-the-address@gpu-box:8000/v1", "http://gpu-box:8000/v1"),
    ("admin:sk-in-the-address@gpu-box:8000", "gpu-box:8000"),
    ("https://:sk-in-the-address@example.org/ollama/v1", "https://example.org/ollama/v1"),
    ("https://sk-in-the-address@example.org", "https://example.org"),
])
def test_an_address_with_a_key_in_it_is_one_sentence_that_never_repeats_the_key(written: str, shown: str) -> None:
    for refuse in (normalised, lambda url: ServerSettings(url=url).base_url,
                   lambda url: load_engine(EngineSettings(server=ServerSettings(url=url)))):
        with pytest.raises(ServerError) as caught:
            refuse(written)
        assert str(caught.value) == messages.SERVER_ADDRESS_HAS_KEY.format(url=shown)
        assert "sk-in-the-address" not in str(caught.value)
        assert caught.value.exit_code == 3


# --- Behind a real reverse proxy (nginx): TLS, the key, the size limit ------------------------------------------------

PROXY_KEY = "sk-test-proxy"


@pytest.fixture(scope="module")
def proxy(llava_server: ModelServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.support.reverse_proxy import ReverseProxy

    with ReverseProxy(tmp_path_factory.mktemp("engine-proxy"), llava_server.port, api_key=PROXY_KEY,
                      max_body_bytes=256 * 1024) as running:
        yield running


def test_https_with_the_servers_certificate_authority_and_key_streams_the_answer(
        proxy: Any, picture: intake.IntakeImage) -> None:
    engine = load_engine(EngineSettings(max_new_tokens=8, server=ServerSettings(
        url=proxy.url("https"), api_key=PROXY_KEY, ca_file=str(proxy.ca_file))))
    assert isinstance(engine, ServerEngine)
    try:
        pieces: list[str] = []
        answer = engine.ask(engine.start(picture), "What is shown?", on_text=pieces.append)
        assert answer.new_tokens == 8 and len(pieces) > 1
    finally:
        engine.close()


@pytest.mark.parametrize(("case", "expected"), [
    ("untrusted", messages.SERVER_CERT_UNTRUSTED),
    ("mismatched", messages.SERVER_CERT_MISMATCH),
    ("no key", messages.SERVER_UNAUTHORISED),
    ("wrong key", messages.SERVER_UNAUTHORISED),
    ("http to https", messages.SERVER_HTTP_TO_HTTPS),
    ("no ca file", messages.SERVER_CA_FILE_UNREADABLE),
])
def test_each_proxy_failure_is_its_own_sentence(proxy: Any, case: str, expected: str) -> None:
    url, ca_file = proxy.url("https"), str(proxy.ca_file)
    key: str | None = PROXY_KEY
    if case == "untrusted":
        ca_file = ""
    elif case == "mismatched":
        url = proxy.url("mismatched")
    elif case == "no key":
        key = None
    elif case == "wrong key":
        key = "sk-wrong"
    elif case == "http to https":
        url = url.replace("https://", "http://")
    elif case == "no ca file":
        ca_file = str(proxy.folder / "missing.pem")
    server = ServerSettings(url=url, api_key=key, ca_file=ca_file)
    with pytest.raises(ServerError) as caught:
        load_engine(EngineSettings(server=server))
    host = url.split("://", 1)[1].split(":", 1)[0].strip("[]")
    assert str(caught.value) == expected.format(url=server.base_url, host=host, status=401, path=ca_file)


def test_a_picture_larger_than_the_proxy_allows_is_a_413_sentence(proxy: Any) -> None:
    engine = load_engine(EngineSettings(max_new_tokens=4, server=ServerSettings(
        url=proxy.url("https"), api_key=PROXY_KEY, ca_file=str(proxy.ca_file))))
    assert isinstance(engine, ServerEngine)
    noise = Image.effect_noise((1600, 900), 100).convert("RGB")  # does not compress: about 600 KB as JPEG
    try:
        with pytest.raises(ServerError) as caught:
            engine.ask(engine.start(intake.from_pil(noise)), "What is shown?")
    finally:
        engine.close()
    assert str(caught.value) == messages.SERVER_PICTURE_TOO_LARGE
