"""The ``seeing-assistant`` command line: describe, say, download and doctor.

Every failure ends as one line on stderr, ``seeing-assistant: error: <what was wrong and what to do>``, and an
exit code: 2 bad input or usage, 3 model missing or failed to load, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Sequence
from types import FrameType
from typing import Any, NoReturn, TextIO

from seeing_assistant import __version__, devices, messages, model_store, tasks
from seeing_assistant.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInputError,
    SeeingAssistantError,
    unexpected,
)
from seeing_assistant.instance_actions import ACTIONS

PROG = "seeing-assistant"


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


def print_error(text: str, stream: TextIO | None = None) -> None:
    """Write one error line in the app's format."""
    print(f"{PROG}: error: {text}", file=stream or sys.stderr, flush=True)


def _max_new_tokens(value: str) -> int:
    """Parse --max-new-tokens, refusing anything but a sensible whole number."""
    from seeing_assistant.engine import MAX_NEW_TOKENS_LIMIT

    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_NEW_TOKENS_LIMIT:
        raise argparse.ArgumentTypeError(messages.BAD_MAX_NEW_TOKENS.format(value=value))
    return number


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    """The options that choose and place a model, shared by every command that loads one."""
    from seeing_assistant.engine import DEFAULT_MAX_NEW_TOKENS

    parser.add_argument("--model", default=model_store.DEFAULT_MODEL, metavar="ID|DIR",
                        help="Hugging Face model id (already downloaded) or a model folder (default: %(default)s)")
    parser.add_argument("--device", default="auto", metavar="D",
                        help="auto, cpu, cuda, cuda:N or mps (default: auto: the GPU when there is one)")
    parser.add_argument("--dtype", default="auto", choices=devices.DTYPE_CHOICES,
                        help="precision (default: auto: float16 on a GPU, float32 on the CPU)")
    parser.add_argument("--quantize", choices=devices.QUANTIZE_CHOICES, default=None,
                        help="load 4-bit or 8-bit weights with bitsandbytes (NVIDIA GPUs; the 'quantization' extra)")
    parser.add_argument("--max-new-tokens", type=_max_new_tokens, default=DEFAULT_MAX_NEW_TOKENS, metavar="N",
                        help="longest answer in tokens (default: %(default)s)")


def _rate(value: str) -> int:
    """Parse --rate: words per minute."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 80 <= number <= 500:
        raise argparse.ArgumentTypeError(messages.BAD_RATE.format(rate=value))
    return number


def _volume(value: str) -> float:
    """Parse --volume: 0 to 1."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(messages.BAD_VOLUME.format(volume=value))
    return number


