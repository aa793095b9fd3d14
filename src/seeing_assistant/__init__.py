"""Seeing Assistant: ask what is on the screen, in the clipboard or in a photo, offline, and hear the answer."""

__version__ = "0.1.0"
