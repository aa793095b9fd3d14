"""A failure nobody foresaw in a command: one line on stderr naming the log, the traceback in the log, exit 70."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from seeing_assistant.core import logs, messages
from seeing_assistant.core.errors import EXIT_UNEXPECTED

# The command's own entry point, with the image intake broken as a bug would break it; a thread of the command
# fails too when asked. Everything else is the real command.
PROBE = """\
import sys, threading
from seeing_assistant.core import intake
def broken_load(path):
    if '--thread' in sys.argv:
        sys.argv.remove('--thread')
        worker = threading.Thread(target=lambda: {}['voice'], name='speech-synthesis')
        worker.start()
        worker.join()
    raise RuntimeError('the decoder table was empty')
intake.load_path = broken_load
from seeing_assistant.cli import main
sys.exit(main([argument for argument in sys.argv[1:] if argument != '--thread']))
"""


def run_probe(args: list[str], env: dict[str, str], log_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120,
                          env={**env, logs.LOG_ENV: str(log_dir)}, check=False)


def test_an_unexpected_failure_is_one_line_naming_the_log_and_its_own_exit_code(env: dict[str, str], photo: Path,
                                                                                tmp_path: Path) -> None:
    done = run_probe(["describe", str(photo)], env, tmp_path / "log")
    log = tmp_path / "log" / logs.FILE_NAME
    assert done.returncode == EXIT_UNEXPECTED == 70, done.stderr
    expected = messages.CLI_UNEXPECTED_ERROR.format(reason="RuntimeError: the decoder table was empty", log=log)
    assert done.stderr == f"seeing-assistant: error: {expected}\n"  # one line, no traceback
    logged = log.read_text()
    assert "unexpected error in seeing-assistant describe" in logged and "Traceback" in logged
    assert "broken_load" in logged and "RuntimeError: the decoder table was empty" in logged


def test_a_thread_that_dies_is_one_line_too_and_the_log(env: dict[str, str], photo: Path, tmp_path: Path) -> None:
    done = run_probe(["describe", str(photo), "--thread"], env, tmp_path / "log")
    log = tmp_path / "log" / logs.FILE_NAME
    lines = done.stderr.splitlines()
    assert lines[0] == "seeing-assistant: error: " + messages.CLI_UNEXPECTED_ERROR.format(
        reason="KeyError: 'voice'", log=log)
    assert len(lines) == 2 and "Traceback" not in done.stderr  # then the command's own failure, as above
    logged = log.read_text()
    assert "unexpected error in speech-synthesis" in logged and logged.count("Traceback") == 2
    assert done.returncode == EXIT_UNEXPECTED


def test_without_a_writable_log_the_sentence_says_to_run_with_debug(env: dict[str, str], photo: Path,
                                                                    tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    done = run_probe(["describe", str(photo)], env, blocked)
    assert done.returncode == EXIT_UNEXPECTED
    expected = messages.UNEXPECTED_ERROR.format(reason="RuntimeError: the decoder table was empty")
    assert done.stderr == f"seeing-assistant: error: {expected}\n"
