"""eSpeak NG as a speech engine: one ``espeak-ng --stdout`` process per sentence."""

from __future__ import annotations

import io
import shutil
import subprocess

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SpeechUnavailableError, short_reason
from seeing_assistant.speech.synthesizer import Synthesizer
from seeing_assistant.speech.voice import Pcm, Voice, VoiceSettings


class EspeakNgSynthesizer(Synthesizer):
    """eSpeak NG, the voice pyttsx3 uses on Linux, run as ``espeak-ng --stdout`` once per sentence.

    pyttsx3's own eSpeak driver is not used: it runs eSpeak asynchronously and its ``runAndWait()`` can return
    before the audio exists (seen in the test suite: ``save_to_file`` left no file behind, and a late callback
    raised ReferenceError), and its ``say()`` cannot be stopped. A process per sentence costs about 20 ms, cannot
    take the app down with it, and gives the same voice.
    """

    name = "espeak-ng"

    def __init__(self, settings: VoiceSettings | None = None, command: str | None = None) -> None:
        found = command or shutil.which("espeak-ng") or shutil.which("espeak")
        if found is None:
            raise SpeechUnavailableError(messages.NO_SPEECH_ENGINE.format(reason="espeak-ng is not installed"))
        self.command = found
        self.driver = "espeak-ng"
        self._voices: list[Voice] | None = None
        self._options: list[str] = []
        self.apply(settings or VoiceSettings())

    def apply(self, settings: VoiceSettings) -> None:
        """Use these voice settings from the next sentence on."""
        options = []
        if settings.voice:
            options += ["-v", self._voice_id(settings.voice)]
        if settings.rate:
            options += ["-s", str(int(settings.rate))]
        options += ["-a", str(round(100 * min(max(float(settings.volume), 0.0), 1.0)))]
        self._options = options

    def voices(self) -> list[Voice]:
        """The voices ``espeak-ng --voices`` lists."""
        if self._voices is None:
            listing = self._run(["--voices"]).decode("utf-8", "replace").splitlines()[1:]
            self._voices = []
            for line in listing:
                fields = line.split()
                if len(fields) >= 5:
                    self._voices.append(Voice(fields[4], fields[3].replace("_", " "), (fields[1],)))
        return self._voices

    def synthesize(self, text: str) -> Pcm:
        """The sentence as 16-bit mono PCM."""
        # A WAV written to a pipe has placeholder lengths; the wave module reads up to the end of the data all the same.
        return Pcm.from_wav(io.BytesIO(self._run([*self._options, "-b", "1", "--stdout", "--", text])))

    def _run(self, arguments: list[str]) -> bytes:
        try:
            done = subprocess.run([self.command, *arguments], capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SpeechUnavailableError(messages.NO_SPEECH_ENGINE.format(reason=short_reason(error))) from error
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
            raise RuntimeError(reason)
        return done.stdout
