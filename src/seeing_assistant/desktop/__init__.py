"""The desktop app: the window and its controllers, widgets, settings dialog, tray, hotkeys and the engine thread."""
