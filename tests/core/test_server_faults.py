"""A model server that dies in the middle of an answer, with real parts: ``transformers serve`` killed, or the nginx
reverse proxy in front of it killed, while the tiny LLaVA streams.

The user hears what was streamed before the fault, then one sentence, at once; nothing hangs: the next question is
told that nothing listens, and the engine closes.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from seeing_assistant.core import intake, messages
from seeing_assistant.core.cancel import CancelToken
from seeing_assistant.core.engine_settings import EngineSettings, ServerSettings
from seeing_assistant.core.errors import ServerError
from seeing_assistant.core.server_engine import ServerEngine
from tests.support.model_server import ModelServer
from tests.support.reverse_proxy import ReverseProxy

TOLD_WITHIN_S = 1.0  # the sentence comes as soon as the connection drops; no timeout is waited for


@pytest.mark.parametrize("dies", ["model server", "reverse proxy"])
def test_a_server_that_dies_mid_answer_is_one_sentence_at_once_after_what_was_said(
        dies: str, tiny_model: Path, llava_server: ModelServer, tmp_path: Path) -> None:
    picture = intake.from_pil(Image.new("RGB", (640, 480), "white"))
    with contextlib.ExitStack() as stack:
        process: subprocess.Popen[bytes] | None
        if dies == "model server":  # a server of its own: the shared one serves the other tests
            server = stack.enter_context(ModelServer(tiny_model, tmp_path))
            url, process = server.url, server.process
        else:
            proxy = stack.enter_context(ReverseProxy(tmp_path / "proxy", llava_server.port))
            url, process = proxy.url("http"), proxy.process
        assert process is not None
        engine = ServerEngine.load(EngineSettings(max_new_tokens=3000, server=ServerSettings(url=url)))
        stack.callback(engine.close)
        heard: list[str] = []
        third_piece = threading.Event()
        killed: dict[str, float] = {}

        def on_text(piece: str) -> None:
            heard.append(piece)
            if len(heard) == 3:
                third_piece.set()

        def kill() -> None:
            if third_piece.wait(30):
                killed["at"] = time.perf_counter()
                process.kill()  # SIGKILL: no goodbye, as when the machine or the container goes

        killer = threading.Thread(target=kill, name="kill-server")
        killer.start()
        with pytest.raises(ServerError) as caught:
            engine.ask(engine.start(picture), "Go on and on.", on_text=on_text, cancel=CancelToken())
        told_s = time.perf_counter() - killed["at"]
        killer.join()
        assert str(caught.value) == messages.SERVER_STREAM_BROKEN
        assert told_s < TOLD_WITHIN_S, f"the sentence came {told_s:.3f} s after the {dies} died"
        print(f"\n{dies} killed mid-answer: the sentence came after {told_s * 1000:.1f} ms, "
              f"{len(heard)} pieces said before it")
        assert len(heard) >= 3 and "".join(heard).strip()  # what was streamed reached the caller before the sentence
        # Nothing hangs: once the process is gone (all its sockets closed; a question asked within the same few
        # milliseconds may still meet a half-closed one, and hear that the server broke off), the next question is
        # told at once that nothing listens, and the engine closes.
        process.wait(timeout=10)
        started = time.perf_counter()
        with pytest.raises(ServerError) as again:
            engine.ask(engine.start(picture), "Still there?", cancel=CancelToken())
        assert str(again.value) == messages.SERVER_NOT_LISTENING.format(url=engine.server.base_url)
        assert time.perf_counter() - started < TOLD_WITHIN_S
