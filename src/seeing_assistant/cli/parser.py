"""The command-line grammar: argparse with shared option groups as parents, each command naming its function.

``seeing-assistant`` with no command, or with options only, opens the app (``seeing-assistant --model M`` is
``seeing-assistant app --model M``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import NoReturn

from seeing_assistant import __version__
from seeing_assistant.cli.output import PROG, print_error
from seeing_assistant.core import limits, messages, model_store, tasks
from seeing_assistant.core.actions import ACTION_IDS
from seeing_assistant.core.errors import EXIT_BAD_INPUT

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line in the app's own format."""

    def error(self, message: str) -> NoReturn:
        _, _, own_sentence = message.partition(": ")
        if message.startswith("argument ") and own_sentence.endswith("."):
            # Our own type checks already say what to do.
            print_error(own_sentence)
        else:
            print_error(messages.USAGE_ERROR.format(detail=message[:1].upper() + message[1:]))
        raise SystemExit(EXIT_BAD_INPUT)


def _whole_number_in(bounds: limits.Bounds, sentence: str, name: str) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = int(bounds.low) - 1
        if number not in bounds:
            raise argparse.ArgumentTypeError(sentence.format(**{name: value}, low=int(bounds.low),
                                                             high=int(bounds.high)))
        return number

    return parse


def _volume(value: str) -> float:
    """Parse --volume: 0 to 1."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number not in limits.VOLUME:
        raise argparse.ArgumentTypeError(messages.BAD_VOLUME.format(volume=value))
    return number


def _debug_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--debug", action="store_true", help="show library warnings and full tracebacks")
    return options


def _model_options(for_this_run: bool) -> argparse.ArgumentParser:
    """The options that choose and place a model; ``for_this_run``: defaults come from the app's Settings."""
    options = argparse.ArgumentParser(add_help=False)
    default = (lambda value: None) if for_this_run else (lambda value: value)
    suffix = " for this run (default: Settings)" if for_this_run else " (default: %(default)s)"
    options.add_argument("--model", default=default(model_store.DEFAULT_MODEL), metavar="ID|DIR",
                         help="Hugging Face model id (already downloaded) or a model folder" + suffix)
    options.add_argument("--device", default=default("auto"), metavar="D",
                         help="auto, cpu, cuda, cuda:N or mps" + suffix)
    options.add_argument("--dtype", default=default("auto"), choices=limits.DTYPE_CHOICES,
                         help="precision: auto is float16 on a GPU, float32 on the CPU" + suffix)
    options.add_argument("--quantize", choices=limits.QUANTIZE_CHOICES, default=None,
                         help="load 4-bit or 8-bit weights with bitsandbytes (NVIDIA GPUs; the 'quantization' extra)")
    options.add_argument("--image-fit", default=default("pad"), choices=limits.IMAGE_FIT_CHOICES,
                         help="pad: the model sees the whole picture on a square; crop: only its centre" + suffix)
    server = options.add_argument_group("model server (instead of a model loaded here; the pictures go to it)")
    server.add_argument("--server", metavar="URL",
                        help="answer from this OpenAI-compatible server, e.g. http://gpu-box:8000/v1 (vLLM, Ollama, "
                             "llama.cpp, transformers serve)")
    server.add_argument("--server-model", metavar="NAME", help="the served model to use (default: the first served)")
    server.add_argument("--api-key-env", metavar="VAR", help="the environment variable that holds the server's API key")
    server.add_argument("--server-timeout", metavar="S",
                        type=_whole_number_in(limits.SERVER_TIMEOUT_S, messages.BAD_SERVER_TIMEOUT, "value"),
                        help="the longest silence allowed from the server, in seconds (default: 120)")
    server.add_argument("--server-ca-file", metavar="FILE.pem",
                        help="the certificate authority of the server's private certificate")
    return options


def _answer_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--max-new-tokens", default=limits.DEFAULT_MAX_NEW_TOKENS, metavar="N",
                         type=_whole_number_in(limits.ANSWER_TOKENS, messages.BAD_MAX_NEW_TOKENS, "value"),
                         help="longest answer in tokens (default: %(default)s)")
    return options


def _asr_options(purpose: str) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--asr-model", default=model_store.DEFAULT_ASR_MODEL, metavar="ID|DIR",
                         help=f"speech recognition model{purpose} (default: %(default)s)")
    return options


