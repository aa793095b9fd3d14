"""Wait until the running app's Conversation (read through AT-SPI, as Orca reads it) contains a text; print JSON.

Usage: atspi_conversation.py TEXT [TIMEOUT]. Runs with Debian's python3 (pyatspi), inside the app's D-Bus session.
Prints {"found": bool, "names": [...], "conversation": "..."}: the names of the app's push buttons, and the text.
"""

import json
import sys
import time
from typing import Any

import pyatspi
from atspi_walk import APP_NAME, walk  # beside this script: Debian's python3 puts its folder first on sys.path


def main() -> int:
    wanted, timeout = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    deadline = time.monotonic() + timeout
    report: dict[str, Any] = {"found": False, "names": [], "conversation": ""}
    while time.monotonic() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        apps = [desktop.getChildAtIndex(index) for index in range(desktop.childCount)]
        for app in [app for app in apps if app is not None and app.name == APP_NAME]:
            report["names"] = sorted({node.name for node in walk(app) if node.getRoleName() == "push button"})
            for node in walk(app):
                if node.getRoleName() == "text" and node.name == "Conversation":
                    report["conversation"] = node.queryText().getText(0, -1)
        if wanted in report["conversation"]:
            report["found"] = True
            break
        time.sleep(0.3)
    print(json.dumps(report))
    return 0 if report["found"] else 1


if __name__ == "__main__":
    sys.exit(main())
