"""Show an image full screen as a Wayland (or any) client, then print "shown" once it has been painted.

Usage: show_fullscreen.py IMAGE. Used by the Wayland capture tests to put known pixels on a compositor's screen: an
image the size of the output, drawn 1:1, so that a true screenshot equals the image pixel for pixel.
"""

import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QApplication, QWidget


class Picture(QWidget):
    def __init__(self, pixmap: QPixmap) -> None:
        super().__init__()
        self.pixmap = pixmap
        self.painted = False
        self.setWindowTitle("Known picture")
        self.setCursor(Qt.CursorShape.BlankCursor)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        painter.drawPixmap(0, 0, self.pixmap)
        painter.end()
        if not self.painted:
            self.painted = True
            QTimer.singleShot(500, lambda: print("shown", flush=True))  # once the compositor has shown the frame


def main() -> int:
    app = QApplication(sys.argv[:1])
    picture = Picture(QPixmap(sys.argv[1]))
    picture.showFullScreen()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
