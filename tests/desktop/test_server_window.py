"""The window answering from a real model server (``transformers serve`` with the tiny LLaVA on 127.0.0.1), and the
Settings dialog's server fields: Test connection, the key kept in the keyring, a new server reloading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from seeing_assistant.core import messages, servers, settings
from seeing_assistant.core.factories import load_engine
from seeing_assistant.desktop.main_window import MainWindow, SettingsDialog
from tests.desktop.conftest import accessible_name, wait_done
from tests.support.fakes import MemoryKeyring
from tests.support.model_server import ModelServer, free_port


def test_the_window_answers_from_the_server_follows_up_and_stops_at_once(
        make_window: Callable[..., MainWindow], llava_server: ModelServer, photo: Path, qtbot: QtBot) -> None:
    window = make_window(factory=load_engine, answers_from="server", server_url=llava_server.url, max_new_tokens=12)
    assert window.status.text() == messages.SERVER_READY.format(model=llava_server.model, url=llava_server.url)
    window.capturer.path(str(photo))
    wait_done(qtbot, window)
    assert window.conversation.toPlainText().split("Assistant:\n", 1)[1].strip()
    assert window.status.text() == messages.ANSWER_DONE
    window.settings.max_new_tokens = 3000  # about 20 s of the tiny model's tokens
    window.question.setText("And the colours?")
    window.ask_button.click()
    qtbot.waitUntil(lambda: len(window.conversation.toPlainText().split("Assistant:\n")[-1]) > 20, timeout=30000)
    window.stop_button.click()
    qtbot.waitUntil(lambda: window.answers.answering_id is None, timeout=2000)
    assert window.status.text() == messages.ANSWER_STOPPED
    window.settings.max_new_tokens = 8
    window.question.setText("Once more?")
    window.ask_button.click()
    wait_done(qtbot, window)
    assert window.status.text() == messages.ANSWER_DONE
    assert window.conversation.toPlainText().count("Assistant:\n") == 3


def test_a_server_that_is_not_there_is_one_sentence_and_the_window_keeps_working(
        make_window: Callable[..., MainWindow], photo: Path, qtbot: QtBot) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    window = make_window(factory=load_engine, answers_from="server", server_url=url)
    expected = messages.SERVER_NOT_LISTENING.format(url=url)
    assert window.status.text() == expected
    window.capturer.path(str(photo))
    wait_done(qtbot, window)
    assert window.conversation.toPlainText().endswith(expected)
    assert window.isVisible()


def test_settings_shows_only_the_fields_of_where_answers_come_from_and_tab_follows(qtbot: QtBot) -> None:
    from PySide6.QtCore import Qt

    dialog = SettingsDialog(settings.Settings())
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    server_fields = [dialog.server_url, dialog.server_model, dialog.api_key, dialog.server_timeout,
                     dialog.server_ca_file, dialog.test_button]
    local_fields = [dialog.model, dialog.device, dialog.dtype, dialog.four_bit]
    assert not any(field.isVisible() for field in server_fields) and all(field.isVisible() for field in local_fields)
    dialog.activateWindow()  # no window manager under Xvfb
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    dialog.answers_from.setFocus()
    qtbot.waitUntil(dialog.answers_from.hasFocus, timeout=5000)
    qtbot.keyClick(dialog.answers_from, Qt.Key.Key_Down)  # by keyboard, as a screen reader user chooses
    assert dialog.answers_from.currentData() == servers.SERVER
    assert all(field.isVisible() for field in server_fields) and not any(field.isVisible() for field in local_fields)
    assert not dialog.test_result.isVisible()  # an empty result line is not read out
    qtbot.keyClick(dialog.answers_from, Qt.Key.Key_Tab)
    assert dialog.server_url.hasFocus()  # the next field is the server's address
    qtbot.keyClick(dialog.answers_from, Qt.Key.Key_Up)
    assert dialog.model.isVisible() and not dialog.server_url.isVisible()


def test_test_connection_lists_the_models_and_says_whether_the_model_sees_pictures(
        llava_server: ModelServer, qtbot: QtBot) -> None:
    heard: list[tuple[str, bool]] = []
    dialog = SettingsDialog(settings.Settings(answers_from="server", server_url=llava_server.url.removesuffix("/v1")),
                            announce=lambda text, is_error: heard.append((text, is_error)))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.test_button.click()
    assert not dialog.test_button.isEnabled()  # the test runs in the background; the dialog stays responsive
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30000)
    result = dialog.test_result.text()
    assert result.startswith(f"Connected. The server serves {llava_server.model}. {llava_server.model}: it sees "
                             "pictures (")
    assert heard == [(messages.SERVER_TESTING.format(url=llava_server.url), False), (result, False)]
    assert accessible_name(dialog.test_result) == result  # read as what it says
    assert [dialog.server_model.itemText(index) for index in range(dialog.server_model.count())] == [
        str(llava_server.model)]
    assert dialog.server_model.currentText() == str(llava_server.model)
    dialog.server_url.setText(f"127.0.0.1:{free_port()}")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled() and dialog.test_result.text().startswith("Nothing"),
                    timeout=30000)
    assert heard[-1] == (dialog.test_result.text(), True)


def test_choosing_a_server_in_settings_reloads_and_keeps_the_key_out_of_the_file(
        make_window: Callable[..., MainWindow], llava_server: ModelServer, qtbot: QtBot, config_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    keyring = MemoryKeyring()
    monkeypatch.setattr(servers, "_keyring", lambda: keyring)
    window = make_window(factory=load_engine, model="someone/not-downloaded", screen_text_tokens=300)
    window.save_settings = True
    dialog = SettingsDialog(window.settings, window)
    dialog.answers_from.setCurrentIndex(dialog.answers_from.findData(servers.SERVER))
    dialog.server_url.setText(llava_server.url)
    dialog.api_key.setText("sk-from-the-admin")
    window.apply_settings(dialog.chosen(), api_key=dialog.chosen_api_key())
    qtbot.waitUntil(lambda: window.status.text().startswith("Ready:"), timeout=30000)
    saved = (config_dir / settings.FILE_NAME).read_text()
    assert "sk-from-the-admin" not in saved
    assert keyring.secrets == {(servers.SERVICE, llava_server.url): "sk-from-the-admin"}
    loaded, problem = settings.load()
    assert problem is None and (loaded.answers_from, loaded.server_url, loaded.screen_text_tokens) == (
        "server", llava_server.url, 300)
    # The dialog opened again shows the key from the keyring, masked.
    again = SettingsDialog(loaded, window)
    assert again.api_key.text() == "sk-from-the-admin" and again.api_key.echoMode() == again.api_key.EchoMode.Password



def with_key(url: str) -> str:
    return url.replace("http://", "http://admin:sk-in-the-address@")


def test_test_connection_with_the_key_in_the_address_says_where_the_key_goes(
        llava_server: ModelServer, qtbot: QtBot) -> None:
    heard: list[tuple[str, bool]] = []
    dialog = SettingsDialog(settings.Settings(answers_from="server", server_url=with_key(llava_server.url)),
                            announce=lambda text, is_error: heard.append((text, is_error)))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.test_button.click()
    sentence = messages.SERVER_ADDRESS_HAS_KEY.format(url=llava_server.url)
    assert (dialog.test_result.text(), dialog.test_button.isEnabled()) == (sentence, True)
    assert heard == [(sentence, True)]


def test_an_address_with_the_key_in_it_is_one_sentence_and_the_key_is_never_saved(
        make_window: Callable[..., MainWindow], llava_server: ModelServer, qtbot: QtBot, config_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    keyring = MemoryKeyring()
    monkeypatch.setattr(servers, "_keyring", lambda: keyring)
    window = make_window(factory=load_engine, model="someone/not-downloaded")
    window.save_settings = True
    heard: list[str] = []
    monkeypatch.setattr(window.voice, "announce", lambda text, is_error=False: heard.append(text))
    dialog = SettingsDialog(window.settings, window)
    dialog.answers_from.setCurrentIndex(dialog.answers_from.findData(servers.SERVER))
    dialog.server_url.setText(with_key(llava_server.url))
    window.apply_settings(dialog.chosen(), api_key=dialog.chosen_api_key())
    sentence = messages.SERVER_ADDRESS_HAS_KEY.format(url=llava_server.url)
    qtbot.waitUntil(lambda: sentence in heard, timeout=10000)
    assert not any("sk-in-the-address" in text for text in heard)
    saved = config_dir / settings.FILE_NAME
    assert not saved.exists() or "sk-in-the-address" not in saved.read_text()
    assert not any("sk-in-the-address" in account + secret for (_, account), secret in keyring.secrets.items())
