"""Where models live: find one on disk without touching the network, and download one on request."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seeing_assistant.core import messages
from seeing_assistant.core.errors import ModelUnavailableError

DEFAULT_MODEL = "llava-hf/llava-1.5-7b-hf"
DEFAULT_ASR_MODEL = "openai/whisper-base.en"  # the speech recogniser for spoken questions
# What `download` fetches: configs, weights, tokenizer and chat template; never duplicate .bin weights.
DOWNLOAD_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.txt"]

_BYTES_PER_ELEMENT = {"float32": 4, "float16": 2, "bfloat16": 2, "4bit": 0.5, "8bit": 1}


def enforce_offline() -> None:
    """Make the Hugging Face libraries refuse the network for the rest of this process.

    Must run before ``huggingface_hub`` or ``transformers`` is imported: they read these once, at import.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def looks_like_path(model: str) -> bool:
    """Whether ``model`` names a folder rather than a hub id such as ``org/name``."""
    return (
        model.startswith(("/", "./", "../", "~", "\\", "."))
        or model.count("/") > 1
        or "\\" in model
        or (len(model) > 1 and model[1] == ":")
    )


def locate(model: str) -> Path:
    """The folder holding ``model`` (a local folder or a hub id already downloaded), found without the network."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        return _checked(folder, model)
    if looks_like_path(model):
        raise ModelUnavailableError(messages.MODEL_FOLDER_NOT_FOUND.format(path=model))
    from huggingface_hub import snapshot_download

    try:
        cached = snapshot_download(model, local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached, or not a valid id: either way it is not on this computer
        raise ModelUnavailableError(messages.MODEL_NOT_DOWNLOADED.format(model=model)) from None
    return _checked(Path(cached), model)


def _checked(folder: Path, model: str) -> Path:
    """Refuse a folder that cannot hold a model."""
    if not (folder / "config.json").is_file():
        if looks_like_path(model):
            raise ModelUnavailableError(messages.MODEL_FOLDER_INCOMPLETE.format(path=folder, missing="config.json"))
        raise ModelUnavailableError(messages.MODEL_NOT_DOWNLOADED.format(model=model))
    return folder


def check_disk_space(model: str, download_bytes: int) -> None:
    """Refuse a download that cannot fit on the disk of the Hugging Face cache (with 5% to spare)."""
    import shutil

    from huggingface_hub import constants

    folder = Path(constants.HF_HUB_CACHE)
    existing = next((parent for parent in (folder, *folder.parents) if parent.exists()), Path("/"))
    free = shutil.disk_usage(existing).free
    if free < download_bytes * 1.05:
        raise ModelUnavailableError(messages.NOT_ENOUGH_DISK.format(
            model=model, needed=f"{download_bytes / 1e9:.1f} GB", folder=folder, free=f"{free / 1e9:.1f} GB"))


def download(model: str, on_progress: Callable[[int, int], None] | None = None) -> Path:
    """Fetch ``model`` into the Hugging Face cache so the app can run offline afterwards.

    ``on_progress(done, total)`` (bytes), when given, hears the progress every half second from the files growing
    on disk; the disk space is checked first. A download that was interrupted resumes where it stopped (the hub
    keeps the partial files).
    """
    from huggingface_hub import snapshot_download

    try:
        if on_progress is None:
            return Path(snapshot_download(model, allow_patterns=DOWNLOAD_PATTERNS))
        plan = snapshot_download(model, allow_patterns=DOWNLOAD_PATTERNS, dry_run=True)
        total = sum(getattr(each, "file_size", 0) or 0 for each in plan)
        missing = sum(getattr(each, "file_size", 0) or 0 for each in plan if getattr(each, "will_download", True))
        check_disk_space(model, missing)
        blobs = _cache_folder(model) / "blobs"
        finished = threading.Event()

        def watch() -> None:
            while not finished.wait(0.5):
                on_progress(min(total, _folder_bytes(blobs)), total)

        watcher = threading.Thread(target=watch, name="download-progress", daemon=True)
        watcher.start()
        try:
            folder = Path(snapshot_download(model, allow_patterns=DOWNLOAD_PATTERNS))
        finally:
            finished.set()
            watcher.join()
        on_progress(total, total)
        return folder
    except (KeyboardInterrupt, ModelUnavailableError):
        raise
    except Exception as error:  # noqa: BLE001 - network, permission and name errors all mean "not downloaded"
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelUnavailableError(messages.DOWNLOAD_FAILED.format(model=model, reason=reason[:200])) from None


def _cache_folder(model: str) -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE) / ("models--" + model.replace("/", "--"))


def _folder_bytes(folder: Path) -> int:
    try:
        return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())
    except OSError:
        return 0


@dataclass(frozen=True)
class WeightsInfo:
    """How big a model's weights are on disk and in which precision they are stored."""

    bytes_on_disk: int
    stored_dtype: str

    def bytes_at(self, precision: str) -> int:
        """Estimated memory for the weights at ``precision`` (float32, float16, bfloat16, 8bit or 4bit)."""
        stored = _BYTES_PER_ELEMENT.get(self.stored_dtype, 4)
        return int(self.bytes_on_disk * _BYTES_PER_ELEMENT.get(precision, 4) / stored)


def weights_info(folder: Path) -> WeightsInfo:
    """Measure the safetensors weights in ``folder`` and read their stored precision from config.json."""
    total = sum(path.stat().st_size for path in folder.glob("*.safetensors"))
    stored = "float32"
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        stored = str(config.get("dtype") or config.get("torch_dtype") or "float32")
    except (OSError, ValueError):
        pass
    return WeightsInfo(bytes_on_disk=total, stored_dtype=stored)
