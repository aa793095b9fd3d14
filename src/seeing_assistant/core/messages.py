"""Every sentence a user reads or hears, in one place so that wording stays consistent and translatable.

Each error says what was wrong and what to do, in one sentence.
"""

from __future__ import annotations

# --- Image intake -----------------------------------------------------------------------------------------------

# Translators: {path} is a file name the user gave.
FILE_NOT_FOUND = "There is no file at {path}: check the name and try again."
# Translators: {path} is a folder the user gave where an image file was expected.
PATH_IS_FOLDER = "{path} is a folder, not an image: give the path of an image file."
# Translators: {path} names something like a pipe or a device, which the app refuses to read.
NOT_REGULAR_FILE = "{path} is not a regular file (it is a {kind}): save the image to a file and open that."
# Translators: {path} is a file the user may not read.
FILE_NOT_READABLE = "{path} cannot be read ({reason}): check its permissions or copy it somewhere readable."
# Translators: {source} is a file name or "standard input".
EMPTY_INPUT = "{source} is empty: give an image file such as a PNG or JPEG."
# Translators: {source} is a file name or "standard input"; {size} and {limit} are sizes such as "300 MB".
INPUT_TOO_LARGE = "{source} is {size}, more than the {limit} limit: save a smaller copy of the image and try again."
# Translators: {source} is a file name or "standard input".
NOT_AN_IMAGE = "{source} is not an image this app can read: give a PNG, JPEG, GIF, BMP, TIFF or WebP file."
# Translators: {source} is a file name or "standard input".
DAMAGED_IMAGE = "{source} is damaged or incomplete and cannot be decoded: open it in an image viewer and save it again."
# Translators: {source} names an image; {pixels} and {limit} are counts such as "120 million".
IMAGE_TOO_MANY_PIXELS = (
    "{source} claims {pixels} pixels, more than the {limit} limit, so it was refused as a possible decompression "
    "bomb: use a smaller image."
)
# Translators: {source} names an image.
IMAGE_HAS_NO_PIXELS = "{source} has no pixels: give a real image."
# Translators: {source} names an image; {mode} is an internal colour mode such as "LAB".
UNSUPPORTED_COLOUR_MODE = "{source} uses the colour mode {mode}, which this app cannot convert: save it as PNG or JPEG."
STDIN_IS_TERMINAL = (
    "No image arrived on standard input: pipe one in, for example 'seeing-assistant describe - < photo.png'."
)
# Translators: the name shown for images read from a pipe.
STANDARD_INPUT = "standard input"
# Translators: the name shown for an image pasted or passed in from another part of the app.
IMAGE_IN_MEMORY = "the image"
THE_SCREEN = "the screen"  # the source of a screen capture (and of a window capture that fell back to the screen)
THE_ACTIVE_WINDOW = "the active window"

# Translators: {colour} is a colour name such as "black". Said instead of running the model on a blank image.
BLANK_IMAGE = "The image is blank: it is a single colour ({colour})."

# Translators: colour names used in BLANK_IMAGE.
COLOUR_NAMES = {
    "black": "black",
    "white": "white",
    "grey": "grey",
    "red": "red",
    "green": "green",
    "blue": "blue",
    "yellow": "yellow",
    "cyan": "cyan",
    "magenta": "magenta",
    "orange": "orange",
    "purple": "purple",
    "brown": "brown",
    "pink": "pink",
    "dark blue": "dark blue",
    "dark green": "dark green",
    "dark red": "dark red",
}

# --- Screen capture ---------------------------------------------------------------------------------------------

