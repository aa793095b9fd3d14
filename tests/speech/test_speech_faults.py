"""Speech that breaks mid-answer, with real parts: a sound system killed under the command line, and an audio
device that is gone when the app's voice opens it. Each test measures how long until the user hears (or reads) why.
The speech-dispatcher crash is in ``test_speech_dispatcher.py``."""

from __future__ import annotations

import subprocess
import time

import pytest

from seeing_assistant.core import messages
from seeing_assistant.core.errors import EXIT_SPEECH_LOST
from seeing_assistant.speech import FailoverSpeaker, VoiceSettings, VoiceSpeaker, routes
from tests.support.audio_lab import PrivatePulse, Recorder
from tests.support.cli import COMMAND
from tests.support.polling import wait_for

pytestmark = pytest.mark.audio

ANSWER = ("The window shows a settings page. There are three buttons at the bottom. The first one says Save. "
          "The second one says Cancel. The third one says Help. ")


def test_the_command_line_exits_with_its_own_code_and_one_sentence_when_the_sound_system_dies_mid_answer(
        env: dict[str, str]) -> None:
    with PrivatePulse() as pulse, Recorder(pulse) as heard:  # a sound system of its own: it is killed
        started = time.monotonic()
        process = subprocess.Popen([str(COMMAND), "say", ANSWER], env={**env, **pulse.env},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert heard.first_loud(started, timeout=60) is not None, "the answer was never heard"
            killed = time.monotonic()
            pulse.kill()
            _, stderr = process.communicate(timeout=30)  # before the fix: no end to the wait for the speech
            exited = time.monotonic() - killed
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    print(f"\nPulseAudio killed under 'say': the command ended with its sentence after {exited:.3f} s")
    assert process.returncode == EXIT_SPEECH_LOST, stderr
    told = messages.SPEECH_LOST.format(reason=messages.SOUND_SYSTEM_STOPPED)
    # Our sentence, once and last. Qt's own PulseAudio connection may have written one line of its own before it
    # (it tries to reconnect while the output waits out its stall limit).
    lines = stderr.strip().splitlines()
    assert lines[-1] == f"seeing-assistant: error: {told}" and lines.count(lines[-1]) == 1, lines
    assert all(line.startswith(("seeing-assistant: error:", "PulseAudioService:")) for line in lines), lines
    assert exited < 10


def test_an_audio_device_that_is_gone_when_the_voice_opens_it_is_told_and_the_answer_goes_on_on_the_new_one(
        audio_server: PrivatePulse, recorder: Recorder, qapp: object, monkeypatch: pytest.MonkeyPatch,
        tmp_path: object) -> None:
    monkeypatch.setenv("SPEECHD_ADDRESS", f"unix_socket:{tmp_path}/no-speechd.sock")  # no screen reader to take over
    module = audio_server.pactl("load-module", "module-null-sink", "sink_name=headset")
    try:
        audio_server.pactl("set-default-sink", "headset")
        speaker, taken, problem = routes.open_route(routes.APP_VOICE, VoiceSettings(), earcons=False, fall_back=True)
        assert isinstance(speaker, FailoverSpeaker) and (taken, problem) == (routes.APP_VOICE, None)
    finally:
        audio_server.pactl("unload-module", module)  # the headset is unplugged before a word is said
        audio_server.pactl("set-default-sink", "vspeaker")
    told: list[str] = []
    speaker.on_route_changed = told.append
    try:
        fed = time.monotonic()
        speaker.feed(ANSWER)
        speaker.finish()
        # The sink could not open: nothing can speak for a moment, and the status says why.
        assert wait_for(lambda: len(told) >= 1, 10, step=0.01)
        shown = time.monotonic() - fed
        reason = messages.AUDIO_DEVICE_DID_NOT_OPEN.format(error="OpenError")
        assert told[0] == messages.SPEECH_ROUTE_NONE.format(lost="the app's own voice", reason=reason)
        # Then the voice is opened again, on the device that is there now, and says the whole answer.
        heard = recorder.first_loud(fed, timeout=15)
        assert heard is not None, "the voice never came back"
        print(f"\nsink did not open: told in the status after {shown:.3f} s, heard on the new device after "
              f"{heard - fed:.3f} s")
        assert wait_for(lambda: len(told) == 2, 10, step=0.01)
        assert told[1] == messages.SPEECH_ROUTE_BACK.format(now="the app's own voice")
        assert speaker.wait(60)
        assert isinstance(speaker.current, VoiceSpeaker) and speaker.lost is None
        sentences = [sentence.strip() + "." for sentence in ANSWER.split(".") if sentence.strip()]
        assert speaker.current.sentences == [told[1], *sentences]  # nothing was lost
        assert recorder.loud_seconds(fed, time.monotonic()) > 5.0
    finally:
        speaker.close()

