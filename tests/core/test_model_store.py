"""Finding a model on disk without the network, and measuring its weights. Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from seeing_assistant.core import model_store
from seeing_assistant.core.errors import ModelUnavailableError


def test_a_model_that_was_never_downloaded_tells_how_to_download_it() -> None:
    with pytest.raises(ModelUnavailableError) as caught:
        model_store.locate("example-org/never-downloaded")
    sentence = str(caught.value)
    assert "seeing-assistant download example-org/never-downloaded" in sentence
    assert "\n" not in sentence and sentence.endswith(".")


def test_a_missing_model_folder_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(ModelUnavailableError, match="There is no model folder at"):
        model_store.locate(missing)


def test_a_folder_without_config_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "half-copied").mkdir()
    with pytest.raises(ModelUnavailableError, match=r"has no config\.json"):
        model_store.locate(str(tmp_path / "half-copied"))


def test_a_saved_model_folder_is_found(tiny_model: Path) -> None:
    assert model_store.locate(str(tiny_model)) == tiny_model


def test_the_weights_of_a_saved_model_are_measured(tiny_model: Path) -> None:
    info = model_store.weights_info(tiny_model)
    on_disk = sum(path.stat().st_size for path in tiny_model.glob("*.safetensors"))
    assert info.bytes_on_disk == on_disk > 0
    assert info.bytes_at("4bit") < info.bytes_at("float16") < info.bytes_at("float32")


def test_model_names_and_folders_are_told_apart() -> None:
    assert not model_store.looks_like_path(model_store.DEFAULT_MODEL)
    for folder in ("./models/llava", "/opt/models/llava", "~/llava", "C:\\models\\llava", "a/b/c"):
        assert model_store.looks_like_path(folder)