NO_DISPLAY = (
    "The screen cannot be captured because no display is available: run this from a desktop session, "
    "or give an image file instead."
)
# Translators: {reason} is the system's own explanation.
SCREEN_CAPTURE_FAILED = "The screen could not be captured ({reason}): give an image file instead."
# Translators: {path} is the file name the user gave to --save-image; {reason} a system message.
SAVE_IMAGE_NOT_PNG = "The picture is saved as PNG: give a file name that ends in .png instead of {path}."
SAVE_IMAGE_FAILED = "The picture could not be saved to {path} ({reason}): choose a folder you can write to."
PICTURE_SAVED = "The picture was saved to {path}."
NO_PICTURE_TO_SAVE = "There is no picture to save yet: capture or open an image first."
# --- The desktop's own shortcuts (install-desktop --shortcuts) -----------------------------------------------------
# Translators: {chord} is a key chord such as Ctrl+Alt+Shift+S; {action} an action id such as describe-screen.
SHORTCUT_CLASH = "{chord} is bound already in your sway config, so {action} was left without a shortcut."
# Translators: {count} is how many shortcuts were written; {desktop} the desktop's name (sway).
SHORTCUTS_INSTALLED = "{count} shortcuts were added to {desktop}; each runs 'seeing-assistant trigger ACTION'."
SHORTCUTS_NOT_HERE = ("Shortcuts cannot be added to {desktop} by the app yet: bind 'seeing-assistant trigger "
                      "describe-screen' (and the other actions) in its keyboard settings by hand.")
THIS_DESKTOP = "this desktop"
SWAY_NOT_RELOADED = "sway did not reload its config ({reason}): run 'swaymsg reload' to use the new shortcuts."
# --- The screen on Wayland (xdg-desktop-portal) -------------------------------------------------------------------
# Translators: {reason} is a short technical reason (a D-Bus error name or a system message).
PORTAL_UNAVAILABLE = "the desktop's screenshot portal did not answer ({reason})"
PORTAL_NO_ANSWER = ("The screen could not be captured: the desktop's screenshot portal gave no picture within "
                    "{seconds} seconds. Try again, or give an image file instead.")
PORTAL_REFUSED = ("The screen could not be captured: the desktop refused the screenshot (it was cancelled or not "
                  "allowed). Allow screenshots for Seeing Assistant in the desktop's settings, or give an image file.")
PORTAL_FAILED = ("The screen could not be captured: the desktop's screenshot portal failed. Try again, or give an "
                 "image file instead.")
# Translators: {reason} is PORTAL_UNAVAILABLE's phrase. Said instead of "the image is blank" on Wayland.
WAYLAND_CAPTURE_FAILED = ("The screen could not be captured: on Wayland the picture came through XWayland, which "
                          "sees no Wayland window, and was one flat colour ({reason}). Install xdg-desktop-portal "
                          "and your desktop's portal (GNOME, KDE or wlr), or give an image file instead.")

# --- Model ------------------------------------------------------------------------------------------------------

