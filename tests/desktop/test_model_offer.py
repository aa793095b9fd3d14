"""The first run without a model: the window offers the model for this computer and downloads it only when asked,
from a model hub on 127.0.0.1 (the real download command and huggingface_hub code), then answers with it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from seeing_assistant.core import catalogue, messages
from seeing_assistant.core.factories import load_engine
from seeing_assistant.desktop.main_window import MainWindow
from tests.desktop.conftest import accessible_name, wait_done
from tests.support.local_hub import LocalHub


def test_the_first_run_offers_a_model_and_downloads_it_only_with_consent(
        make_window: Callable[..., MainWindow], tiny_model: Path, photo: Path, qtbot: QtBot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    small = catalogue.SMOLVLM_256M.model_id
    heard: list[str] = []
    with LocalHub({small: tiny_model}, seconds_per_chunk=0.01) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
        window = make_window(factory=load_engine, model=catalogue.LLAVA_7B.model_id, offer_models=True)
        window.status.changed.connect(lambda text, is_error: heard.append(text))
        assert window.status.text() == messages.MODEL_NOT_DOWNLOADED.format(model=catalogue.LLAVA_7B.model_id)
        qtbot.waitUntil(lambda: window.model_offer is not None and window.model_offer.isVisible(), timeout=10000)
        offer = window.model_offer
        assert offer is not None
        # This computer has no GPU: the suggestion is a small model, and nothing has been fetched yet.
        qtbot.waitUntil(lambda: "No usable GPU" in offer.explanation.text(), timeout=30000)
        assert offer.choice.currentData() == catalogue.SMOLVLM_500M.model_id
        assert hub.requests == []
        for widget in (offer.choice, offer.download_button, offer.server_button, offer.later_button):
            assert widget.accessibleName()
        # The explanation is read as what it says (with the reason), not as a fixed name.
        assert accessible_name(offer.explanation) == offer.explanation.text()
        offer.choice.setCurrentIndex(offer.choice.findData(small))
        offer.download_button.click()
        assert offer.download_button.accessibleName() == "Cancel download"
        qtbot.waitUntil(lambda: window.settings.model == small, timeout=60000)
        assert messages.DOWNLOAD_STARTED.format(model=small) in heard
        assert messages.DOWNLOAD_FINISHED.format(model=small) in heard
        assert accessible_name(offer.status) == offer.status.text() == messages.DOWNLOAD_FINISHED.format(model=small)
        assert not offer.isVisible()
    # The hub is gone: the downloaded model loads from this computer and answers.
    qtbot.waitUntil(lambda: window.status.text().startswith(f"Model ready: {small}"), timeout=60000)
    window.capturer.path(str(photo))
    wait_done(qtbot, window, timeout=60000)
    assert window.status.text() == messages.ANSWER_DONE


def test_not_now_leaves_the_window_as_it_was_and_nothing_is_fetched(
        make_window: Callable[..., MainWindow], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
        tiny_model: Path) -> None:
    with LocalHub({catalogue.SMOLVLM_500M.model_id: tiny_model}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        window = make_window(factory=load_engine, model=catalogue.LLAVA_7B.model_id, offer_models=True)
        qtbot.waitUntil(lambda: window.model_offer is not None and window.model_offer.isVisible(), timeout=10000)
        assert window.model_offer is not None
        window.model_offer.later_button.click()
        assert not window.model_offer.isVisible()
        assert hub.requests == []
    assert window.settings.model == catalogue.LLAVA_7B.model_id
    assert window.isVisible()


def test_cancel_stops_the_download_at_once_and_says_what_is_kept(
        make_window: Callable[..., MainWindow], tiny_model: Path, tmp_path: Path, qtbot: QtBot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for path in tiny_model.iterdir():
        (big / path.name).write_bytes(path.read_bytes())
    for shard in range(1, 4):  # each file shows in the progress once it is on disk
        (big / f"model-0000{shard}-of-00003.safetensors").write_bytes(bytes([shard]) * 2_000_000 * shard)
    small = catalogue.SMOLVLM_256M.model_id
    heard: list[tuple[str, bool]] = []
    with LocalHub({small: big}, seconds_per_chunk=0.02) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
        window = make_window(factory=load_engine, model=catalogue.LLAVA_7B.model_id, offer_models=True)
        qtbot.waitUntil(lambda: window.model_offer is not None and window.model_offer.isVisible(), timeout=10000)
        offer = window.model_offer
        assert offer is not None
        offer.announce = lambda text, is_error: heard.append((text, is_error))
        offer.choice.setCurrentIndex(offer.choice.findData(small))
        offer.download_button.click()
        qtbot.waitUntil(lambda: offer.progress.value() > 0, timeout=30000)
        offer.download_button.click()  # now "Cancel download"
        assert offer.process is None
        assert heard[-1] == (messages.DOWNLOAD_STOPPED.format(model=small), False)
        assert offer.download_button.accessibleName() == "Download" and offer.choice.isEnabled()
        assert [text for text, _ in heard if text.startswith("Downloaded ")]  # a percentage was told
    assert window.settings.model == catalogue.LLAVA_7B.model_id
