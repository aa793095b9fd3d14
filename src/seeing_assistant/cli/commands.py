"""One function per command; each checks its input before any model loads and returns the exit code."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from seeing_assistant.cli.output import print_error, print_warning
from seeing_assistant.core import messages, model_store, servers, tasks
from seeing_assistant.core.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, BadInputError, SpeechLostError
from seeing_assistant.core.intake import IntakeImage

if TYPE_CHECKING:
    from seeing_assistant.speech import Speaker


def _read_image(args: argparse.Namespace) -> IntakeImage:
    """The image to describe, from a file, standard input or the screen; checked before any model loads."""
    from seeing_assistant.core import intake

    if args.screen and args.image:
        raise BadInputError(messages.IMAGE_AND_SCREEN)
    if args.screen:
        from seeing_assistant.core.capture import ScreenGrabber

        return intake.from_pil(ScreenGrabber().grab(), source=messages.THE_SCREEN)
    if args.image is None:
        raise BadInputError(messages.NO_IMAGE_GIVEN)
    if args.image == "-":
        return intake.read_stream(sys.stdin.buffer)
    return intake.load_path(args.image)


def save_picture(image: IntakeImage, path: Path) -> None:
    """Save the picture the model is given, as PNG, whole or not at all; BadInputError with one sentence."""
    from seeing_assistant.core import intake

    try:
        intake.save_png(image, path)
    except ValueError as error:
        raise BadInputError(str(error)) from None
    except OSError as error:
        raise BadInputError(messages.SAVE_IMAGE_FAILED.format(path=path, reason=error.strerror or error)) from None


def _open_speaker(args: argparse.Namespace) -> Speaker | None:
    """The speaker that ``--speak`` or ``--audio-out`` asks for, opened before any model loads.

    No audio device or speech engine for ``--speak``: one warning, and the answer is still printed (None is
    returned). For ``--audio-out`` and ``say`` that is an error, since what the user asked for cannot be made.
    """
    from seeing_assistant import speech
    from seeing_assistant.speech import routes, screen_reader

    voice = speech.VoiceSettings.of(args)
    if args.audio_out or args.command == "say":  # a file, or the app's own voice: what was asked for, or an error
        return speech.open_speaker(voice, audio_out=args.audio_out, earcons=args.earcons)
    if args.speak in (None, routes.NO_ONE):
        return None
    running = args.speak == routes.AUTOMATIC and routes.has_screen_reader_route() and screen_reader.is_running_now()
    speaker, _, problem = routes.open_route(routes.resolve(args.speak, running), voice, earcons=args.earcons,
                                            fall_back=args.speak == routes.AUTOMATIC)
    if problem is not None:
        print_warning(problem)
        return None
    return speaker


def _finish_speech(speaker: Speaker | None, is_stopped: bool) -> None:
    """Speak what is left of the answer and wait for it (Ctrl+C cuts it short), then release the device.

    A WAV file is always finished, with everything up to the point where the answer stopped. Speech that broke
    and that no other route could finish raises :class:`SpeechLostError` (its own exit code): the wait ends as soon
    as nothing more can be heard, so the command never hangs on a sound system that went away.
    """
    if speaker is None:
        return
    from seeing_assistant.speech import VoiceSpeaker, WavFileOutput

    lost = None
    try:
        if not is_stopped or (isinstance(speaker, VoiceSpeaker) and isinstance(speaker.output, WavFileOutput)):
            speaker.finish()
            speaker.earcon("done")
            while not speaker.wait(0.1):
                pass
        lost = speaker.lost
    except KeyboardInterrupt:
        speaker.stop()
        raise
    finally:
        speaker.close()
        told = messages.SPEECH_LOST.format(reason=lost) if lost is not None else None
        for problem in dict.fromkeys(speaker.errors):
            if problem != told:  # said once, as the error below
                print_warning(problem)
    if told is not None:
        raise SpeechLostError(told)


def run_describe(args: argparse.Namespace) -> int:
    """``describe``: check the input, then stream the answer to stdout (and the speaker) as the model writes it."""
    from seeing_assistant.core.engine_settings import EngineSettings, normalised
    from seeing_assistant.core.factories import load_engine
    from seeing_assistant.core.ocr import OcrUnavailableError, TextReader
    from seeing_assistant.core.session import AssistantSession

    if args.read_text and (args.question or args.question_audio):
        raise BadInputError(messages.READ_TEXT_AND_QUESTION)
    if args.screen_text_tokens is not None and args.screen_text_tokens < 0:
        raise BadInputError(messages.BAD_SCREEN_TEXT_TOKENS.format(value=args.screen_text_tokens))
    task = args.task or (tasks.SCREEN_TASK if args.screen else tasks.DEFAULT_TASK)
    image = _read_image(args)
    if args.save_image:
        save_picture(image, Path(args.save_image))
    spoken = _spoken_question(args)
    question = tasks.prompt_for(task, spoken or args.question)
    reads_text = args.read_text or (task == tasks.TEXT_TASK and not (spoken or args.question))
    speaker = _open_speaker(args)
    session = AssistantSession(load_engine, EngineSettings.of(args, servers.of_args(args)), reader=TextReader(),
                               text_budget=args.screen_text_tokens)
    session.begin(image)
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
        session.stop()
        if speaker is not None and args.audio_out is None:
            speaker.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        # Loaded before Ctrl+C is taken over, so that a first Ctrl+C while loading ends the command at once.
        uses_model = not reads_text and session.prepare()
        previous = signal.signal(signal.SIGINT, on_interrupt)
        try:
            if speaker is not None and (uses_model or reads_text):
                speaker.earcon("start")
            try:
                reply = session.read_text(on_text=on_text) if reads_text else session.ask(question, on_text=on_text)
            except OcrUnavailableError as error:
                if args.read_text:
                    raise
                # The text task without a recogniser: the model reads the text instead, after one note.
                print_warning(messages.OCR_FALLBACK.format(reason=str(error)))
                reads_text = False
                reply = session.ask(question, on_text=on_text)
        finally:
            signal.signal(signal.SIGINT, previous)
    except BaseException:
        session.close()
        if speaker is not None:
            speaker.stop()
            speaker.close()
        raise
    used_engine = session.engine
    session.close()  # a server engine's connections and thread; the figures below are kept on the engine
    _finish_speech(speaker, is_stopped=reply.is_cancelled)
    if reply.is_cancelled or interrupted:
        if not args.json:
            sys.stdout.write("\n")
        print_error(messages.INTERRUPTED)
        return EXIT_INTERRUPTED
    for note in reply.notes:
        print_warning(note)
    engine, answer = (None, None) if reads_text else (used_engine, reply.answer)
    result: dict[str, Any] = {
        "model": None if reads_text else getattr(engine, "model_name", args.model),
        "server": args.server and normalised(args.server),
        "task": "read-text" if reads_text else task,
        "question": None if reads_text else question,
        "source": image.source,
        "image_size": list(image.original_size),
        "is_blank": image.is_blank,
        "answer": reply.text,
        "device": engine.placement.device if engine is not None and engine.placement is not None else None,
        "dtype": engine.placement.dtype if engine is not None and engine.placement is not None else None,
        "load_s": round(engine.load_s, 4) if engine is not None else 0.0,
        "time_to_first_token_s": _rounded(answer.time_to_first_token_s) if answer else None,
        "new_tokens": answer.new_tokens if answer else 0,
        "tokens_per_s": _rounded(answer.tokens_per_s) if answer else None,
    }
    if answer is not None:
        result.update(prompt_tokens=answer.prompt_tokens, total_s=round(answer.total_s, 4))
    if args.audio_out:
        result["audio_out"] = args.audio_out
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print()
    return EXIT_OK


def _spoken_question(args: argparse.Namespace) -> str | None:
    """The transcript of --question-audio, said on stderr so that the user knows what was heard."""
    if not args.question_audio:
        return None
    if args.question:
        raise BadInputError(messages.QUESTION_AND_AUDIO)
    from seeing_assistant.core import asr

    audio = asr.load_wav(args.question_audio).checked()
    transcript = asr.Recognizer.load(args.asr_model, args.device).transcribe(audio)
    if not transcript.text:
        raise BadInputError(messages.NOTHING_UNDERSTOOD)
    print(messages.YOU_ASKED.format(text=transcript.text), file=sys.stderr, flush=True)
    return transcript.text


def run_transcribe(args: argparse.Namespace) -> int:
    """``transcribe``: print the text of a spoken question."""
    from seeing_assistant.core import asr

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


def run_trigger(args: argparse.Namespace) -> int:
    """``trigger``: send an action to the running app over its local socket (only this user can open it)."""
    import subprocess
    import time

    from PySide6.QtCore import QCoreApplication

    from seeing_assistant.desktop import instance

    application = QCoreApplication.instance() or QCoreApplication([])
    reply = instance.send(args.action)
    if reply is None and args.start:
        from seeing_assistant.core import launcher

        subprocess.Popen([*launcher.this_program(), "app"], start_new_session=True,
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
    assert speaker is not None  # say always opens one, or raises
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


def run_download(args: argparse.Namespace) -> int:
    """``download``: fetch a model (a hub id, or a catalogue key such as smolvlm-500m) into the Hugging Face cache."""
    from seeing_assistant.core import catalogue

    if args.list:
        from seeing_assistant.cli.doctor import catalogue_lines

        print("\n".join(catalogue_lines()))
        return EXIT_OK
    model = args.model or (model_store.DEFAULT_ASR_MODEL if args.asr else model_store.DEFAULT_MODEL)
    entry = catalogue.find(model) or next((each for each in catalogue.CATALOGUE if each.key == model), None)
    if entry is not None:
        model = entry.model_id
    if args.progress:  # for the app: "progress DONE TOTAL" lines, which it reads and announces
        def report(done: int, total: int) -> None:
            print(f"progress {done} {total}", flush=True)

        folder = model_store.download(model, on_progress=report)
    else:
        if entry is not None:
            model_store.check_disk_space(model, entry.download_bytes)
        folder = model_store.download(model)
    print(messages.DOWNLOAD_DONE.format(model=model, path=folder), flush=True)
    return EXIT_OK


def run_install_desktop(args: argparse.Namespace) -> int:
    """``install-desktop``: the launcher, its metadata and the icon for this user (``--uninstall`` removes them)."""
    from seeing_assistant.core import launcher, shortcuts
    from seeing_assistant.desktop import integration

    if args.uninstall:
        removed = integration.uninstall()
        print(messages.DESKTOP_UNINSTALLED.format(count=len(removed), folder=launcher.data_home()))
        for sentence in shortcuts.uninstall().sentences:
            print(sentence)
        return EXIT_OK
    written = integration.install(launcher.command())
    print(messages.DESKTOP_INSTALLED.format(count=len(written), folder=launcher.data_home()))
    if args.shortcuts:
        for sentence in shortcuts.install(launcher.command()).sentences:
            print(sentence)
    return EXIT_OK


def run_app(args: argparse.Namespace) -> int:
    """``app`` (and no command at all): open the desktop app."""
    from seeing_assistant.desktop import app

    return app.run(args)


def run_doctor(args: argparse.Namespace) -> int:
    """``doctor``: what this computer has, and whether the chosen models are on disk and fit."""
    from seeing_assistant.cli import doctor

    return doctor.run(args, sys.stdout)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


COMMANDS = {"describe": run_describe, "app": run_app, "trigger": run_trigger, "transcribe": run_transcribe,
            "say": run_say, "download": run_download, "doctor": run_doctor, "install-desktop": run_install_desktop}