# Translators: {model} is a model name such as llava-hf/llava-1.5-7b-hf.
MODEL_NOT_DOWNLOADED = (
    "The model {model} is not on this computer: run 'seeing-assistant download {model}' once while online, "
    "or give a local model folder with --model."
)
# Translators: {path} is a folder the user gave as a model.
MODEL_FOLDER_NOT_FOUND = "There is no model folder at {path}: check the path given to --model."
# Translators: {path} is a folder; {missing} names a file such as config.json.
MODEL_FOLDER_INCOMPLETE = (
    "The model folder {path} has no {missing}: download the model again with 'seeing-assistant download'."
)
# Translators: {model} is a model name; {reason} is the library's short explanation.
MODEL_LOAD_FAILED = "The model {model} could not be loaded ({reason}): download it again or choose another model."
# Translators: {model} is a model name.
MODEL_NOT_IMAGE_TEXT = (
    "The model {model} cannot answer questions about images: choose an image-text-to-text model "
    "such as llava-hf/llava-1.5-7b-hf."
)
# Translators: {model} is a model name.
MODEL_HAS_NO_CHAT_TEMPLATE = (
    "The model {model} has no chat template, so prompts cannot be built for it: choose a chat model "
    "such as llava-hf/llava-1.5-7b-hf."
)
OUT_OF_MEMORY = (
    "The computer ran out of memory while answering: close other programs, use --quantize 4bit, "
    "or choose a smaller model."
)
# Translators: {device} is a device name such as cuda.
DEVICE_NOT_AVAILABLE = "The device {device} is not available on this computer: use --device auto or --device cpu."
# Translators: {dtype} is a precision such as float16; {device} a device such as cpu.
DTYPE_NOT_SUPPORTED = "The precision {dtype} is not supported on {device}: use --dtype auto."
QUANTIZATION_NOT_INSTALLED = (
    "4-bit and 8-bit loading need the bitsandbytes library: install it with "
    "pip install 'seeing-assistant[quantization]', or run without --quantize."
)
QUANTIZATION_NEEDS_GPU = "4-bit and 8-bit loading need an NVIDIA GPU: run without --quantize on this computer."
# Translators: {model} is a model name; {reason} the network library's explanation.
DOWNLOAD_FAILED = (
    "The model {model} could not be downloaded ({reason}): check the internet connection and the model name, "
    "then run the download again."
)
# Translators: {needed} and {free} are sizes such as "14.1 GB"; {folder} is the download folder.
NOT_ENOUGH_DISK = (
    "There is not enough free disk space for {model}: it needs about {needed} in {folder}, which has {free} free; "
    "free some space, or set HF_HOME to a folder on a larger disk."
)
MODEL_OFFER_TITLE = "Get a model"
# Translators: {model} is the missing model; {reason} says which model suits this computer and why.
MODEL_OFFER_TEXT = (
    "The model {model} is not on this computer, and the app needs one to answer. {reason} Choose one to download "
    "(nothing is downloaded until you press Download), or answer from a model server."
)
# Translators: {model} is a hub id.
DOWNLOAD_STARTED = "Downloading {model}; you can cancel at any time."
DOWNLOAD_PERCENT = "Downloaded {percent} percent."
DOWNLOAD_FINISHED = "{model} is downloaded; loading it now."
DOWNLOAD_STOPPED = (
    "The download of {model} was stopped; the files it finished are kept, so downloading again goes on from them."
)
# Translators: {model} is a model name; {path} is where it was saved.
DOWNLOAD_DONE = "The model {model} is ready at {path}; the app now runs offline."
# Translators: shown when the model answers nothing at all.
EMPTY_ANSWER = "The model gave an empty answer: ask again, or ask a more specific question."

# --- Desktop integration ------------------------------------------------------------------------------------------
# Translators: {count} is a number of files; {folder} the user's data folder.
DESKTOP_INSTALLED = (
    "Seeing Assistant is in the applications menu now ({count} files under {folder}): find it by typing its name "
    "or 'screen reader'."
)
DESKTOP_UNINSTALLED = "Removed Seeing Assistant from the applications menu ({count} files under {folder})."

