"""The screen on Wayland: how long a capture takes through the Screenshot portal, against mss on XWayland.

    python -m benchmarks.wayland [--json out.json] [--runs 7]

Runs a private headless sway (``tests.support.sway_session``: sway 1.7, XWayland, PipeWire, xdg-desktop-portal with
its wlr and gtk backends; as an ordinary user when run as root) with a known picture full screen, then, in one
process of that session, alternates ``portal.screenshot()`` and an mss grab of XWayland's screen, ``--runs`` times
each, and reports medians, the ratio, and whether each picture is the true one (the portal's should equal the
picture; XWayland's is one flat colour). Needs Debian's sway, xwayland, pipewire, xdg-desktop-portal(-wlr, -gtk).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from tests.support.cli import SUPPORT
from tests.support.sway_session import SwaySession

MEASURE = """
import json, statistics, sys, time
import mss
from PIL import Image, ImageChops
from seeing_assistant.core import capture, portal
runs = int(sys.argv[1])
expected = Image.open(sys.argv[2]).convert("RGB")
timings = {"portal": [], "xwayland_mss": []}
true, flat = {"portal": True, "xwayland_mss": True}, {"portal": False, "xwayland_mss": True}
for _ in range(runs):
    started = time.perf_counter()
    shot = portal.screenshot()
    timings["portal"].append(time.perf_counter() - started)
    true["portal"] &= ImageChops.difference(shot, expected).getbbox() is None
    flat["portal"] |= capture.is_flat(shot)
    started = time.perf_counter()
    with mss.MSS() as screen:
        raw = screen.grab(screen.monitors[0])
    grabbed = Image.frombytes("RGB", raw.size, raw.bgra, "raw", "BGRX")
    timings["xwayland_mss"].append(time.perf_counter() - started)
    true["xwayland_mss"] &= grabbed.size == expected.size and ImageChops.difference(grabbed, expected).getbbox() is None
    flat["xwayland_mss"] &= capture.is_flat(grabbed)
print(json.dumps({name: {"median_s": round(statistics.median(values), 4), "min_s": round(min(values), 4),
                         "max_s": round(max(values), 4), "true_picture": true[name], "one_flat_colour": flat[name]}
                  for name, values in timings.items()}))
"""


def main(argv: list[str] | None = None) -> int:
    """Start the desktop, measure, print a table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    from tests.desktop.test_wayland import known_picture

    with SwaySession() as desktop:
        picture = desktop.own(known_picture(desktop.folder / "known.png"))
        python, needs = desktop.python()
        viewer = desktop.popen([*python, str(SUPPORT / "show_fullscreen.py"), str(picture)],
                               env=desktop.client_env(QT_QPA_PLATFORM="wayland", **needs), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        try:
            assert viewer.stdout is not None
            if not viewer.stdout.readline().startswith("shown"):
                print("the known picture was not shown: " + desktop.logs(), file=sys.stderr)
                return 1
            done = desktop.run([*python, "-c", MEASURE, str(args.runs), str(picture)],
                               env=desktop.client_env(**needs), timeout=300)
        finally:
            viewer.kill()
            viewer.wait(10)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    results = json.loads(done.stdout.strip().splitlines()[-1])
    portal, xwayland = results["portal"], results["xwayland_mss"]
    report = {"desktop": "headless sway 1.7 (pixman), xdg-desktop-portal 1.16 + wlr 0.7", "runs": args.runs,
              "size": [1280, 800], **results,
              "portal_over_mss": round(portal["median_s"] / xwayland["median_s"], 2) if xwayland["median_s"] else None}
    print("| capture | median | min | max | the true picture | one flat colour |\n|---|---|---|---|---|---|")
    for name in ("portal", "xwayland_mss"):
        row = results[name]
        print(f"| {name} | {row['median_s']} s | {row['min_s']} s | {row['max_s']} s | {row['true_picture']} | "
              f"{row['one_flat_colour']} |")
    print(f"\nportal / mss on XWayland, medians: {report['portal_over_mss']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
