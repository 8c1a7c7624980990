"""The catalog page's search box and table (their keys), and its first-paint watcher."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QTableView


class SearchBox(QLineEdit):
    """Down / Return move to the table; Escape clears, then leaves."""

    sig_leave_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.sig_leave_requested.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            if self.text():
                self.clear()
            else:
                self.sig_leave_requested.emit()
            return
        super().keyPressEvent(event)


class ModelTable(QTableView):
    """Return opens the current model; ``/`` jumps back to the search box."""

    sig_open_requested = Signal(int)
    sig_search_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.sig_open_requested.emit(self.currentIndex().row())
            return
        if event.text() == "/":
            self.sig_search_requested.emit()
            return
        super().keyPressEvent(event)


class PaintWatcher(QObject):
    """Calls ``on_paint`` at each paint of the watched widget (until removed)."""

    def __init__(self, on_paint: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._on_paint = on_paint

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._on_paint()
        return False