# --- Model server -----------------------------------------------------------------------------------------------
# Translators: {url} is the server address the user gave.
SERVER_BAD_ADDRESS = "{url} is not a server address: write it as http://host:port/v1 or https://host/v1."
# Translators: {url} is the address as written, with the name and key taken out.
SERVER_ADDRESS_HAS_KEY = (
    "The server address {url} has a name or key in it: write the address alone, and put the API key in Settings' "
    "API key field (or name its variable with --api-key-env), where it is kept in the system keyring."
)
# Translators: {url} is a server address such as http://gpu-box:8000/v1.
SERVER_NOT_LISTENING = (
    "Nothing answers at {url}: start the model server there, or correct the address in Settings (or --server)."
)
# Translators: {host} is a computer's name; {url} the whole address.
SERVER_UNKNOWN_HOST = "No computer called {host} can be found: check the name in the server address {url}."
SERVER_CERT_UNTRUSTED = (
    "The server at {url} has a certificate this computer does not trust: choose the file of its certificate "
    "authority in Settings (or --server-ca-file), or ask the server's administrator for it."
)
# Translators: {host} is the name in the address, which the server's certificate does not name.
SERVER_CERT_MISMATCH = (
    "The server's certificate is not made out to {host}: use the name its certificate was made for in the address, "
    "or ask the server's administrator to renew the certificate."
)
SERVER_HTTPS_TO_HTTP = "The server at {url} speaks plain http, not https: change the address to start with http://."
SERVER_HTTP_TO_HTTPS = "The server at {url} only speaks https: change the address to start with https://."
# Translators: {status} is 401 or 403.
SERVER_UNAUTHORISED = (
    "The server at {url} refused the API key ({status}): enter the key its administrator gave you in Settings "
    "(or name the variable that holds it with --api-key-env)."
)
# Translators: {suggestion} is the address with /v1 at its end.
SERVER_NO_API = (
    "There is no chat service at {url} (404): check the address; most servers need /v1 at its end, as in {suggestion}."
)
SERVER_PICTURE_TOO_LARGE = (
    "The server refused the picture as too large (413): ask its administrator to accept requests of a few megabytes "
    "(for nginx, client_max_body_size 20m)."
)
# Translators: {model} is the model asked for; {served} lists what the server serves or says.
SERVER_MODEL_NOT_SERVED = (
    "The server does not serve the model {model} ({served}): choose a model it serves in Settings (or --server-model)."
)
SERVER_NO_MODELS = "The server at {url} serves no model: load one on the server, then try again."
# Translators: {model} is the served model's name.
SERVER_IGNORES_IMAGES = (
    "The model {model} on the server does not see pictures (it read as many tokens with a picture as without): "
    "serve a vision model such as llava-hf/llava-1.5-7b-hf."
)
SERVER_STREAM_BROKEN = (
    "The server broke off in the middle of the answer: ask again, and if it keeps happening check the server's log."
)
# Translators: {reason} is the server's own description of the error.
SERVER_STREAM_ERROR = "The server failed while answering ({reason}): ask again, or check the server's log."
# Translators: {seconds} is the read timeout.
SERVER_READ_TIMEOUT = (
    "The server sent nothing for {seconds} seconds: it may be busy; ask again, or allow it longer in Settings "
    "(or --server-timeout)."
)
# Translators: {status} is 502, 503 or 504.
SERVER_BEHIND_PROXY_UNAVAILABLE = (
    "The server's front door answered {status}: the model server behind it is down, still starting or too slow; "
    "ask again in a minute, or ask the server's administrator."
)
# Translators: {status} is an HTTP status code; {reason} the server's own words.
SERVER_HTTP_ERROR = "The server answered with error {status} ({reason}): check the server's log."
SERVER_NOT_OPENAI = (
    "The server at {url} did not answer as an OpenAI-compatible server does: check the address and its port."
)
SERVER_UNEXPECTED = "The server at {url} could not be reached ({reason}): check the address and the network."
# Translators: {path} is the certificate file the user chose.
SERVER_CA_FILE_UNREADABLE = (
    "The certificate file {path} cannot be read as a certificate: choose the PEM file of the server's certificate "
    "authority."
)
# Translators: {name} is an environment variable's name.
API_KEY_VARIABLE_UNSET = "The environment variable {name} is not set: set it to the server's API key first."
# Translators: {value} is what the user typed; {low} and {high} are numbers of seconds.
BAD_SERVER_TIMEOUT = "--server-timeout {value} is not a whole number of seconds from {low} to {high}: give one."
SERVER_MODEL_WITHOUT_SERVER = "--server-model and --api-key-env need --server: give the server's address too."
# Translators: {model} is the served model; {url} the server. Said when the app is ready to answer.
SERVER_READY = "Ready: {model} on the server {url}."
SERVER_CONNECTING = "Connecting to the model server {url}; you can already capture an image."
SERVER_SEES_PICTURES = (
    "Every picture you ask about is sent to {url}, with its text: it leaves this computer, so use a server you trust."
)
DOCTOR_WHERE_ANSWERS_COME_FROM = (
    "Privacy: answers come from the model on this computer, and nothing leaves it; a model server (--server, or "
    "Settings) would be sent every picture you ask about."
)
SERVER_ADDRESS_MISSING = "There is no server address to test: type one, such as http://gpu-box:8000/v1."
SERVER_TESTING = "Testing the connection to {url}."
# Translators: {models} lists the served models; {summary} says whether the model sees pictures and how fast it is.
SERVER_TESTED = "Connected. The server serves {models}. {summary}"
NO_KEYRING = (
    "This computer has no system keyring, so the API key is kept only until the app closes: install one (such as "
    "GNOME Keyring or KWallet) to keep it."
)


