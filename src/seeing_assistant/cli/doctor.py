"""``seeing-assistant doctor``: what this computer has, and whether the chosen model is on disk and fits."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from typing import TYPE_CHECKING, TextIO

from seeing_assistant import __version__
from seeing_assistant.core import devices, messages, model_store, servers
from seeing_assistant.core.errors import SeeingAssistantError

if TYPE_CHECKING:
    from seeing_assistant.core.engine_settings import ServerSettings

_GB = 1024**3


def _gb(count: float) -> str:
    return f"{count / _GB:.1f} GB"


def accelerator_lines() -> list[str]:
    """One line per kind of accelerator, with free memory where it can be read."""
    import torch

    lines = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            name = torch.cuda.get_device_name(index)
            lines.append(f"  CUDA {index}: {name}, {_gb(free)} free of {_gb(total)}")
    else:
        lines.append("  CUDA: not available" + (" (this torch is a CPU build)" if torch.version.cuda is None else ""))
    lines.append("  MPS (Apple): " + ("available" if torch.backends.mps.is_available() else "not available"))
    lines.append(f"  CPU: {os.cpu_count()} cores, {_gb(devices.available_memory_bytes())} free memory")
    return lines


def model_lines(model: str, device: str, dtype: str, quantize: str | None) -> list[str]:
    """Whether ``model`` is on disk, and whether it fits at the precision it would load with."""
    lines = [f"Model {model}:"]
    try:
        folder = model_store.locate(model)
    except SeeingAssistantError as error:
        return [*lines, f"  on disk: no. {error}"]
    weights = model_store.weights_info(folder)
    lines.append(f"  on disk: yes, at {folder} ({_gb(weights.bytes_on_disk)}, stored as {weights.stored_dtype})")
    try:
        placement = devices.resolve(device, dtype, weights.bytes_at("float32"))
    except SeeingAssistantError as error:
        return [*lines, f"  device: {error}"]
    precision = quantize or placement.dtype
    needed = weights.bytes_at(precision)
    if placement.device.startswith("cuda"):
        import torch

        index = int(placement.device.partition(":")[2] or 0)
        free = torch.cuda.mem_get_info(index)[0]
    else:
        free = devices.available_memory_bytes()
    verdict = "fits" if needed < 0.9 * free else "does NOT fit: try --quantize 4bit or a smaller model"
    lines.append(f"  would run on {placement.device} in {precision}: needs about {_gb(needed)} for the weights, "
                 f"{_gb(free)} free: {verdict}")
    return lines


def speech_lines() -> list[str]:
    """The speech engine and its voices, and the audio outputs Qt Multimedia sees."""
    from importlib import metadata

    from seeing_assistant import speech

    lines = ["Speech:"]
    try:
        synthesizer = speech.default_synthesizer()
    except SeeingAssistantError as error:
        lines.append(f"  engine: none: {error}")
    else:
        voices = synthesizer.voices()
        english = [voice for voice in voices if any(code.startswith("en") for code in voice.languages)]
        shown = ", ".join(f"{voice.name} [{voice.id}]" for voice in (english or voices)[:8])
        if isinstance(synthesizer, speech.Pyttsx3Synthesizer):
            engine = f"pyttsx3 {metadata.version('pyttsx3')} with its {synthesizer.driver} driver"
        elif isinstance(synthesizer, speech.EspeakNgSynthesizer):
            engine = f"eSpeak NG ({synthesizer.command})"
        else:
            engine = synthesizer.name
        lines.append(f"  engine: {engine}, {len(voices)} voices; sentence by sentence, played through Qt Multimedia")
        lines.append(f"  voices (--voice): {shown}" + (", ..." if len(english or voices) > 8 else ""))
        synthesizer.close()
    names = audio_devices(inputs=False)
    if names:
        lines.append("  audio outputs: " + ", ".join(names))
    else:
        lines.append(f"  audio outputs: none: {messages.NO_AUDIO_OUTPUT}")
    return lines


def audio_devices(inputs: bool) -> list[str]:
    """The names of the microphones (or audio outputs) Qt Multimedia sees, the default one marked."""
    from seeing_assistant import speech

    with speech.qt_messages_to_log():
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtMultimedia import QMediaDevices

        application = QCoreApplication.instance() or QCoreApplication([])
        found = QMediaDevices.audioInputs() if inputs else QMediaDevices.audioOutputs()
        default = QMediaDevices.defaultAudioInput() if inputs else QMediaDevices.defaultAudioOutput()
        names = [device.description() + (" (default)" if device == default else "") for device in found]
        del application
    return names


def asr_lines(model: str) -> list[str]:
    """The microphones Qt Multimedia sees, and whether the speech recognition model is on disk."""
    names = audio_devices(inputs=True)
    lines = ["Spoken questions:"]
    if names:
        lines.append("  microphones: " + ", ".join(names))
    else:
        lines.append(f"  microphones: none: {messages.NO_MICROPHONE}")
    try:
        folder = model_store.locate(model)
    except SeeingAssistantError:
        lines.append(f"  speech recognition model {model}: not on disk: run 'seeing-assistant download --asr'")
    else:
        lines.append(f"  speech recognition model {model}: on disk at {folder}")
    return lines


def hotkey_lines() -> list[str]:
    """Whether global hotkeys can work here, and on which display server."""
    from seeing_assistant.desktop import hotkeys

    reason = hotkeys.unavailable_reason()
    return [
        "Hotkeys:",
        f"  display server: {hotkeys.display_server()}",
        "  global hotkeys: " + ("available (pynput)" if reason is None else f"not available: {reason}"),
        "  'seeing-assistant trigger ACTION' works everywhere the app runs",
    ]


def text_lines() -> list[str]:
    """Whether the text recogniser (Read screen text, and the text before a question about a screen) can run."""
    from seeing_assistant.core.ocr import OcrUnavailableError, TextReader

    reader = TextReader()
    started = time.perf_counter()
    try:
        reader.load()
    except OcrUnavailableError as error:
        return ["Text recogniser:", f"  not available: {error}"]
    from importlib.metadata import version

    return ["Text recogniser:", f"  rapidocr {version('rapidocr')} with its PP-OCRv6 models, "
            f"loaded in {time.perf_counter() - started:.1f} s (offline)"]


def catalogue_lines() -> list[str]:
    """The models sized to machines like this one, the suggested one marked, with the commands to get them."""
    from seeing_assistant.core import catalogue

    suggested, reason = catalogue.for_this_computer()
    lines = [f"Models for this computer: {reason}"]
    for entry in catalogue.CATALOGUE:
        mark = "*" if entry is suggested else " "
        lines.append(f" {mark} {entry.key:<13} {entry.download_bytes / 1e9:5.1f} GB  {entry.title}")
    lines.append(f"  Get one with 'seeing-assistant download {suggested.key}' (the key of any line above), or answer "
                 "from a model server with --server.")
    return lines


def server_lines(server: ServerSettings) -> list[str]:
    """What the model server serves, whether its model sees pictures, and how soon it answers."""
    from seeing_assistant.core.engine_settings import EngineSettings
    from seeing_assistant.core.server_engine import ServerEngine

    lines = [f"Model server {server.base_url}:", "  " + messages.SERVER_SEES_PICTURES.format(url=server.base_url)]
    try:
        engine = ServerEngine.load(EngineSettings(server=server))
    except SeeingAssistantError as error:
        return [*lines, f"  not usable: {error}"]
    try:
        check = engine.last_check
        lines.append("  serves: " + ", ".join(engine.models))
        lines.append(f"  answers with: {engine.model_name}")
        if check is not None:
            lines.append("  " + check.summary())
    finally:
        engine.close()
    return lines


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Print the report; always exits 0, since it reports problems rather than failing on them."""
    import torch
    import transformers

    server = servers.of_args(args)
    if server is not None:  # the server first: it is what this check was asked for
        out.write("\n".join(server_lines(server)) + "\n")
        out.flush()
    lines = [
        f"Seeing Assistant {__version__}",
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()} ({sys.executable})",
        f"torch {torch.__version__}, transformers {transformers.__version__}",
        *([messages.DOCTOR_WHERE_ANSWERS_COME_FROM] if server is None else []),  # else said in the server's part
        "Accelerators:",
        *accelerator_lines(),
        *model_lines(args.model, args.device, args.dtype, args.quantize),
        *catalogue_lines(),
        *speech_lines(),
        *hotkey_lines(),
        *asr_lines(args.asr_model),
        *text_lines(),
    ]
    out.write("\n".join(lines) + "\n")
    return 0
