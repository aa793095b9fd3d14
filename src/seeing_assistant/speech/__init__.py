"""Speech output: the sentence splitter, the speakers, one module per speech engine and per audio output, earcons.

The names below are the package's interface; importing it loads no Qt (Qt Multimedia is loaded when audio plays).
"""

from seeing_assistant.speech.drivers import default_synthesizer, open_synthesizer
from seeing_assistant.speech.earcons import EARCONS, load_earcon
from seeing_assistant.speech.espeak_ng import EspeakNgSynthesizer
from seeing_assistant.speech.failover import FailoverSpeaker
from seeing_assistant.speech.output import AudioOutput
from seeing_assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer
from seeing_assistant.speech.qt_audio import QtAudioOutput, qt_messages_to_log
from seeing_assistant.speech.silence import SilentSynthesizer
from seeing_assistant.speech.speaker import (
    SilentSpeaker,
    Speaker,
    VoiceSpeaker,
    list_voices,
    open_speaker,
    open_speaker_or_silent,
)
from seeing_assistant.speech.speech_dispatcher import ScreenReaderSpeaker
from seeing_assistant.speech.synthesizer import Synthesizer
from seeing_assistant.speech.voice import Pcm, Voice, VoiceSettings
from seeing_assistant.speech.wav_file import WavFileOutput, check_writable

__all__ = [
    "EARCONS", "AudioOutput", "EspeakNgSynthesizer", "FailoverSpeaker", "Pcm", "Pyttsx3Synthesizer", "QtAudioOutput",
    "ScreenReaderSpeaker", "SilentSpeaker", "SilentSynthesizer", "Speaker", "Synthesizer", "Voice", "VoiceSettings",
    "VoiceSpeaker", "WavFileOutput", "check_writable", "default_synthesizer", "list_voices", "load_earcon",
    "open_speaker", "open_speaker_or_silent", "open_synthesizer", "qt_messages_to_log",
]
