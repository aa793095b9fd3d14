"""Test doubles for the code around the real parts: a scripted engine (checked by mypy against the engine's
Protocol), and a picture to describe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from seeing_assistant.core.cancel import CancelToken
from seeing_assistant.core.engine_settings import EngineSettings
from seeing_assistant.core.intake import IntakeImage


@dataclass
class ScriptedAnswer:
    text: str
    is_cancelled: bool
    new_tokens: int
    time_to_first_token_s: float | None = 0.01
    tokens_per_s: float | None = 100.0
    prompt_tokens: int = 600
    total_s: float = 0.1


@dataclass
class ScriptedConversation:
    image: IntakeImage
    turns: list[tuple[str, str]] = field(default_factory=list)


class ScriptedEngine:
    """Answers with fixed words, ``delay`` seconds apart, and ends when the request's own token is cancelled.

    It keeps no cancel state of its own: a Stop is the caller's token, given with each question, as the Protocol says.
    """

    placement = None
    load_s = 0.0
    is_remote = False
    text_tokens_per_s: float | None = None

    def __init__(self, words: list[str] | None = None, delay: float = 0.0) -> None:
        self.words = words or ["A ", "window ", "with ", "a ", "button. ", "It ", "says ", "OK."]
        self.delay = delay
        self.asked: list[tuple[IntakeImage, str, list[tuple[str, str]]]] = []
        self.answered: list[ScriptedAnswer] = []  # answers that have ended (in full or stopped): the worker is free

    def start(self, image: IntakeImage) -> ScriptedConversation:
        return ScriptedConversation(image)

    def close(self) -> None:
        pass

    def ask(self, conversation: ScriptedConversation, question: str, on_text: Callable[[str], None] | None = None,
            max_new_tokens: int | None = None, cancel: CancelToken | None = None) -> ScriptedAnswer:
        token = cancel or CancelToken()
        self.asked.append((conversation.image, question, list(conversation.turns)))
        text = ""
        for word in self.words:
            if token.wait(self.delay) if self.delay else token.is_cancelled:
                break
            text += word
            if on_text is not None:
                on_text(word)
        conversation.turns.append((question, text.strip()))
        self.answered.append(ScriptedAnswer(text.strip(), token.is_cancelled, len(text.split())))
        return self.answered[-1]


class ScriptedFactory:
    """Makes a scripted engine for each load, and remembers which models were loaded, in order."""

    def __init__(self) -> None:
        self.loads: list[str] = []
        self.made: list[ScriptedEngine] = []

    def __call__(self, settings: EngineSettings) -> ScriptedEngine:
        self.loads.append(settings.model)
        self.made.append(ScriptedEngine())
        return self.made[-1]


def picture(tmp_path: Path, name: str = "shot.png", size: tuple[int, int] = (320, 200),
            colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    path = tmp_path / name
    image = Image.new("RGB", size, colour)
    image.paste((20, 20, 220), (10, 10, size[0] // 2, size[1] // 2))
    image.save(path)
    return path


class MemoryKeyring:
    """A keyring backend that keeps secrets in a dict: stands in for the system keyring around our code.

    Like the real backends, forgetting a secret that is not there raises.
    """

    priority = 10

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, account: str) -> str | None:
        return self.secrets.get((service, account))

    def set_password(self, service: str, account: str, password: str) -> None:
        self.secrets[(service, account)] = password

    def delete_password(self, service: str, account: str) -> None:
        del self.secrets[(service, account)]