# --- Questions and tasks ----------------------------------------------------------------------------------------

# Translators: {task} is what the user typed; {choices} lists the valid task names.
UNKNOWN_TASK = "There is no task called {task}: choose one of {choices}."
CONVERSATION_TOO_LONG = (
    "The conversation is longer than the model can read: start a new conversation about the image."
)
EMPTY_QUESTION = "The question is empty: type a question, or leave it out to get a description."
NO_IMAGE_GIVEN = "No image was given: name an image file, use '-' for standard input, or use --screen."
IMAGE_AND_SCREEN = "Both an image file and --screen were given: choose one."
READ_TEXT_AND_QUESTION = ("--read-text reads the picture's text without the model, so it takes no question: leave "
                          "out --read-text to ask, or the question to read.")
BAD_SCREEN_TEXT_TOKENS = "--screen-text-tokens must be 0 or more, not {value}."
# Translators: {value} is what the user typed for --max-new-tokens.
BAD_MAX_NEW_TOKENS = "The answer length {value} is not a whole number from {low} to {high}: give one such as 400."
# Translators: {detail} is the option parser's own short explanation.
USAGE_ERROR = "{detail}: run 'seeing-assistant --help' to see the options."
INTERRUPTED = "Stopped."
# Translators: {reason} is an explanation from the system.
UNEXPECTED_ERROR = "Something went wrong ({reason}): run again with --debug and report what it prints."

# --- Speech -----------------------------------------------------------------------------------------------------

NO_AUDIO_OUTPUT = (
    "No audio output device was found, so nothing can be spoken: connect speakers or headphones, "
    "or check that the sound system (PulseAudio or PipeWire) is running."
)
# Translators: {reason} is the speech library's own explanation.
NO_SPEECH_ENGINE = (
    "No speech engine could be started ({reason}), so nothing can be spoken: on Linux install espeak-ng "
    "(apt install espeak-ng)."
)
# Translators: {voice} is what the user asked for; {names} lists some of the voices there are.
UNKNOWN_VOICE = (
    "There is no voice called {voice}: choose one of the voices 'seeing-assistant doctor' lists, such as {names}."
)
# Translators: {reason} is the speech engine's explanation for one sentence it could not say.
SPEECH_FAILED = "A sentence could not be spoken ({reason}); the text is still shown."
# Translators: {path} is the audio file name the user gave.
AUDIO_OUT_IS_FOLDER = "{path} is a folder: give a file name for the audio, such as answer.wav."
# Translators: {path} is the audio file name the user gave; {folder} its folder.
AUDIO_OUT_NO_FOLDER = "The folder {folder} does not exist, so {path} cannot be written: create it or choose another."
# Translators: {path} is the audio file name the user gave.
AUDIO_OUT_NOT_WRITABLE = "{path} cannot be written here (permission denied): choose a folder you can write to."
# Translators: {rate} is what the user typed for --rate.
BAD_RATE = ("The speech rate {rate} is not a whole number of words per minute from {low} to {high}: give one such "
            "as 175.")
# Translators: {volume} is what the user typed for --volume.
BAD_VOLUME = "The volume {volume} is not a number from 0 to 1: give one such as 0.8."
NOTHING_TO_SAY = "There is no text to say: give the text as arguments, or pipe it in with 'say -'."
# Translators: prefix of a warning line; the answer goes on without speech.
WARNING_PREFIX = "warning"

# --- Settings ---------------------------------------------------------------------------------------------------

