"""End-to-end tests: the installed ``seeing-assistant`` command, run as a user would, under a network guard."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from seeing_assistant.core import messages
from tests.support.cli import COMMAND, SHOW_IMAGE, Run, png_claiming_size, run_cli
from tests.support.screens import application_window

ERROR_PREFIX = "seeing-assistant: error: "


def assert_one_error_line(run: Run, code: int, text: str) -> None:
    lines = run.stderr.strip().splitlines()
    assert run.returncode == code, run.stderr
    assert len(lines) == 1, f"expected one line on stderr, got: {run.stderr!r}"
    assert lines[0].startswith(ERROR_PREFIX) and text in lines[0]
    assert "Traceback" not in run.stderr + run.stdout


def test_describe_streams_an_answer_from_a_model_folder(tiny_model: Path, photo: Path, env: dict[str, str]) -> None:
    run = run_cli(["describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "20"], env)
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.strip()) > 10
    assert run.stderr == ""


def test_json_gives_the_answer_and_its_figures(tiny_model: Path, photo: Path, env: dict[str, str]) -> None:
    run = run_cli(["describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "16", "--json",
                   "--question", "What is the orange shape?"], env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["answer"] and result["question"] == "What is the orange shape?"
    assert result["model"] == str(tiny_model)
    assert (result["device"], result["dtype"]) == ("cpu", "float32")
    assert result["new_tokens"] == 16
    assert result["image_size"] == [800, 600]
    assert 0 < result["time_to_first_token_s"] < result["total_s"]
    assert result["tokens_per_s"] > 0 and result["load_s"] > 0


def test_standard_input_is_read_with_a_dash(tiny_model: Path, photo: Path, env: dict[str, str]) -> None:
    run = run_cli(["describe", "-", "--model", str(tiny_model), "--max-new-tokens", "8", "--json"], env,
                  stdin=photo.read_bytes())
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["source"] == "standard input"


def test_a_missing_model_exits_3_with_the_download_hint(photo: Path, env: dict[str, str]) -> None:
    run = run_cli(["describe", str(photo)], env)
    assert_one_error_line(run, 3, "run 'seeing-assistant download llava-hf/llava-1.5-7b-hf'")


def test_a_blank_screen_is_called_blank_without_any_model(tmp_path: Path, env: dict[str, str]) -> None:
    black = tmp_path / "curtain.png"
    Image.new("RGB", (1920, 1080), "black").save(black)
    run = run_cli(["describe", str(black), "--model", "./no-such-model"], env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "The image is blank: it is a single colour (black)."


def bad_inputs(folder: Path, photo: Path) -> dict[str, tuple[list[str], str]]:
    corrupt = folder / "corrupt.jpg"
    jpeg = io.BytesIO()
    Image.open(photo).save(jpeg, "JPEG")
    corrupt.write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])  # a real JPEG cut off half way
    truncated = folder / "truncated.png"
    truncated.write_bytes(photo.read_bytes()[:2000])
    text = folder / "notes.txt"
    text.write_text("just some words\n")
    bomb = folder / "bomb.png"
    bomb.write_bytes(png_claiming_size(60_000, 60_000))
    fifo = folder / "pipe.png"
    os.mkfifo(fifo)
    return {
        "corrupt": ([str(corrupt)], "damaged or incomplete"),
        "truncated": ([str(truncated)], "damaged or incomplete"),
        "not an image": ([str(text)], "is not an image"),
        "hostile": ([str(bomb)], "decompression bomb"),
        "pipe": ([str(fifo)], "it is a pipe"),
        "missing": ([str(folder / "gone.png")], "There is no file"),
        "folder": ([str(folder)], "is a folder"),
        "no image": ([], "No image was given"),
        "unknown task": ([str(photo), "--task", "poem"], "invalid choice: 'poem'"),
        "bad length": ([str(photo), "--max-new-tokens", "0"], "The answer length 0 is not a whole number"),
        "empty question": ([str(photo), "--question", " "], "The question is empty"),
    }


def test_bad_inputs_exit_2_with_one_line_before_any_model_loads(tmp_path: Path, photo: Path,
                                                                env: dict[str, str]) -> None:
    # Runs the command's own entry point and then reports whether torch was ever imported: bad input must be
    # refused before the model stack is even loaded (that is what makes the answer come at once).
    probe = ("import sys\nfrom seeing_assistant.cli import main\ntry:\n    code = main(sys.argv[1:])\n"
             "except SystemExit as stop:\n    code = stop.code\n"
             "print('torch-imported' if 'torch' in sys.modules else 'torch-not-imported')\nsys.exit(code)")
    for name, (args, expected) in bad_inputs(tmp_path, photo).items():
        done = subprocess.run([sys.executable, "-c", probe, "describe", *args], capture_output=True, text=True,
                              env=env, timeout=60, check=False)
        run = Run(done.returncode, done.stdout, done.stderr)
        assert_one_error_line(run, 2, expected)
        assert run.stdout.strip() == "torch-not-imported", name


def test_the_installed_command_refuses_a_corrupt_file(tmp_path: Path, photo: Path, env: dict[str, str]) -> None:
    corrupt = tmp_path / "x.png"
    corrupt.write_bytes(photo.read_bytes()[:500])
    assert_one_error_line(run_cli(["describe", str(corrupt)], env), 2, "damaged or incomplete")


def test_ctrl_c_stops_generation_cleanly(tiny_model: Path, photo: Path, env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [str(COMMAND), "describe", str(photo), "--model", str(tiny_model), "--max-new-tokens", "3000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert process.stdout is not None
    first = process.stdout.read(1)  # blocks until the answer has started streaming
    assert first
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode().strip() == ERROR_PREFIX + "Stopped."
    assert len(first + stdout) < 3000 * 3


def test_download_without_network_fails_cleanly(env: dict[str, str]) -> None:
    env = dict(env, HF_HUB_OFFLINE="0", HF_HUB_ETAG_TIMEOUT="5", HF_HUB_DOWNLOAD_TIMEOUT="5")
    run = run_cli(["download", "llava-hf/llava-1.5-7b-hf"], env, timeout=120)
    assert_one_error_line(run, 3, "could not be downloaded")
    # download is the one command allowed to try the network: clear what the guard logged before the fixture checks.
    Path(env["SEEING_ASSISTANT_NETGUARD_LOG"]).unlink(missing_ok=True)


def test_doctor_reports_versions_devices_and_the_model(tiny_model: Path, env: dict[str, str]) -> None:
    missing = run_cli(["doctor"], env)
    assert missing.returncode == 0, missing.stderr
    assert "torch 2." in missing.stdout and "transformers 5." in missing.stdout
    assert "CUDA: not available" in missing.stdout
    assert messages.DOCTOR_WHERE_ANSWERS_COME_FROM in missing.stdout.splitlines()
    assert "on disk: no" in missing.stdout and "seeing-assistant download" in missing.stdout
    assert "Text recogniser:\n  rapidocr 3." in missing.stdout and "PP-OCRv6 models, loaded in" in missing.stdout
    present = run_cli(["doctor", "--model", str(tiny_model)], env)
    assert "on disk: yes" in present.stdout
    assert "would run on cpu in float32" in present.stdout and ": fits" in present.stdout


def test_python_dash_m_and_help(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "seeing_assistant", "--version"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.startswith("seeing-assistant ")
    usage = run_cli(["describe", "--help"], env)
    assert usage.returncode == 0 and "--question" in usage.stdout and "--screen" in usage.stdout


@pytest.mark.display
def test_describe_screen_grabs_the_real_screen(tiny_model: Path, env: dict[str, str], tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("DISPLAY is not set: run the tests through scripts/test, which starts Xvfb")
    picture = tmp_path / "window.png"
    Image.new("RGB", (300, 200), (250, 120, 0)).save(picture)
    shown = subprocess.Popen([sys.executable, str(SHOW_IMAGE), str(picture)],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert shown.stdout is not None and shown.stdout.readline().startswith("shown ")
        run = run_cli(["describe", "--screen", "--model", str(tiny_model), "--max-new-tokens", "8", "--json"], env)
    finally:
        shown.terminate()
        shown.wait(10)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["source"] == "the screen" and result["task"] == "screen"
    assert result["is_blank"] is False, "the window on screen should make the grab non-blank"
    assert result["new_tokens"] == 8


@pytest.mark.display
def test_describe_screen_of_an_empty_screen_is_blank(env: dict[str, str]) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("DISPLAY is not set: run the tests through scripts/test, which starts Xvfb")
    run = run_cli(["describe", "--screen", "--model", "./no-such-model"], env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("The image is blank: it is a single colour")


def test_describe_screen_without_a_display_explains(env: dict[str, str]) -> None:
    env = {key: value for key, value in env.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    assert_one_error_line(run_cli(["describe", "--screen"], env), 2, "no display is available")


def test_ctrl_c_while_the_model_loads_ends_the_command_at_once(photo: Path, env: dict[str, str]) -> None:
    # A model that takes long to load (a 7B one does), stood in for by a load that waits; Ctrl+C comes meanwhile.
    probe = ("import sys, time\nfrom seeing_assistant.core import factories\n"
             "def slow_load(settings):\n    print('loading', flush=True)\n    time.sleep(60)\n"
             "factories.load_engine = slow_load\nfrom seeing_assistant.cli import main\nsys.exit(main(sys.argv[1:]))")
    process = subprocess.Popen([sys.executable, "-c", probe, "describe", str(photo)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None and process.stdout.readline() == "loading\n"
    pressed = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert time.monotonic() - pressed < 5
    assert (process.returncode, stderr) == (130, f"seeing-assistant: error: {messages.INTERRUPTED}\n")


def test_read_text_reads_a_screenshot_in_reading_order_without_any_model(tmp_path: Path, env: dict[str, str]) -> None:
    screen = application_window()
    path = tmp_path / "editor.png"
    screen.image.save(path)
    run = run_cli(["describe", "--read-text", str(path), "--json"], env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["task"] == "read-text" and result["model"] is None and result["new_tokens"] == 0
    answer = result["answer"]
    assert answer.startswith("Top bar:\nFile Edit View Insert Format Tools Window Help\n\nLeft column:\nInbox (12)\n")
    assert answer.index("Left column:") < answer.index("Main area:") < answer.index("Bottom bar:")
    assert "Visitors rose to 18,240 this quarter, up 6.5% on the same months last year." in answer
    # The text task reads with the recogniser too: no model is needed (none is downloaded here).
    text_task = run_cli(["describe", "--task", "text", str(path)], env)
    assert text_task.returncode == 0, text_task.stderr
    assert "Quarterly report for the Harbour Street library" in text_task.stdout


def test_read_text_of_a_picture_without_text_says_so(photo: Path, tmp_path: Path, env: dict[str, str]) -> None:
    plain = tmp_path / "plain.png"
    image = Image.new("RGB", (400, 300), (30, 90, 160))
    image.paste((250, 200, 30), (100, 80, 300, 220))
    image.save(plain)
    run = run_cli(["describe", "--read-text", str(plain)], env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"No text was found in {plain}."
    assert_one_error_line(run_cli(["describe", "--read-text", "-q", "What?", str(photo)], env), 2,
                          "--read-text reads the picture's text without the model, so it takes no question")


def test_save_image_keeps_the_picture_sent_to_the_model_or_says_why_not(tmp_path: Path, photo: Path,
                                                                       env: dict[str, str]) -> None:
    saved = tmp_path / "kept.png"
    run = run_cli(["describe", str(photo), "--read-text", "--save-image", str(saved)], env)
    assert run.returncode == 0, run.stderr
    with Image.open(saved) as kept, Image.open(photo) as original:
        assert kept.size == original.size and kept.tobytes() == original.convert("RGB").tobytes()
    wrong = run_cli(["describe", str(photo), "--read-text", "--save-image", str(tmp_path / "kept.jpg")], env)
    assert_one_error_line(wrong, 2, "The picture is saved as PNG")
    nowhere = run_cli(["describe", str(photo), "--read-text", "--save-image", str(tmp_path / "no" / "kept.png")], env)
    assert_one_error_line(nowhere, 2, "The picture could not be saved")
    assert not list(tmp_path.rglob("*.partial"))
