"""Failover between speech routes: when the one speaking breaks, say so through one that works and go on.

A :class:`FailoverSpeaker` speaks through the first of its routes (the screen reader's, or the app's own voice).
When that route breaks for good (speech-dispatcher killed, the sound system gone, a device that will not open, the
screen reader refusing speech), it

1. opens the first other route that works now, in order (the broken one comes back by the retries below: a route
   that opens but breaks again at once would otherwise be reopened for ever);
2. says, through it, which route stopped and that it goes on, then the answer from the sentence that was cut;
3. when nothing works, holds that notice and the rest, shows why (``lost``; the app shows it as a status), and
   says them as soon as a route opens;
4. tries the better routes again with a bounded backoff (``RETRY_S``), and goes back to the first one once the
   route speaking now has nothing left to say, saying that speech is back.

:mod:`seeing_assistant.speech.routes` decides which routes and in what order; this module only keeps to it. The
failover runs on a thread of its own: a route reports its break from its own threads, which must never wait on it.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from seeing_assistant.core import messages
from seeing_assistant.core.errors import SeeingAssistantError, short_reason
from seeing_assistant.speech.speaker import KEPT, SilentSpeaker, Speaker
from seeing_assistant.speech.voice import Voice

log = logging.getLogger(__name__)

NO_ONE = "none"
RETRY_S = (0.25, 0.5, 1.0, 2.0, 4.0)  # between tries to reopen a better route; then every RETRY_S[-1], for ever
SETTLED_S = 10.0  # a route that spoke this long before it broke starts the retries afresh; one that broke sooner not
POLL_S = 0.05  # how often wait() looks again while a failover is under way


@dataclass(frozen=True)
class Route:
    """One way to speak: its name (``routes.SCREEN_READER``, ``routes.APP_VOICE``) and how to open its speaker."""

    name: str
    open: Callable[[], Speaker]


class FailoverSpeaker(Speaker):
    """Speaks through ``routes[0]`` (opened as ``first``), failing over to the others in order and coming back.

    ``route`` is the route speaking now (``NO_ONE`` while nothing works); ``on_route_changed(notice)`` is called
    (on the failover thread) with the sentence to show whenever it changes.
    """

    def __init__(self, first: Speaker, routes: list[Route], max_words: int = 25) -> None:
        super().__init__(max_words)
        self.routes = routes
        self.current = first
        self.route = routes[0].name
        self.on_route_changed: Callable[[str], None] | None = None
        self.retry_s = RETRY_S
        self._state = threading.Condition(threading.RLock())
        self._held: list[str] | None = None  # while nothing works: the notice and the rest, to say when one does
        self._breaks: queue.Queue[tuple[Speaker, str] | None] = queue.Queue()
        self._is_failing_over = threading.Event()  # set by a route's own thread the moment it breaks
        self._generation = 0  # counts stops: a stop during a failover drops the rest of that answer
        self._tries = 0
        self._since = time.monotonic()  # when the route speaking now took over
        self._is_closed = False
        self._attach(first)
        self._keeper = threading.Thread(target=self._keep, name="seeing-assistant-speech-failover", daemon=True)
        self._keeper.start()

    # --- What the app calls -------------------------------------------------------------------------------------

    def earcon(self, name: str) -> None:
        """Play the earcon through the route speaking now."""
        with self._state:
            speaker = self.current
        speaker.earcon(name)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the route speaking now has said everything, failovers included.

        While nothing can be heard there is nothing to wait for: True at once, with ``lost`` saying why.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._state:
                speaker, is_held = self.current, self._held is not None
            if is_held and not self._is_failing_over.is_set():
                return True
            remaining = POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.monotonic()))
            if not self._is_failing_over.is_set() and speaker.wait(remaining):
                with self._state:
                    if speaker is self.current and not self._is_failing_over.is_set():
                        return True
            elif self._is_failing_over.is_set():
                with self._state:
                    self._state.wait(remaining)
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def listed_voices(self) -> list[Voice] | None:
        """The voices of the route speaking now."""
        with self._state:
            speaker = self.current
        return speaker.listed_voices()

    def close(self) -> None:
        """Stop trying other routes and release the one speaking now."""
        with self._state:
            self._is_closed = True
            speaker = self.current
            self._state.notify_all()
        self._breaks.put(None)
        self._keeper.join(10)
        speaker.on_broken = None
        speaker.close()

    def _speak(self, sentence: str) -> None:
        super()._speak(sentence)
        with self._state:
            if self._held is not None or self._is_failing_over.is_set():
                self._hold(sentence)
                return
            self.current.speak_sentences([sentence])

    def _silence(self) -> None:
        with self._state:
            self._generation += 1
            if self._held is not None:
                self._held.clear()
            speaker = self.current
        speaker.stop()

    # --- The failover thread ------------------------------------------------------------------------------------

    def _attach(self, speaker: Speaker) -> None:
        speaker.on_error = self._failed  # one bad sentence: told as before
        speaker.on_broken = lambda reason: self._route_broke(speaker, reason)

    def _route_broke(self, speaker: Speaker, reason: str) -> None:
        # On the broken route's own thread, which may hold that route's locks: never wait here.
        self._is_failing_over.set()
        self._breaks.put((speaker, reason))

    def _hold(self, sentence: str) -> None:
        if self._held is None:
            self._held = []
        self._held.append(sentence)
        del self._held[:-KEPT]  # a very long silence keeps the latest part of the answer

    def _keep(self) -> None:
        while True:
            with self._state:
                if self._is_closed:
                    return
                is_away = self._held is not None or self.route != self.routes[0].name
            delay = self.retry_s[min(self._tries, len(self.retry_s) - 1)] if is_away else None
            try:
                event = self._breaks.get(timeout=delay)
            except queue.Empty:
                self._try_better_route()
                continue
            if event is None:
                return
            broken, reason = event
            if broken is self.current:
                self._fail_over(broken, reason)

    def _fail_over(self, broken: Speaker, reason: str) -> None:
        lost = messages.SPOKEN_BY_WHO.get(self.route, self.route)
        with self._state:
            generation = self._generation
        rest = broken.unspoken()
        broken.on_broken = broken.on_error = None
        with contextlib.suppress(Exception):  # a broken route may fail to close cleanly too; it is dropped all the same
            broken.close()
        name, speaker = self._first_that_opens([route for route in self.routes if route.name != self.route])
        with self._state:
            if generation != self._generation:
                rest = []  # the user pressed Stop meanwhile
            rest += self._held or []  # fed while the failover was under way
            if time.monotonic() - self._since > SETTLED_S:
                self._tries = 0
            self._since = time.monotonic()
            if speaker is None:
                notice = messages.SPEECH_ROUTE_NONE.format(lost=lost, reason=reason)
                self.current, self.route, self._held = SilentSpeaker(), NO_ONE, [notice, *rest]
                self.lost = reason
            else:
                now = messages.SPOKEN_BY_WHO.get(name, name)
                notice = messages.SPEECH_ROUTE_LOST.format(lost=lost, reason=reason, now=now)
                self.current, self.route, self._held = speaker, name, None
                self.lost = None
                speaker.earcon("error")
                speaker.speak_sentences([notice, *rest])
            self._is_failing_over.clear()
            self._state.notify_all()
        log.info("Speech failed over to %s: %s", self.route, reason)  # the notice itself is the user's message
        self._tell(notice)

    def _try_better_route(self) -> None:
        """Reopen a better route than the one speaking now, once that one has nothing left to say."""
        with self._state:
            is_held = self._held is not None
            speaker = self.current
            index = len(self.routes) if is_held else next(
                (i for i, route in enumerate(self.routes) if route.name == self.route), len(self.routes))
        if not is_held and not speaker.wait(0):
            return  # never cut the fallback short: look again at the next try
        self._tries += 1
        name, better = self._first_that_opens(self.routes[:index])
        if better is None:
            return
        with self._state:
            if self._is_closed or self._is_failing_over.is_set():
                better.close()
                return
            held = self._held or []
            old = self.current
            self.current, self.route, self._held, self.lost = better, name, None, None
            self._since = time.monotonic()
            now = messages.SPOKEN_BY_WHO.get(name, name)
            notice = messages.SPEECH_ROUTE_BACK.format(now=now)
            better.speak_sentences([notice, *held[1:]] if held else [notice])
            self._state.notify_all()
        old.on_broken = old.on_error = None
        old.close()
        log.info("Speech is back on %s", name)
        self._tell(notice)

    def _first_that_opens(self, routes: list[Route]) -> tuple[str, Speaker | None]:
        for route in routes:
            try:
                speaker = route.open()
            except SeeingAssistantError as error:
                log.info("Route %s is not available: %s", route.name, short_reason(error))
                continue
            self._attach(speaker)
            return route.name, speaker
        return NO_ONE, None

    def _tell(self, notice: str) -> None:
        if self.on_route_changed is not None:
            self.on_route_changed(notice)