# Translators: {path} is the settings file; {reason} the system's explanation.
SETTINGS_UNREADABLE = (
    "The settings file {path} cannot be read ({reason}), so the defaults are used: check its permissions."
)
# Translators: {path} is the settings file; {reason} a short technical explanation.
SETTINGS_CORRUPT = (
    "The settings file {path} was damaged ({reason}), so the defaults are used; the old file was kept beside it "
    "with .broken added to its name."
)
# Translators: {path} is the settings file; {names} lists the settings that were reset.
SETTINGS_VALUES_RESET = "Some settings in {path} were out of range and are back to their defaults: {names}."
# Translators: {reason} is the system's explanation.
SETTINGS_NOT_SAVED = ("The settings are in use, but could not be saved ({reason}), so they last only until the app "
                      "closes: check that the config folder is writable.")

# --- Desktop app ------------------------------------------------------------------------------------------------

APP_NAME = "Seeing Assistant"
MODEL_STILL_LOADING = "The model is still loading: wait for 'Model ready', then try again."
# Translators: {model} is a model name; {where} is e.g. "cpu, float32".
MODEL_READY = "Model ready: {model} ({where})."
# Translators: {model} is a model name.
MODEL_LOADING = "Loading the model {model}; you can already capture an image."
NO_IMAGE_YET = "There is no image yet: describe the screen, a window or the clipboard, or open an image first."
CLIPBOARD_HAS_NO_IMAGE = "The clipboard holds no image: copy an image or an image file, then try again."
DROP_HAS_NO_FILE = "Only image files can be dropped here: drop a PNG, JPEG or other image file."
NO_WINDOW_FOUND = "This system cannot tell which window is active, so the whole screen is described instead."
NO_DISPLAY_FOR_APP = (
    "The desktop app needs a display, and none is available: run it in a desktop session, or use "
    "'seeing-assistant describe IMAGE' instead."
)
DESCRIBING = "Describing {source}."
ASKING = "Answering your question."
ANSWER_DONE = "Answer complete."
ANSWER_STOPPED = "Stopped."
NEW_CONVERSATION = "New conversation: capture or open an image."
ANSWER_COPIED = "The answer was copied to the clipboard."
NOTHING_TO_COPY = "There is no answer to copy yet."
SETTINGS_SAVED = "Settings saved."
# Translators: {reason} is the speech problem; shown once when the app starts without speech.
SPEECH_OFF = "Speech is off: {reason}"
# Translators: who reads the answers aloud, shown in Settings and in the status line.
SPOKEN_BY_LABELS = {
    "auto": "Automatic: the screen reader when one is running",
    "screen-reader": "The screen reader",
    "app": "The app's own voice",
    "none": "No one (text only)",
}
# Translators: {who} is one of "the screen reader", "the app's own voice".
SPOKEN_BY_NOW = "Answers are spoken by {who}."
# Translators: who speaks and why, in the status bar. {who} as above; {why} is SCREEN_READER_FOUND's sentence.
SPOKEN_BY_BECAUSE = "Answers are spoken by {who}: {why}."
SPOKEN_BY_FOR_NOW = "Answers are spoken by {who} for now: {why}."
SPOKEN_BY_CHOICE = "Answers are spoken by {who}, as chosen in Settings."
NO_SCREEN_READER_RUNNING = "no screen reader is running"
# Translators: {reader} is a screen reader's name and version ("Orca 48.1"), or A_SCREEN_READER; {found_by} is one
# of the FOUND_BY_ phrases below.
SCREEN_READER_FOUND = "{reader} {found_by}"
A_SCREEN_READER = "a screen reader"
FOUND_BY_BUS = "is running in this desktop session"
FOUND_BY_SWITCH = "is switched on in the desktop's settings"
FOUND_BY_PROCESS = "is running"
FOUND_BY_WINDOWS = "is running (Windows says so)"
FOUND_BY_VOICEOVER = "is turned on"
ANSWERS_NOT_SPOKEN = "Answers are not spoken: text only."
SPOKEN_BY_WHO = {"screen-reader": "the screen reader", "app": "the app's own voice"}
# Translators: {reason} is why speech-dispatcher, the screen reader's speech queue, could not be reached.
NO_SPEECH_DISPATCHER = ("The screen reader's speech (speech-dispatcher) could not be reached ({reason}): start "
                        "your screen reader, or install speech-dispatcher, or choose the app's own voice in Settings.")
