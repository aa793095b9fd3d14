"""The settings file: defaults, a round trip, a damaged or hand-edited file, atomic saves, the autostart entry."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from seeing_assistant.core import settings


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv(settings.CONFIG_ENV, str(folder))
    return folder


def write(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / settings.FILE_NAME
    path.write_text(text, encoding="utf-8")
    return path


def is_one_sentence(text: str | None) -> bool:
    return text is not None and "\n" not in text and text.endswith(".")


def test_a_first_start_without_a_settings_file_uses_the_defaults_quietly() -> None:
    loaded, problem = settings.load()
    assert loaded == settings.Settings()
    assert problem is None


def test_saved_settings_come_back_the_same(config_dir: Path) -> None:
    chosen = settings.Settings(rate=220, volume=0.5, spoken_by="screen-reader", voice="Alex", max_new_tokens=123)
    path = settings.save(chosen)
    assert path == config_dir / settings.FILE_NAME
    assert settings.load() == (chosen, None)


def test_saving_leaves_no_temporary_file_behind(config_dir: Path) -> None:
    settings.save(settings.Settings())
    settings.save(settings.Settings(volume=0.25))
    assert sorted(path.name for path in config_dir.iterdir()) == [settings.FILE_NAME]


def test_a_damaged_file_is_kept_as_broken_and_the_defaults_are_used(config_dir: Path) -> None:
    path = write(config_dir, '{"volume": 0.5,')
    loaded, problem = settings.load()
    assert loaded == settings.Settings()
    assert is_one_sentence(problem)
    assert problem is not None and ".broken" in problem
    assert (config_dir / "settings.json.broken").read_text(encoding="utf-8") == '{"volume": 0.5,'
    assert not path.exists()


def test_a_value_of_the_wrong_kind_is_named_and_the_defaults_are_used(config_dir: Path) -> None:
    write(config_dir, json.dumps({"earcons": "yes", "volume": 0.5}))
    loaded, problem = settings.load()
    assert loaded == settings.Settings()
    assert is_one_sentence(problem)
    assert problem is not None and "earcons" in problem
    assert (config_dir / "settings.json.broken").exists()


def test_out_of_range_values_are_reset_by_name_and_the_rest_is_kept(config_dir: Path) -> None:
    write(config_dir, json.dumps({"rate": 10, "volume": 3, "max_new_tokens": 0, "voice": "Alex", "earcons": False}))
    loaded, problem = settings.load()
    defaults = settings.Settings()
    assert (loaded.rate, loaded.volume, loaded.max_new_tokens) == (defaults.rate, defaults.volume,
                                                                    defaults.max_new_tokens)
    assert (loaded.voice, loaded.earcons) == ("Alex", False)
    assert is_one_sentence(problem)
    assert problem is not None and "rate, volume, max_new_tokens" in problem


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG autostart entry is for Linux desktops")
def test_start_at_login_writes_and_removes_the_autostart_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = tmp_path / "xdg" / "autostart" / "org.seeingassistant.SeeingAssistant.desktop"
    settings.set_start_at_login(True, "/opt/bin/seeing-assistant")
    assert "Exec=/opt/bin/seeing-assistant app" in entry.read_text(encoding="utf-8")
    settings.set_start_at_login(False, "/opt/bin/seeing-assistant")
    assert not entry.exists()
    settings.set_start_at_login(False, "/opt/bin/seeing-assistant")  # removing it twice is fine


def test_who_speaks_is_a_known_choice_and_the_first_versions_switch_is_kept(config_dir: Path) -> None:
    write(config_dir, json.dumps({"speak_automatically": False, "volume": 0.5}))  # answers were not read aloud
    assert settings.load() == (settings.Settings(spoken_by="none", volume=0.5), None)
    write(config_dir, json.dumps({"spoken_by": "the neighbour"}))
    loaded, problem = settings.load()
    assert loaded.spoken_by == "auto" and problem is not None and "spoken_by" in problem


def test_the_microphone_limit_is_a_minute_by_default_kept_when_saved_and_reset_when_out_of_bounds(
        config_dir: Path) -> None:
    assert settings.Settings().microphone_limit_s == 60
    settings.save(settings.Settings(microphone_limit_s=15))
    assert settings.load() == (settings.Settings(microphone_limit_s=15), None)
    for wrong in (0, 4, 121, 100_000, -5):  # none, too short for a question, longer than a transcription takes
        write(config_dir, json.dumps({"microphone_limit_s": wrong, "voice": "Alex"}))
        loaded, problem = settings.load()
        assert (loaded.microphone_limit_s, loaded.voice) == (60, "Alex"), wrong
        assert is_one_sentence(problem) and problem is not None and "microphone_limit_s" in problem
    for kind in ("30", True, 30.5, None):
        write(config_dir, json.dumps({"microphone_limit_s": kind}))
        loaded, problem = settings.load()
        assert loaded == settings.Settings() and problem is not None and "microphone_limit_s" in problem, kind
