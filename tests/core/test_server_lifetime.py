"""Reloading and quitting leave nothing open: 20 reloads through the session, against the real ``transformers serve``.

Each server engine has an event loop on a thread of its own and a connection pool; a reload (a new server chosen in
Settings) closes the old engine, and quitting closes the last. Open descriptors (``/proc/self/fd``) and threads
(``/proc/self/task``, which also counts threads Python did not start) must not grow.
"""

from __future__ import annotations

import os
import threading

from PIL import Image

from seeing_assistant.core import intake
from seeing_assistant.core.cancel import CancelToken
from seeing_assistant.core.engine_settings import EngineSettings, ServerSettings
from seeing_assistant.core.factories import load_engine
from seeing_assistant.core.server_engine import ServerEngine
from seeing_assistant.core.session import AssistantSession
from tests.support.model_server import ModelServer

RELOADS = 20


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def running_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def answer_once(session: AssistantSession, picture: intake.IntakeImage) -> None:
    """A question through the loaded engine, so that its connection is opened and used."""
    engine = session.engine
    assert isinstance(engine, ServerEngine)
    answer = engine.ask(engine.start(picture), "What is shown?", max_new_tokens=2, cancel=CancelToken())
    assert answer.new_tokens == 2


def test_twenty_reloads_and_a_quit_leave_no_descriptor_or_thread_open(llava_server: ModelServer) -> None:
    picture = intake.from_pil(Image.new("RGB", (320, 240), "white"))
    settings = EngineSettings(server=ServerSettings(url=llava_server.url))
    session = AssistantSession(load_engine)
    # Two loads first: what is opened once for the process (imports, the certificate store) is not a leak.
    for _ in range(2):
        session.load(settings)
        answer_once(session, picture)
    descriptors, threads = open_descriptors(), running_threads()
    for _ in range(RELOADS):
        session.load(settings)  # closes the engine it replaces
        answer_once(session, picture)
    assert (open_descriptors(), running_threads()) == (descriptors, threads), (
        f"after {RELOADS} reloads: {open_descriptors() - descriptors:+d} descriptors, "
        f"{running_threads() - threads:+d} threads ({[thread.name for thread in threading.enumerate()]})")
    before = set(threading.enumerate())
    session.close()  # quitting
    # The last engine's connection, loop and thread are gone too: one descriptor at least (its socket) and its thread
    # (named, since a suite's other tests may leave daemon threads of their own ending at any moment).
    assert open_descriptors() < descriptors
    assert "model-server" in [thread.name for thread in before - set(threading.enumerate())]
    assert "model-server" not in [thread.name for thread in threading.enumerate()]