# --- Screen text (OCR) -------------------------------------------------------------------------------------------
OCR_UNAVAILABLE = ("The text of the picture cannot be read: the text recogniser (rapidocr) {reason}. Install the app "
                   "again with its dependencies (scripts/install), or ask the model instead.")
OCR_FAILED = "The text recogniser failed on this picture ({reason}); ask the model instead."
NO_TEXT_FOUND = "No text was found in {source}."
READING_TEXT = "Reading the text of {source}."
READ_TEXT_SHOWN = "Read the text of {source}"  # what the conversation shows under "You:"
OCR_FALLBACK = "The model answers without the screen's text: {reason}"

NO_SCREEN_READER_OUTPUT = ("No screen reader could be reached ({reason}): start NVDA, JAWS or VoiceOver (on macOS, "
                           "allow VoiceOver to be controlled with AppleScript), or choose the app's own voice in "
                           "Settings.")
SCREEN_READER_OUTPUT_FAILED = "The screen reader stopped taking speech ({reason}): the answer is still shown as text."

# --- Speech that stops mid-answer (failover between the screen reader's route and the app's own voice) ----------
# Translators: {reason} is why the sound stopped; a short phrase inside the sentences below.
SOUND_SYSTEM_STOPPED = "the sound system stopped taking audio"
# Translators: {error} is Qt Multimedia's name for the error.
AUDIO_DEVICE_DID_NOT_OPEN = "the audio device could not be opened ({error})"
SOUND_SYSTEM_GONE = ("The sound system (PulseAudio or PipeWire) went away while the app was running, so the app's "
                     "own voice cannot play again until the app is restarted.")
# Translators: {lost} and {now} are "the screen reader" or "the app's own voice"; {reason} is one of the phrases
# above or the screen reader's own explanation. Said by the route that still works, then the answer goes on.
SPEECH_ROUTE_LOST = "Speech through {lost} stopped ({reason}); {now} goes on from the sentence that was cut."
# Translators: {lost} is "the screen reader" or "the app's own voice". Shown while nothing at all can be heard.
SPEECH_ROUTE_NONE = ("Speech through {lost} stopped ({reason}) and nothing else can speak: the answer is shown as "
                     "text, and speech goes on by itself from the sentence that was cut when it can.")
# Translators: {now} is "the screen reader" or "the app's own voice"; said by it when it speaks again.
SPEECH_ROUTE_BACK = "Speech is back through {now}."
# Translators: the command line's one sentence when it stops speaking before the end; {reason} as above.
SPEECH_LOST = ("The speech stopped before the end ({reason}) and nothing else could finish it: check the sound "
               "system (PulseAudio or PipeWire) or the screen reader, then run the command again.")

# --- Hotkeys, trigger, tray -------------------------------------------------------------------------------------

HOTKEYS_WAYLAND = (
    "Global hotkeys do not work for this app under Wayland: bind 'seeing-assistant trigger describe-screen' "
    "(and the other actions) to keys in your desktop's keyboard settings instead."
)
HOTKEYS_NO_DISPLAY = "Global hotkeys need a desktop session, and none is running."
# Translators: {reason} is the hotkey library's explanation.
HOTKEYS_UNAVAILABLE = (
    "Global hotkeys could not be started ({reason}): bind 'seeing-assistant trigger ACTION' to keys in your "
    "desktop's keyboard settings instead."
)
HOTKEYS_NOT_TRUSTED = (
    "Global hotkeys need permission on macOS: in System Settings, Privacy & Security, Accessibility, turn on "
    "Seeing Assistant (or the terminal that starts it), then start the app again."
)
# Translators: {chord} is a key chord such as Ctrl+Alt+Shift+S; {action} an action such as describe-screen.
HOTKEY_INVALID = (
    "{chord} is not a key chord that can be used for {action}: choose one with Ctrl, Alt, Shift or Super and a key, "
    "in Settings."
)
# Translators: {chord} is a key chord.
HOTKEY_TWICE = "{chord} is set for two actions: give each action its own chord in Settings."
APP_NOT_RUNNING = "Seeing Assistant is not running: start it first, or add --start."
ALREADY_RUNNING = "Seeing Assistant is already running: its window was brought to the front."
# Translators: {action} is what the user asked to trigger.
INSTANCE_SOCKET_FAILED = "The app could not open its control socket, so 'seeing-assistant trigger' cannot reach it."
NOTHING_TO_REPEAT = "There is no answer to repeat yet."

