"""The desktop's own shortcuts for sway: the include file, the user's config kept, a clash said, and removal."""

from __future__ import annotations

from pathlib import Path

import pytest

from seeing_assistant.core import shortcuts


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("SWAYSOCK", raising=False)
    monkeypatch.setattr(shortcuts, "SYSTEM_SWAY_CONFIG", tmp_path / "system-sway-config")
    return tmp_path


def test_a_chord_is_written_as_sway_writes_it() -> None:
    assert shortcuts.sway_chord("Ctrl+Alt+Shift+S") == "Ctrl+Alt+Shift+s"
    assert shortcuts.sway_chord("Super+F2") == "Mod4+F2"


def test_the_users_config_is_kept_a_clash_is_said_and_uninstall_takes_out_only_ours(config_home: Path) -> None:
    config = config_home / "sway" / "config"
    config.parent.mkdir()
    mine = "set $mod Mod4\nbindsym ctrl+shift+alt+S exec grim\n"
    config.write_text(mine)
    outcome = shortcuts.install_sway(["/opt/Seeing Assistant/seeing-assistant"])
    assert outcome.sentences[0] == ("Ctrl+Alt+Shift+S is bound already in your sway config, so describe-screen "
                                    "was left without a shortcut.")
    assert outcome.sentences[-1].startswith("6 shortcuts were added to sway")
    text = config.read_text()
    assert text.startswith(mine) and f"include {shortcuts.sway_include_path()}" in text
    bindings = shortcuts.sway_include_path().read_text()
    assert "bindsym Ctrl+Alt+Shift+s" not in bindings
    assert "bindsym Ctrl+Alt+Shift+x exec '/opt/Seeing Assistant/seeing-assistant' trigger stop" in bindings
    again = shortcuts.install_sway(["seeing-assistant"])  # installing twice adds no second include line
    assert config.read_text().count("include ") == 1 and again.sentences[-1].startswith("6 shortcuts")
    shortcuts.uninstall_sway()
    assert config.read_text() == mine and not shortcuts.sway_include_path().exists()


def test_with_no_config_of_their_own_the_systems_defaults_are_included_first(config_home: Path) -> None:
    (config_home / "system-sway-config").write_text("bindsym Mod4+Return exec foot\n")
    shortcuts.install_sway(["seeing-assistant"])
    lines = (config_home / "sway" / "config").read_text().splitlines()
    assert lines[0] == f"include {config_home / 'system-sway-config'}"
    assert lines[-1] == f"include {shortcuts.sway_include_path()}"


def test_elsewhere_one_sentence_says_to_bind_trigger_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWAYSOCK", raising=False)
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "GNOME")
    said = shortcuts.install(["seeing-assistant"]).sentences
    assert len(said) == 1 and said[0].startswith("Shortcuts cannot be added to gnome by the app yet")
