"""Show an image in a borderless window, then print "shown" and its X window id once it is visible.

Usage: show_image.py IMAGE [LEFT TOP] (default: the top-left corner). Used by screen-capture tests to put known
pixels on a real (Xvfb) screen, as another application's window.
"""

import sys

import mss
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QLabel


def main() -> int:
    app = QApplication(sys.argv[:1])
    label = QLabel()
    label.setWindowFlags(Qt.WindowType.FramelessWindowHint)
    pixmap = QPixmap(sys.argv[1])
    label.setPixmap(pixmap)
    left, top = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, 0)
    label.move(left, top)
    label.show()
    target = pixmap.toImage().pixelColor(10, 10)

    def check() -> None:
        with mss.MSS() as screen:
            shot = screen.grab({"left": left + 10, "top": top + 10, "width": 1, "height": 1})
        blue, green, red = shot.raw[0], shot.raw[1], shot.raw[2]
        if (red, green, blue) == (target.red(), target.green(), target.blue()):
            print("shown", int(label.winId()), flush=True)
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(0, check)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