# --- Spoken questions -------------------------------------------------------------------------------------------

# Translators: {source} is an audio file name or "the recording".
RECORDING_TOO_SHORT = "{source} is too short to hold a question: hold the key down while you speak."
# Translators: {source} is an audio file name or "the recording".
RECORDING_SILENT = (
    "Nothing was heard in {source}: check that the microphone is on and not muted, then speak closer to it."
)
# Translators: {path} is a path the user gave.
AUDIO_NOT_A_FILE = "{path} is not a regular file: give a WAV file."
# Translators: {source} is an audio file name.
NOT_AUDIO = "{source} is not audio this app can read: give a WAV file (PCM, any rate, mono or stereo)."
# Translators: {source} is an audio file name; {limit} a number of seconds.
AUDIO_TOO_LONG = "{source} is longer than {limit} seconds: ask a shorter question."
# Translators: {model} is a speech recognition model name.
ASR_MODEL_NOT_DOWNLOADED = (
    "The speech recognition model {model} is not on this computer: run 'seeing-assistant download --asr' once "
    "while online, or give a local model folder."
)
# Translators: {model} is a model name; {reason} a short technical explanation.
ASR_MODEL_FAILED = "The speech recognition model {model} could not be loaded ({reason}): download it again."
# Translators: {reason} is a short technical explanation.
TRANSCRIPTION_FAILED = "The question could not be transcribed ({reason}): try again, or type it."
NO_MICROPHONE = "No microphone was found: connect one and try again, or type the question."
# Translators: {reason} is the system's explanation.
MICROPHONE_FAILED = (
    "The microphone could not be opened ({reason}): check that this app may use it in the system's privacy "
    "settings, or type the question."
)
LISTENING = "Listening: speak your question, then release the key."
TRANSCRIBING = "Transcribing your question."
# Translators: {text} is the transcribed question, said back to the user.
YOU_ASKED = "You asked: {text}"
NOTHING_UNDERSTOOD = "No words were recognised: try again, speaking a little slower, or type the question."
LISTENING_CANCELLED = "Listening cancelled."
QUESTION_AND_AUDIO = "Both --question and --question-audio were given: choose one."

# --- A time limit on listening, and failures nobody foresaw (the log) ---------------------------------------------

# Translators: {seconds} is the limit set in Settings, a whole number. Said when listening stops by itself.
MICROPHONE_LIMIT_REACHED = ("Listening stopped at the {seconds}-second limit and what you said is being transcribed: "
                            "for longer questions, raise the limit in Settings.")
# Translators: {reason} is the error's type and message; {log} is the log file's path. The window goes on working.
APP_UNEXPECTED_ERROR = ("Something unexpected went wrong ({reason}) and was written to {log}: the window still works, "
                        "so try again, and send that file with a report if it happens again.")
# Translators: {reason} as above; said when the log file could not be written either.
APP_UNEXPECTED_ERROR_NO_LOG = "Something unexpected went wrong ({reason}): the window still works, so try again."
# Translators: {reason} is the error's type and message; {log} is the log file's path.
CLI_UNEXPECTED_ERROR = ("Something went wrong ({reason}) and the details were written to {log}: send that file with a "
                        "report, or run again with --debug to see them.")
