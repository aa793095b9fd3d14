"""The command-line grammar: options without a command open the app, and every command has its function."""

from __future__ import annotations

import pytest

from seeing_assistant.cli import commands
from seeing_assistant.cli.parser import build_parser, with_command
from seeing_assistant.core import messages
from tests.support.cli import run_cli


def test_app_options_work_with_and_without_the_word_app() -> None:
    parser = build_parser(commands.COMMANDS)
    for argv in (["app", "--model", "M", "--device", "cpu"], ["--model", "M", "--device", "cpu"]):
        args = parser.parse_args(with_command(argv))
        assert (args.command, args.model, args.device, args.func) == ("app", "M", "cpu", commands.run_app)
    assert parser.parse_args(with_command([])).func is commands.run_app
    assert with_command(["--version"]) == ["--version"]


def test_speak_takes_who_speaks_and_alone_means_automatic_even_before_the_image() -> None:
    parser = build_parser(commands.COMMANDS)
    for argv, who, image in ((["describe", "photo.jpg", "--speak"], "auto", "photo.jpg"),
                             (["describe", "--speak", "photo.jpg"], "auto", "photo.jpg"),
                             (["describe", "--speak", "-"], "auto", "-"),
                             (["describe", "--speak", "screen-reader", "photo.jpg"], "screen-reader", "photo.jpg"),
                             (["describe", "photo.jpg", "--speak=app"], "app", "photo.jpg"),
                             (["describe", "photo.jpg"], None, "photo.jpg")):
        args = parser.parse_args(with_command(argv))
        assert (args.speak, args.image) == (who, image), argv


@pytest.mark.parametrize("name", sorted(commands.COMMANDS))
def test_every_command_runs_its_own_function_and_takes_debug(name: str) -> None:
    required = {"transcribe": ["x.wav"], "trigger": ["stop"]}.get(name, [])
    args = build_parser(commands.COMMANDS).parse_args([name, *required, "--debug"])
    assert args.func is commands.COMMANDS[name] and args.debug


def test_the_app_started_with_options_only_opens_the_app(env: dict[str, str]) -> None:
    # No display here, so the app itself says so: the options were taken as the app's, not refused as usage.
    done = run_cli(["--model", "some/model", "--device", "cpu"], {**env, "DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert (done.returncode, done.stderr) == (1, f"seeing-assistant: error: {messages.NO_DISPLAY_FOR_APP}\n")
