"""``download`` against a model hub on 127.0.0.1 (the real huggingface_hub code, no internet): progress, and a
download that was stopped resumes where it stopped."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support.cli import COMMAND, run_cli
from tests.support.local_hub import LocalHub

REPO = "HuggingFaceTB/SmolVLM-256M-Instruct"


def hub_env(env: dict[str, str], hub: LocalHub, home: Path) -> dict[str, str]:
    download_env = {name: value for name, value in env.items() if name != "HF_HUB_OFFLINE"}
    download_env.update(HF_ENDPOINT=hub.url, HF_HOME=str(home), HF_HUB_CACHE=str(home / "hub"),
                        HF_HUB_DISABLE_XET="1")
    return download_env


def test_download_reports_progress_and_the_model_then_works_offline(tiny_model: Path, env: dict[str, str],
                                                                     tmp_path: Path, photo: Path) -> None:
    with LocalHub({REPO: tiny_model}) as hub:
        done = run_cli(["download", "smolvlm-256m", "--progress"], hub_env(env, hub, tmp_path / "hf"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    total = sum(path.stat().st_size for path in tiny_model.iterdir() if path.is_file())
    assert lines[-2] == f"progress {total} {total}"
    assert lines[-1].startswith(f"The model {REPO} is ready at ")
    # Offline now: the model answers from the cache with the hub gone.
    answered = run_cli(["describe", str(photo), "--model", REPO, "--max-new-tokens", "4"],
                       {**env, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tmp_path / "hf" / "hub")})
    assert answered.returncode == 0, answered.stderr


def test_a_stopped_download_keeps_its_finished_files_and_fetches_only_the_rest(
        tiny_model: Path, env: dict[str, str], tmp_path: Path) -> None:
    # huggingface_hub 2.4 writes each file to a temporary file of its own process, so a stopped download starts the
    # file it was in again; every file it finished (a 7B model's 5 GB shards) is kept.
    big = tmp_path / "big-model"
    big.mkdir()
    for path in tiny_model.iterdir():
        (big / path.name).write_bytes(path.read_bytes())
    (big / "model-00001-of-00002.safetensors").write_bytes(b"\x01" * 3_000_000)  # done in about 1.4 s
    (big / "model-00002-of-00002.safetensors").write_bytes(b"\x02" * 9_000_000)  # about 4 s
    total = sum(path.stat().st_size for path in big.iterdir())
    with LocalHub({REPO: big}, seconds_per_chunk=0.03) as hub:
        download_env = hub_env(env, hub, tmp_path / "hf")
        process = subprocess.Popen([str(COMMAND), "download", REPO, "--progress"], env=download_env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(line)
            assert line.startswith("progress "), seen
            if int(line.split()[1]) >= 3_000_000:  # the first shard is on disk, the second is coming
                break
        process.kill()  # the user cancelled, or the computer went to sleep
        process.wait(timeout=10)
        fetched_before = [path for method, path, _ in hub.requests if method == "GET" and "model-0000" in path]
        again = run_cli(["download", REPO, "--progress"], download_env, timeout=120)
        assert again.returncode == 0, again.stderr
        fetched_after = [path for method, path, _ in hub.requests if method == "GET" and "model-0000" in path]
    assert again.stdout.splitlines()[-2] == f"progress {total} {total}"
    refetched = fetched_after[len(fetched_before):]
    assert len(refetched) == 1, refetched  # the finished shard was kept, only the other one came again