def _add_voice_options(parser: argparse.ArgumentParser) -> None:
    """The options that choose how speech sounds and where it goes."""
    parser.add_argument("--audio-out", metavar="FILE.wav",
                        help="write the speech to this WAV file instead of playing it")
    parser.add_argument("--voice", metavar="V", help="voice id, name or language code ('doctor' lists them)")
    parser.add_argument("--rate", type=_rate, metavar="WPM", help="speaking rate in words per minute (80 to 500)")
    parser.add_argument("--volume", type=_volume, default=1.0, metavar="X", help="volume from 0 to 1 (default: 1)")
    parser.add_argument("--earcons", action="store_true", help="play short sounds when an answer starts and ends")


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    parser = _Parser(prog=PROG, description="Ask what is in an image or on the screen, offline, and hear the answer.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    describe = commands.add_parser("describe", help="describe an image file, standard input or the screen")
    describe.add_argument("image", nargs="?", metavar="IMAGE", help="image file, or - to read it from standard input")
    describe.add_argument("--screen", action="store_true", help="capture the whole screen and describe it")
    describe.add_argument("--question", "-q", metavar="Q", help="your own question (wins over --task)")
    describe.add_argument("--task", choices=list(tasks.TASKS), metavar="NAME",
                          help="preset: " + ", ".join(tasks.TASKS) + " (default: screen with --screen, else photo)")
    _add_model_options(describe)
    describe.add_argument("--question-audio", metavar="FILE.wav", help="a spoken question, transcribed first")
    describe.add_argument("--asr-model", default=model_store.DEFAULT_ASR_MODEL, metavar="ID|DIR",
                          help="speech recognition model for --question-audio (default: %(default)s)")
    describe.add_argument("--speak", action="store_true", help="speak the answer while it is written")
    _add_voice_options(describe)
    describe.add_argument("--json", action="store_true", help="print one JSON object with the answer and timings")
    describe.add_argument("--debug", action="store_true", help="show library warnings and full tracebacks")

    app = commands.add_parser("app", help="open the desktop app (also what running with no command does)")
    app.add_argument("--model", default=None, metavar="ID|DIR", help="the model for this run (default: Settings)")
    app.add_argument("--device", default=None, metavar="D", help="auto, cpu, cuda, cuda:N or mps for this run")
    app.add_argument("--dtype", default=None, choices=devices.DTYPE_CHOICES, help="precision for this run")
    app.add_argument("--quantize", choices=devices.QUANTIZE_CHOICES, default=None, help="4-bit or 8-bit for this run")
    app.add_argument("--debug", action="store_true", help="show library warnings and full tracebacks")

    trigger = commands.add_parser("trigger", help="send an action to the running app (bind this to keys on Wayland)")
    trigger.add_argument("action", choices=ACTIONS, metavar="ACTION", help="one of: " + ", ".join(ACTIONS))
    trigger.add_argument("--start", action="store_true", help="start the app first if it is not running")
    trigger.add_argument("--debug", action="store_true", help="show full tracebacks")

    transcribe = commands.add_parser("transcribe", help="turn a spoken question in a WAV file into text")
    transcribe.add_argument("audio", metavar="FILE.wav", help="the recording")
    transcribe.add_argument("--asr-model", default=model_store.DEFAULT_ASR_MODEL, metavar="ID|DIR",
                            help="speech recognition model (default: %(default)s)")
    transcribe.add_argument("--device", default="auto", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    transcribe.add_argument("--json", action="store_true", help="print the text with timings as JSON")
    transcribe.add_argument("--debug", action="store_true", help="show library warnings and full tracebacks")

    say = commands.add_parser("say", help="speak text, or write it to a WAV file with --audio-out")
    say.add_argument("text", nargs="*", metavar="TEXT", help="the text to say, or - to read it from standard input")
    _add_voice_options(say)
    say.add_argument("--debug", action="store_true", help="show library warnings and full tracebacks")

    download = commands.add_parser("download", help="download a model once, so the app can run offline")
    download.add_argument("model", nargs="?", default=None, metavar="MODEL",
                          help=f"Hugging Face model id (default: {model_store.DEFAULT_MODEL}, or with --asr "
                               f"{model_store.DEFAULT_ASR_MODEL})")
    download.add_argument("--asr", action="store_true", help="download the speech recognition model instead")
    download.add_argument("--debug", action="store_true", help="show full tracebacks")

    doctor = commands.add_parser("doctor", help="check this computer: versions, accelerators, the model on disk")
    doctor.add_argument("--model", default=model_store.DEFAULT_MODEL, metavar="ID|DIR",
                        help="the model to check (default: %(default)s)")
    doctor.add_argument("--device", default="auto", metavar="D", help="the device to check (default: auto)")
    doctor.add_argument("--dtype", default="auto", choices=devices.DTYPE_CHOICES, help="the precision to check")
    doctor.add_argument("--quantize", choices=devices.QUANTIZE_CHOICES, default=None, help="check 4-bit or 8-bit")
    doctor.add_argument("--asr-model", default=model_store.DEFAULT_ASR_MODEL, metavar="ID|DIR",
                        help="the speech recognition model to check (default: %(default)s)")
    doctor.add_argument("--debug", action="store_true", help="show full tracebacks")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["app"])
    is_debug = bool(getattr(args, "debug", False))
    if not is_debug:
        warnings.simplefilter("ignore")
        # Qt Multimedia reports its back-end search (PipeWire, FFmpeg) on stderr: not the user's business.
        os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
    if args.command != "download":
        model_store.enforce_offline()
    try:
        if args.command == "describe":
            return run_describe(args)
        if args.command == "download":
            return run_download(args)
        if args.command == "say":
            return run_say(args)
        if args.command == "transcribe":
            return run_transcribe(args)
        if args.command == "trigger":
            return run_trigger(args)
        if args.command == "app":
            from seeing_assistant import app

            return app.run(args)
        from seeing_assistant import doctor

        return doctor.run(args, sys.stdout)
    except SeeingAssistantError as error:
        if is_debug:
            traceback.print_exc()
        print_error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        print_error(messages.INTERRUPTED)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last line of defence: one sentence, never a traceback
        if is_debug:
            traceback.print_exc()
        print_error(unexpected(error))
        return 1


def _read_image(args: argparse.Namespace) -> Any:
    """The image to describe, from a file, standard input or the screen; checked before any model loads."""
    from seeing_assistant import intake

    if args.screen and args.image:
        raise BadInputError(messages.IMAGE_AND_SCREEN)
    if args.screen:
        from seeing_assistant.capture import ScreenGrabber

        return intake.from_pil(ScreenGrabber().grab(), source="the screen")
    if args.image is None:
        raise BadInputError(messages.NO_IMAGE_GIVEN)
    if args.image == "-":
        return intake.read_stream(sys.stdin.buffer)
    return intake.load_path(args.image)


def print_warning(text: str) -> None:
    """Write one warning line: something is missing, and the command goes on without it."""
    print(f"{PROG}: {messages.WARNING_PREFIX}: {text}", file=sys.stderr, flush=True)


def _open_speaker(args: argparse.Namespace) -> Any:
    """The speaker that ``--speak`` or ``--audio-out`` asks for, opened before any model loads.

    No audio device or speech engine for ``--speak``: one warning, and the answer is still printed (None is
    returned). For ``--audio-out`` that is an error, since the file the user asked for cannot be made.
    """
    if not (getattr(args, "speak", True) or args.audio_out):
        return None
    from seeing_assistant import speech
    from seeing_assistant.errors import SpeechUnavailableError

    settings = speech.VoiceSettings(voice=args.voice, rate=args.rate, volume=args.volume)
    try:
        return speech.open_speaker(settings, audio_out=args.audio_out, earcons=args.earcons)
    except SpeechUnavailableError as error:
        if args.audio_out or args.command == "say":
            raise
        print_warning(str(error))
        return None


def _finish_speech(speaker: Any, is_stopped: bool) -> None:
    """Speak what is left of the answer and wait for it (Ctrl+C cuts it short), then release the device.

    A WAV file is always finished, with everything up to the point where the answer stopped.
    """
    if speaker is None:
        return
    from seeing_assistant.speech import WavFileOutput

    try:
        if not is_stopped or isinstance(speaker.output, WavFileOutput):
            speaker.finish()
            speaker.earcon("done")
            while not speaker.wait(0.1):
                pass
    except KeyboardInterrupt:
        speaker.stop()
        raise
    finally:
        speaker.close()
        for problem in dict.fromkeys(speaker.errors):
            print_warning(problem)


def run_describe(args: argparse.Namespace) -> int:
    """``describe``: check the input, load the model, and stream the answer to stdout (and the speaker)."""
    task = args.task or (tasks.SCREEN_TASK if args.screen else tasks.DEFAULT_TASK)
    image = _read_image(args)
    spoken = _spoken_question(args)
    question = tasks.prompt_for(task, spoken or args.question)
    speaker = _open_speaker(args)
    result: dict[str, Any] = {
        "model": args.model,
        "task": task,
        "question": question,
        "source": image.source,
        "image_size": list(image.original_size),
        "is_blank": image.is_blank,
    }
    if image.is_blank:
        # No model is needed to say that a single colour shows nothing: none is loaded, nothing is invented.
        result.update(answer=image.blank_answer(), device=None, dtype=None, load_s=0.0, time_to_first_token_s=None,
                      new_tokens=0, tokens_per_s=None)
        _emit(args, result, streamed=False)
        if speaker is not None:
            speaker.feed(result["answer"])
        _finish_speech(speaker, is_stopped=False)
        return EXIT_OK

    from seeing_assistant.engine import Engine, EngineSettings

    settings = EngineSettings(model=args.model, device=args.device, dtype=args.dtype, quantize=args.quantize,
                              max_new_tokens=args.max_new_tokens)
    try:
        engine = Engine.load(settings)
    except BaseException:
        if speaker is not None:
            speaker.stop()
            speaker.close()
        raise
    conversation = engine.start(image)
    interrupted = False

    def on_text(piece: str) -> None:
        if not args.json:
            sys.stdout.write(piece)
            sys.stdout.flush()
        if speaker is not None:
            speaker.feed(piece)

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        # First Ctrl+C: stop generating after the current step and silence the speech; a second one interrupts.
        nonlocal interrupted
        interrupted = True
        engine.cancel()
        if speaker is not None and args.audio_out is None:
            speaker.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        if speaker is not None:
            speaker.earcon("start")
        answer = engine.ask(conversation, question, on_text=on_text)
        if not answer.text and speaker is not None:
            speaker.feed(messages.EMPTY_ANSWER)
        _finish_speech(speaker, is_stopped=answer.is_cancelled)
    finally:
        signal.signal(signal.SIGINT, previous)
    if answer.is_cancelled or interrupted:
        if not args.json:
            sys.stdout.write("\n")
        print_error(messages.INTERRUPTED)
        return EXIT_INTERRUPTED
    result.update(
        answer=answer.text or messages.EMPTY_ANSWER,
        device=engine.placement.device,
        dtype=engine.placement.dtype,
        load_s=round(engine.load_s, 4),
        time_to_first_token_s=_rounded(answer.time_to_first_token_s),
        new_tokens=answer.new_tokens,
        tokens_per_s=_rounded(answer.tokens_per_s),
        prompt_tokens=answer.prompt_tokens,
        total_s=round(answer.total_s, 4),
    )
    if args.audio_out:
        result["audio_out"] = args.audio_out
    _emit(args, result, streamed=bool(answer.text))
    return EXIT_OK


def run_transcribe(args: argparse.Namespace) -> int:
    """``transcribe``: print the text of a spoken question."""
    from seeing_assistant import asr

    audio = asr.load_wav(args.audio).checked()
    recognizer = asr.Recognizer.load(args.asr_model, args.device)
    transcript = recognizer.transcribe(audio)
    if args.json:
        print(json.dumps({"text": transcript.text, "audio_s": round(transcript.audio_s, 3),
                          "transcribe_s": round(transcript.seconds, 4), "load_s": round(recognizer.load_s, 3),
                          "real_time_factor": round(transcript.real_time_factor, 4), "model": args.asr_model,
                          "device": recognizer.device}, ensure_ascii=False))
    else:
        print(transcript.text)
    if not transcript.text:
        print_error(messages.NOTHING_UNDERSTOOD)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _spoken_question(args: argparse.Namespace) -> str | None:
    """The transcript of --question-audio, said on stderr so that the user knows what was heard."""
    if not args.question_audio:
        return None
    if args.question:
        raise BadInputError(messages.QUESTION_AND_AUDIO)
    from seeing_assistant import asr

    audio = asr.load_wav(args.question_audio).checked()
    transcript = asr.Recognizer.load(args.asr_model, args.device).transcribe(audio)
    if not transcript.text:
        raise BadInputError(messages.NOTHING_UNDERSTOOD)
    print(messages.YOU_ASKED.format(text=transcript.text), file=sys.stderr, flush=True)
    return transcript.text


def run_trigger(args: argparse.Namespace) -> int:
    """``trigger``: send an action to the running app over its local socket (only this user can open it)."""
    import subprocess
    import time

    from PySide6.QtCore import QCoreApplication

    from seeing_assistant import instance

    application = QCoreApplication.instance() or QCoreApplication([])
    reply = instance.send(args.action)
    if reply is None and args.start:
        subprocess.Popen([sys.executable, "-m", "seeing_assistant", "app"], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while reply is None and time.monotonic() < deadline:
            time.sleep(0.2)
            reply = instance.send(args.action)
    del application
    if reply is None:
        print_error(messages.APP_NOT_RUNNING)
        return 1
    if reply != "ok":
        print_error(reply.removeprefix("error: "))
        return 1
    return EXIT_OK


def run_say(args: argparse.Namespace) -> int:
    """``say``: speak text (arguments, or standard input with -), or write it to a WAV file."""
    if args.text == ["-"]:
        if sys.stdin.isatty():
            raise BadInputError(messages.NOTHING_TO_SAY)
        text = sys.stdin.read()
    else:
        text = " ".join(args.text)
    if not text.strip():
        raise BadInputError(messages.NOTHING_TO_SAY)
    speaker = _open_speaker(args)
    stopped = False

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal stopped
        stopped = True
        speaker.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        speaker.earcon("start")
        speaker.feed(text)
        _finish_speech(speaker, is_stopped=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    if stopped and args.audio_out is None:
        print_error(messages.INTERRUPTED)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _emit(args: argparse.Namespace, result: dict[str, Any], streamed: bool) -> None:
    """Finish the output: the JSON object, or the answer's last line when it was not streamed."""
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif streamed:
        print()
    else:
        print(result["answer"])


def run_download(args: argparse.Namespace) -> int:
    """``download``: fetch a model into the Hugging Face cache."""
    model = args.model or (model_store.DEFAULT_ASR_MODEL if args.asr else model_store.DEFAULT_MODEL)
    folder = model_store.download(model)
    print(messages.DOWNLOAD_DONE.format(model=model, path=folder))
    return EXIT_OK
