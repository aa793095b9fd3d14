"""The command line with a model server: ``describe --server`` streams and speaks, every failure exits 3 with one
sentence, and ``doctor --server`` lists the models, says whether the model sees pictures and times its first token.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seeing_assistant import speech
from seeing_assistant.core import messages
from tests.support.audio_lab import speech_profile
from tests.support.cli import run_cli
from tests.support.model_server import ModelServer, free_port


def test_describe_streams_the_servers_answer_and_speaks_it(llava_server: ModelServer, photo: Path,
                                                          env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "answer.wav"
    done = run_cli(["describe", str(photo), "--server", llava_server.url, "--max-new-tokens", "24",
                    "--audio-out", str(path)], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip()
    duration, loud_share = speech_profile(speech.Pcm.from_wav(path).data)
    assert duration > 0.5 and loud_share > 0.3


def test_json_names_the_server_and_the_model_that_answered(llava_server: ModelServer, photo: Path,
                                                           env: dict[str, str]) -> None:
    done = run_cli(["describe", str(photo), "--server", llava_server.url.removesuffix("/v1") + "/",
                    "--max-new-tokens", "8", "--json"], env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["server"] == llava_server.url  # /v1 added, the trailing slash dropped
    assert result["model"] == str(llava_server.model)
    assert result["new_tokens"] == 8 and result["prompt_tokens"] > 576
    assert result["device"] is None  # nothing ran on this computer


def test_every_server_failure_exits_3_with_one_sentence(llava_server: ModelServer, photo: Path,
                                                        env: dict[str, str]) -> None:
    port = free_port()
    for options, sentence in [
        (["--server", f"127.0.0.1:{port}"], messages.SERVER_NOT_LISTENING.format(url=f"http://127.0.0.1:{port}/v1")),
        (["--server", llava_server.url, "--server-model", "missing"],
         messages.SERVER_MODEL_NOT_SERVED.format(model="missing", served=str(llava_server.model))),
    ]:
        done = run_cli(["describe", str(photo), *options], env)
        assert (done.returncode, done.stdout) == (3, ""), done.stderr
        assert done.stderr == f"seeing-assistant: error: {sentence}\n"


def test_an_api_key_variable_that_is_not_set_is_refused_before_anything_starts(photo: Path,
                                                                               env: dict[str, str]) -> None:
    done = run_cli(["describe", str(photo), "--server", "http://127.0.0.1:9/v1", "--api-key-env", "NO_SUCH_KEY"], env)
    assert done.returncode == 2
    sentence = messages.API_KEY_VARIABLE_UNSET.format(name="NO_SUCH_KEY")
    assert done.stderr == f"seeing-assistant: error: {sentence}\n"


def test_the_api_key_is_sent_but_never_printed(llava_server: ModelServer, photo: Path, env: dict[str, str]) -> None:
    done = run_cli(["describe", str(photo), "--server", llava_server.url, "--api-key-env", "SERVER_KEY",
                    "--max-new-tokens", "4", "--json"], {**env, "SERVER_KEY": "sk-very-secret"})
    assert done.returncode == 0, done.stderr
    assert "sk-very-secret" not in done.stdout + done.stderr


def test_doctor_checks_the_server(llava_server: ModelServer, env: dict[str, str]) -> None:
    done = run_cli(["doctor", "--server", llava_server.url], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"Model server {llava_server.url}:"
    assert lines[1] == "  " + messages.SERVER_SEES_PICTURES.format(url=llava_server.url)
    assert lines[2] == f"  serves: {llava_server.model}"
    assert lines[4].startswith(f"  {llava_server.model}: it sees pictures (")
    assert "; first token after " in lines[4] and lines[4].endswith(" ms.")
    port = free_port()
    unreachable = run_cli(["doctor", "--server", f"127.0.0.1:{port}"], env)
    assert unreachable.returncode == 0
    assert "  not usable: " + messages.SERVER_NOT_LISTENING.format(url=f"http://127.0.0.1:{port}/v1") in \
        unreachable.stdout


@pytest.mark.parametrize("command", [["doctor"], ["describe", "{photo}"]])
def test_an_address_with_the_key_in_it_is_refused_without_repeating_the_key(
        llava_server: ModelServer, photo: Path, env: dict[str, str], command: list[str]) -> None:
    address = llava_server.url.replace("http://", "http://admin:sk-in-the-address@")
    done = run_cli([part.replace("{photo}", str(photo)) for part in command] + ["--server", address], env)
    sentence = messages.SERVER_ADDRESS_HAS_KEY.format(url=llava_server.url)
    assert (done.returncode, done.stdout) == (3, ""), done.stderr
    assert done.stderr == f"seeing-assistant: error: {sentence}\n"
    assert "sk-in-the-address" not in done.stdout + done.stderr


def test_download_lists_the_models_for_this_computer_and_suggests_one(env: dict[str, str]) -> None:
    done = run_cli(["download", "--list"], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # This machine has no GPU and more than 4 GB free: the 500M SmolVLM, on the processor.
    assert lines[0] == "Models for this computer: No usable GPU: SmolVLM 500M answers on the processor in seconds."
    assert [line.split()[0] for line in lines[1:5]] == ["llava-7b", "llava-13b", "*", "smolvlm-256m"]
    assert lines[3].startswith(" * smolvlm-500m ")
    assert "seeing-assistant download smolvlm-500m" in lines[5]
    doctor = run_cli(["doctor"], env)
    assert lines[0] in doctor.stdout.splitlines()


def test_a_download_too_big_for_the_disk_is_refused_before_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from seeing_assistant.core import model_store
    from seeing_assistant.core.errors import ModelUnavailableError

    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(100 * 10**9, 99 * 10**9, 10**9))
    with pytest.raises(ModelUnavailableError) as caught:
        model_store.check_disk_space("llava-hf/llava-1.5-7b-hf", 14_100_000_000)
    assert str(caught.value).startswith("There is not enough free disk space for llava-hf/llava-1.5-7b-hf: it needs "
                                        "about 14.1 GB in ")
    assert str(caught.value).endswith(", which has 1.0 GB free; free some space, or set HF_HOME to a folder on a "
                                      "larger disk.")