def _voice_options() -> argparse.ArgumentParser:
    """The options that choose how speech sounds and where it goes."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--audio-out", metavar="FILE.wav",
                         help="write the speech to this WAV file instead of playing it")
    options.add_argument("--voice", metavar="V", help="voice id, name or language code ('doctor' lists them)")
    options.add_argument("--rate", type=_whole_number_in(limits.RATE, messages.BAD_RATE, "rate"), metavar="WPM",
                         help=f"speaking rate in words per minute ({limits.RATE.low:.0f} to {limits.RATE.high:.0f})")
    options.add_argument("--volume", type=_volume, default=1.0, metavar="X", help="volume from 0 to 1 (default: 1)")
    options.add_argument("--earcons", action="store_true", help="play short sounds when an answer starts and ends")
    return options


def build_parser(commands: Mapping[str, Command]) -> argparse.ArgumentParser:
    """The full grammar; ``commands`` maps each command's name to the function that runs it."""
    parser = _Parser(prog=PROG, description="Ask what is in an image or on the screen, offline, and hear the answer.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    debug = _debug_options()

    def command(name: str, help_text: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        made = sub.add_parser(name, help=help_text, parents=[*parents, debug])  # type: ignore[list-item]  # any parser
        made.set_defaults(func=commands[name])
        return made

    describe = command("describe", "describe an image file, standard input or the screen",
                       _model_options(for_this_run=False), _answer_options(),
                       _asr_options(" for --question-audio"), _voice_options())
    describe.add_argument("image", nargs="?", metavar="IMAGE", help="image file, or - to read it from standard input")
    describe.add_argument("--screen", action="store_true", help="capture the whole screen and describe it")
    describe.add_argument("--question", "-q", metavar="Q", help="your own question (wins over --task)")
    describe.add_argument("--task", choices=list(tasks.TASKS), metavar="NAME",
                          help="preset: " + ", ".join(tasks.TASKS) + " (default: screen with --screen, else photo)")
    describe.add_argument("--question-audio", metavar="FILE.wav", help="a spoken question, transcribed first")
    describe.add_argument("--speak", nargs="?", const="auto", choices=limits.SPOKEN_BY_CHOICES, metavar="WHO",
                          help="speak the answer while it is written, by: auto (the default: the screen reader when "
                               "one is running, else the app's own voice), screen-reader, app or none")
    describe.add_argument("--read-text", action="store_true",
                          help="read the picture's text aloud in reading order, without the model (fast)")
    describe.add_argument("--screen-text-tokens", type=int, default=None, metavar="N",
                          help="the most tokens of the picture's text put before the first question (0: none; "
                               "default: what the model reads here in 2 seconds, up to 1024)")
    describe.add_argument("--save-image", metavar="FILE.png",
                          help="save the picture that is sent to the model (before the model's own resizing) as PNG")
    describe.add_argument("--json", action="store_true", help="print one JSON object with the answer and timings")

    command("app", "open the desktop app (also what running with no command, or with options only, does)",
            _model_options(for_this_run=True))

    trigger = command("trigger", "send an action to the running app (bind this to keys on Wayland)")
    trigger.add_argument("action", choices=ACTION_IDS, metavar="ACTION", help="one of: " + ", ".join(ACTION_IDS))
    trigger.add_argument("--start", action="store_true", help="start the app first if it is not running")

    transcribe = command("transcribe", "turn a spoken question in a WAV file into text", _asr_options(""))
    transcribe.add_argument("audio", metavar="FILE.wav", help="the recording")
    transcribe.add_argument("--device", default="auto", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    transcribe.add_argument("--json", action="store_true", help="print the text with timings as JSON")

    say = command("say", "speak text, or write it to a WAV file with --audio-out", _voice_options())
    say.add_argument("text", nargs="*", metavar="TEXT", help="the text to say, or - to read it from standard input")

    download = command("download", "download a model once, so the app can run offline")
    download.add_argument("model", nargs="?", default=None, metavar="MODEL",
                          help=f"Hugging Face model id or a key from --list such as smolvlm-500m (default: "
                               f"{model_store.DEFAULT_MODEL}, or with --asr {model_store.DEFAULT_ASR_MODEL})")
    download.add_argument("--asr", action="store_true", help="download the speech recognition model instead")
    download.add_argument("--progress", action="store_true",
                          help="print 'progress DONE TOTAL' (bytes) every half second instead of progress bars")
    download.add_argument("--list", action="store_true",
                          help="list the models sized to computers like this one, and the one suggested for it")

    desktop = command("install-desktop", "put Seeing Assistant in this user's applications menu (Linux): the "
                      "launcher, its metadata and icon")
    desktop.add_argument("--shortcuts", action="store_true",
                         help="also add the desktop's own global shortcuts for the app's actions (sway; on Wayland "
                              "the app's hotkeys cannot reach other windows)")
    desktop.add_argument("--uninstall", action="store_true", help="remove them again (the shortcuts too)")

    command("doctor", "check this computer: versions, accelerators, the model on disk",
            _model_options(for_this_run=False), _asr_options(" to check"))
    return parser


def with_command(argv: list[str]) -> list[str]:
    """The arguments as the parser takes them.

    ``app`` is put first when none of them names a command (``seeing-assistant --model M``), and a bare ``--speak``
    before the image (``describe --speak photo.jpg``, as the first version took it) means ``--speak auto``.
    """
    if not argv:
        return ["app"]
    if argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        return ["app", *argv]
    fixed: list[str] = []
    for index, argument in enumerate(argv):
        fixed.append(argument)
        following = argv[index + 1] if index + 1 < len(argv) else None
        if argument == "--speak" and following is not None and following not in limits.SPOKEN_BY_CHOICES and (
                not following.startswith("-") or following == "-"):
            fixed.append("auto")
    return fixed
