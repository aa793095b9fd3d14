"""Cut a stream of text pieces into speakable chunks, each handed over the moment it is complete.

A chunk ends at a sentence end (". ", "! ", "? " and the like), at a line break, or, for text that runs on
without either, at a clause boundary once it has grown past ``max_words``. Abbreviations ("e.g.", "Dr.",
"approx."), initials, decimals and version numbers ("3.5", "v1.2"), URLs and list numbers do not end a sentence.
Markdown marks are removed so that they are not read aloud.
"""

from __future__ import annotations

import re

# Words that end in a full stop without ending the sentence (compared in lower case, without the final stop).
ABBREVIATIONS = frozenset(
    "e.g i.e vs approx dr mr mrs ms prof st no fig ca cf al jr sr inc ltd co mt ft min max dept est "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_TERMINATORS = ".!?…"
LONGEST_RUN = 300  # characters held back at most, waiting for a sentence or a word boundary
_CLOSERS = "\"')]}»”’"
_CLAUSE_MARKS = ",;:—–"
_MARKDOWN_LINE = re.compile(r"^\s*(?:#{1,6}\s+|[-*+•]\s+|>\s*)")
_MARKDOWN_INLINE = re.compile(r"\*\*|__|`+|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)")


def clean_markdown(text: str) -> str:
    """Remove markdown marks that a voice would read out: bold and code marks, headings, bullets, quotes."""
    lines = [_MARKDOWN_INLINE.sub("", _MARKDOWN_LINE.sub("", line)) for line in text.splitlines()]
    return " ".join(" ".join(line.split()) for line in lines if line.strip())


class SentenceSplitter:
    """Receives text pieces as a model writes them and returns each chunk as soon as it is complete."""

    def __init__(self, max_words: int = 25) -> None:
        self.max_words = max_words
        self._buffer = ""

    def feed(self, piece: str) -> list[str]:
        """Add a piece of text; return the chunks it completed (often none)."""
        self._buffer += piece
        chunks = []
        while True:
            end = self._find_end(self._buffer)
            if end is None:
                break
            chunk, self._buffer = self._buffer[:end], self._buffer[end:]
            chunks.extend(self._cleaned(chunk))
        return chunks

    def flush(self) -> list[str]:
        """Return whatever is left once the stream has ended."""
        rest, self._buffer = self._buffer, ""
        return self._cleaned(rest)

    def reset(self) -> None:
        """Drop any text not yet returned (a new answer has started)."""
        self._buffer = ""

    @staticmethod
    def _cleaned(chunk: str) -> list[str]:
        text = clean_markdown(chunk)
        return [text] if any(char.isalnum() for char in text) else []

    def _find_end(self, text: str) -> int | None:
        """The index just past the first complete chunk in ``text``, or None when none is complete yet."""
        for index, char in enumerate(text):
            if char == "\n":
                return index + 1
            is_run_start = index == 0 or text[index - 1] not in _TERMINATORS
            if char in _TERMINATORS and is_run_start and self._ends_sentence(text, index):
                end = index + 1
                while end < len(text) and text[end] in _CLOSERS + _TERMINATORS:
                    end += 1
                return end
        return self._long_run_end(text)

    def _ends_sentence(self, text: str, index: int) -> bool:
        """Whether the terminator at ``index`` ends a sentence; needs the character after it (and its closers)."""
        after = index + 1
        while after < len(text) and text[after] in _CLOSERS + _TERMINATORS:
            after += 1
        if after >= len(text):
            return False  # the next piece decides: "3" + ".5", "e" + ".g."
        if not text[after].isspace():
            return False  # "3.5", "v1.2", "example.com/a.b", "e.g."
        run = text[index:after]
        if "..." in run or "…" in run:
            # An ellipsis ends a sentence only when a capital letter follows.
            rest = text[after:].lstrip()
            return bool(rest) and rest[0].isupper()
        if text[index] != ".":
            return True
        word = re.split(r"\s", text[:index])[-1].lstrip("(\"'[")
        if word.lower() in ABBREVIATIONS:
            return False
        if len(word) == 1 and word.isalpha() and word.isupper():
            return False  # an initial: "J. Smith"
        # A number alone at the start of a line is a list item: "1. Open the menu".
        is_list_number = word.isdigit() and (index == len(word) or text[index - len(word) - 1] == "\n")
        return not is_list_number

    def _long_run_end(self, text: str) -> int | None:
        """For text with no sentence end in sight, an end at a clause mark or word boundary past ``max_words``.

        A run of ``LONGEST_RUN`` characters with too few spaces to count words (a long address, a string of symbols)
        is cut at its last space, or at that length, so that it is spoken rather than held back to the end.
        """
        words = list(re.finditer(r"\S+\s", text))
        if len(words) <= self.max_words:
            if len(text) < LONGEST_RUN:
                return None
            space = text.rfind(" ", 0, LONGEST_RUN)
            return space + 1 if space > 0 else LONGEST_RUN
        for match in reversed(words[: self.max_words + 1]):
            if match.group().rstrip()[-1] in _CLAUSE_MARKS:
                return match.end()
        return words[self.max_words - 1].end()
