"""Screens with known text, drawn at a real screen's size and type sizes, for the OCR tests and the screen-text
benchmark: an application window with a menu bar, a sidebar, a document and a status bar (UI text at 12-15 px,
that is 9-11 pt); a dense terminal (12 px monospace); a web-style page with small grey text; a dark chat app; and a
news page rendered by a real browser (Debian's Chromium, headless) from ``pages/harbour-times.html``.

Each comes with its lines grouped by the region a reader should put them in. The words are everyday words with
numbers, names and punctuation, so that a recogniser cannot lean on one repeated phrase.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = "/usr/share/fonts/truetype/dejavu/"
SIZE = (1920, 1080)


@dataclass
class Screen:
    """A drawn screen and the text on it: (region, line) in reading order."""

    name: str
    image: Image.Image
    lines: list[tuple[str, str]] = field(default_factory=list)

    def text(self, region: str | None = None) -> list[str]:
        """The lines (of one region, or all)."""
        return [line for where, line in self.lines if region is None or where == region]


def font(size: int, mono: bool = False, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu (Debian's fonts-dejavu-core), as on many Linux desktops."""
    name = "DejaVuSansMono" if mono else "DejaVuSans"
    return ImageFont.truetype(FONTS + name + ("-Bold" if bold else "") + ".ttf", size)


DOCUMENT = [
    "Quarterly report for the Harbour Street library, prepared on 14 March 2026.",
    "Visitors rose to 18,240 this quarter, up 6.5% on the same months last year.",
    "The reading room will close at 17:30 on Fridays from the first of April.",
    "Please return overdue books by Monday; the fine is 20 cents per day.",
    "New large-print titles arrived: 42 novels and 15 cookbooks.",
    "Volunteers meet on Thursday at 10 am in room B2 to plan the summer fair.",
    "Contact Maria Lopez (extension 4417) about the audio book service.",
    "Wi-Fi password for guests: Harbour-2026; it changes every month.",
]
SIDEBAR = ["Inbox (12)", "Drafts", "Sent items", "Archive 2025", "Calendar", "Contacts", "Shared folders",
           "Settings", "Help and support"]
MENU = "File   Edit   View   Insert   Format   Tools   Window   Help"
STATUS = "Page 3 of 11   Words: 2,417   English (UK)   Saved at 09:42"


def application_window() -> Screen:
    """A document editor: menu bar, a left sidebar beside the document, a status bar."""
    image = Image.new("RGB", SIZE, (246, 246, 246))
    draw = ImageDraw.Draw(image)
    ui, body = font(13), font(15)
    screen = Screen("application window (UI 13-15 px)", image)
    draw.rectangle((0, 0, SIZE[0], 28), fill=(230, 230, 230))
    draw.text((12, 7), MENU, font=ui, fill=(20, 20, 20))
    screen.lines.append(("top bar", MENU))
    draw.rectangle((0, 29, 260, SIZE[1] - 30), fill=(222, 226, 232))
    for number, item in enumerate(SIDEBAR):
        draw.text((20, 60 + number * 30), item, font=ui, fill=(30, 30, 30))
        screen.lines.append(("left column", item))
    draw.rectangle((420, 60, 1500, 1000), fill="white", outline=(200, 200, 200))
    for number, line in enumerate(DOCUMENT):
        draw.text((460, 100 + number * 30), line, font=body, fill=(0, 0, 0))
        screen.lines.append(("main area", line))
    draw.rectangle((0, SIZE[1] - 28, SIZE[0], SIZE[1]), fill=(60, 60, 70))
    draw.text((12, SIZE[1] - 21), STATUS, font=ui, fill=(240, 240, 240))
    screen.lines.append(("bottom bar", STATUS))
    return screen


TERMINAL = [
    "user@desk:~/projects/site$ git status",
    "On branch main",
    "Your branch is ahead of 'origin/main' by 2 commits.",
    "Changes not staged for commit:",
    "  modified:   src/pages/index.html",
    "  modified:   src/styles/print.css",
    "user@desk:~/projects/site$ ls -l build",
    "total 48",
    "-rw-r--r-- 1 user user  5120 Mar 14 09:12 index.html",
    "-rw-r--r-- 1 user user 20480 Mar 14 09:12 bundle.js",
    "drwxr-xr-x 2 user user  4096 Mar 14 09:13 images",
    "user@desk:~/projects/site$ python3 -m http.server 8080",
    "Serving HTTP on 0.0.0.0 port 8080 (http://0.0.0.0:8080/) ...",
    "127.0.0.1 - - [14/Mar/2026 09:15:02] \"GET / HTTP/1.1\" 200 -",
    "127.0.0.1 - - [14/Mar/2026 09:15:03] \"GET /bundle.js HTTP/1.1\" 200 -",
]


def terminal() -> Screen:
    """A dense terminal: 12 px monospace, light grey on near black."""
    image = Image.new("RGB", SIZE, (24, 24, 28))
    draw = ImageDraw.Draw(image)
    mono = font(12, mono=True)
    screen = Screen("terminal (12 px monospace)", image)
    for number, line in enumerate(TERMINAL):
        draw.text((700, 240 + number * 17), line, font=mono, fill=(215, 215, 215))
        screen.lines.append(("main area", line))
    return screen


