"""The actions the running app accepts from hotkeys, the tray and ``seeing-assistant trigger``."""

ACTIONS = ("describe-screen", "describe-window", "describe-clipboard", "ask", "repeat", "stop", "show", "quit")
