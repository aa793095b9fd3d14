"""The app as a screen reader sees it: the AT-SPI tree of the running app, walked by Debian's pyatspi (as Orca
does), in a private D-Bus session under Xvfb."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import ARTIFACTS, ATSPI_WALK, COMMAND

NAMES = ["Describe screen", "Describe window", "Describe clipboard", "Read screen text", "Open image", "Question",
         "Ask", "Stop", "New conversation", "Copy answer", "Conversation", "Settings"]


@pytest.mark.display
def test_orca_finds_every_control_named_and_can_describe_the_screen(tiny_model: Path, tmp_path: Path,
                                                                     env: dict[str, str]) -> None:
    for tool in ("dbus-run-session", "/usr/bin/python3"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/install --test"
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"model": str(tiny_model), "max_new_tokens": 12,
                                                             # Xvfb shows nothing else: keep the app in the picture.
                                                             "hide_window_when_capturing": False}))
    script = (f'"{COMMAND}" & app=$!; /usr/bin/python3 "{ATSPI_WALK}"; status=$?; '
              'kill $app; wait $app; exit $status')
    app_env = {**env, "SEEING_ASSISTANT_CONFIG_DIR": str(config), "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
               "QT_QPA_PLATFORM": "xcb"}
    done = subprocess.run(["dbus-run-session", "--", "bash", "-c", script], env=app_env, capture_output=True,
                          text=True, timeout=240, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr
    report = json.loads(lines[-1])
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "atspi-report.json").write_text(json.dumps(report, indent=2))
    assert "error" not in report, report
    assert report["unnamed"] == [], f"interactive controls without a name: {report['unnamed']}"
    seen = {name for _, name in report["names"]}
    assert ["push button", "Speak question"] in report["names"]  # a button that says what it does, not a check box
    assert set(NAMES) <= seen
    first = report["first_conversation"]
    assert first.startswith("You:\nDescribe the screen\n\nAssistant:\n") and first.split("Assistant:\n")[1].strip()
    assert report["conversation"].count("Assistant:\n") == 2
    assert "You:\nWhat colours are there?\n\nAssistant:\n" in report["conversation"]
    assert "Answer complete." in report["announcements"]
    # The answer is added a sentence at a time (12 tokens with no full stop: the heading and one piece), not a token
    # at a time: each insertion is an event the screen reader hears about.
    assert 1 <= report["first_answer_text_events"] <= 3, report["first_answer_text_events"]