WEB_HEADING = "Community garden opens for the spring season"
WEB_BODY = [
    "The garden on Elm Road reopens on Saturday 5 April at 9 am.",
    "Plots cost 25 pounds a year; 30 are still free for new members.",
    "Bring gloves and a water bottle. Tools are kept in the green shed.",
    "Children under 12 must be with an adult at all times.",
]
WEB_SMALL = ["Posted by Sam Okafor, 2 April 2026", "3 comments", "Share this page"]


def web_page() -> Screen:
    """A web-style article: a heading, body text and small grey text, centred with wide margins."""
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    screen = Screen("web page (small grey text)", image)
    draw.text((560, 200), WEB_HEADING, font=font(26, bold=True), fill=(10, 10, 10))
    screen.lines.append(("main area", WEB_HEADING))
    draw.text((560, 250), WEB_SMALL[0], font=font(12), fill=(120, 120, 120))
    screen.lines.append(("main area", WEB_SMALL[0]))
    for number, line in enumerate(WEB_BODY):
        draw.text((560, 300 + number * 28), line, font=font(16), fill=(40, 40, 40))
        screen.lines.append(("main area", line))
    for number, line in enumerate(WEB_SMALL[1:]):
        draw.text((560, 440 + number * 22), line, font=font(12), fill=(120, 120, 120))
        screen.lines.append(("main area", line))
    return screen


CHAT = [
    ("Alex", "Are we still on for lunch at 12:30?"),
    ("Priya", "Yes! The cafe on Queen Street, table for four."),
    ("Alex", "Great. I will bring the printed tickets."),
    ("Priya", "Train leaves platform 6 at 14:05, do not be late."),
]
CHANNELS = ["# general", "# travel-plans", "# photos", "Direct: Priya"]


def dark_chat() -> Screen:
    """A dark-theme chat app: a channel list on the left, messages in the middle."""
    image = Image.new("RGB", SIZE, (32, 34, 40))
    draw = ImageDraw.Draw(image)
    screen = Screen("dark chat app", image)
    draw.rectangle((0, 0, 240, SIZE[1]), fill=(24, 25, 30))
    for number, channel in enumerate(CHANNELS):
        draw.text((20, 80 + number * 32), channel, font=font(14), fill=(185, 187, 195))
        screen.lines.append(("left column", channel))
    for number, (who, said) in enumerate(CHAT):
        top = 120 + number * 70
        draw.text((600, top), who, font=font(14, bold=True), fill=(235, 235, 240))
        draw.text((600, top + 24), said, font=font(15), fill=(215, 217, 222))
        screen.lines += [("main area", who), ("main area", said)]
    return screen


def all_screens() -> list[Screen]:
    """Every drawn screen."""
    return [application_window(), terminal(), web_page(), dark_chat()]


PAGE = Path(__file__).with_name("pages") / "harbour-times.html"
# The page's text, each line as the browser draws it (nothing wraps), by region in reading order.
PAGE_LINES = [
    *(("top bar", item) for item in ("Harbour Times", "News", "Sport", "Weather", "What's on", "Subscribe")),
    *(("left column", item) for item in ("Sections", "Front page", "Town council", "Schools", "Letters to the editor",
                                         "Obituaries")),
    *(("main area", line) for line in (
        "New bridge over the River Ouse opens on 3 May", "By Hannah Cole, 28 April 2026, 6 min read",
        "The footbridge links Quay Street with the station car park.",
        "It cost 4.2 million pounds and took 19 months to build.",
        "Cyclists must dismount between 7 am and 10 am on weekdays.",
        "The old ferry will run until 30 April, then every Sunday.",
        "Councillor Amir Shah will cut the ribbon at 11:15.",
        "Read the council's full statement (PDF, 2.4 MB)")),
    *(("right column", item) for item in ("Most read", "Bus fares rise by 20p from June",
                                          "Library extends Sunday hours", "Harbour festival line-up announced",
                                          "Road closures this weekend")),
    ("bottom bar", "Copyright 2026 Harbour Times Ltd. Privacy. Contact us."),
]


def browser() -> str | None:
    """Chromium's command, when it is installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_page() -> Screen:
    """A local news page as Chromium draws it at 1920x1080, headless, with a throw-away profile.

    It has a top bar, sections on the left, an article, "Most read" on the right and a footer. Raises RuntimeError
    when Chromium is missing.
    """
    command = browser()
    if command is None:
        raise RuntimeError("Chromium is not installed (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as scratch:
        shot = Path(scratch) / "page.png"
        subprocess.run([command, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--force-device-scale-factor=1", f"--window-size={SIZE[0]},{SIZE[1]}",
                        f"--user-data-dir={scratch}/profile", "--no-first-run", f"--screenshot={shot}",
                        PAGE.as_uri()], check=True, capture_output=True, timeout=120)
        with Image.open(shot) as drawn:
            image = drawn.convert("RGB")
    return Screen("web page in Chromium", image, list(PAGE_LINES))
