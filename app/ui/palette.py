"""Command palette (Ctrl+K): every action of the main window's action table,
fuzzy-matched, plus "Go to model NAME" over the cached catalog."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.kit.styles import catalog_stylesheet
from app.ui.theme import current_tokens


@dataclass(frozen=True)
class PaletteEntry:
    title: str
    hint: str
    run: Callable[[], object]


def fuzzy_score(query: str, text: str) -> int | None:
    """Subsequence match score (higher is better), None when ``query`` is not a
    subsequence of ``text``. Word starts and consecutive letters score more."""
    q, t = query.lower().strip(), text.lower()
    if not q:
        return 0
    if q in t:
        return 1000 - t.index(q) - len(t) // 4
    score, pos, last = 0, 0, -2
    for ch in q:
        found = t.find(ch, pos)
        if found == -1:
            return None
        score += 10 if found == last + 1 else 1
        if found == 0 or not t[found - 1].isalnum():
            score += 8
        last, pos = found, found + 1
    return score - len(t) // 4


class CommandPalette(QFrame):
    """A floating search box over the window; Enter runs, Escape closes."""

    MAX_ROWS = 12

    def __init__(
        self,
        entries: Callable[[], Sequence[PaletteEntry]],
        models: Callable[[str], Sequence[PaletteEntry]],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.setStyleSheet(catalog_stylesheet(current_tokens()))
        self._entries, self._models = entries, models
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        self.input = QLineEdit()
        self.input.setPlaceholderText("Type a command or a model name…")
        self.input.setAccessibleName("Command palette")
        self.input.textChanged.connect(self._refresh)
        self.input.installEventFilter(self)
        lay.addWidget(self.input)
        self.list = QListWidget()
        self.list.setAccessibleName("Commands")
        self.list.setUniformItemSizes(True)
        self.list.itemActivated.connect(self._run_item)
        lay.addWidget(self.list)
        self.hide()

    def open(self) -> None:
        parent = self.parentWidget()
        assert parent is not None
        width = min(640, parent.width() - 80)
        self.setGeometry((parent.width() - width) // 2, 72, width, 420)
        self.input.clear()
        self._refresh()
        self.show()
        self.raise_()
        self.input.setFocus()

    def _refresh(self) -> None:
        text = self.input.text()
        scored = [(s, e) for e in self._entries() if (s := fuzzy_score(text, e.title)) is not None]
        scored.sort(key=lambda se: -se[0])
        found = [e for _s, e in scored]
        if text.strip():
            found += list(self._models(text))
        self.list.clear()
        for entry in found[: self.MAX_ROWS * 3]:
            item = QListWidgetItem(f"{entry.title}\t{entry.hint}" if entry.hint else entry.title)
            item.setData(Qt.ItemDataRole.UserRole, entry)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def titles(self) -> list[str]:
        return [
            self.list.item(i).data(Qt.ItemDataRole.UserRole).title for i in range(self.list.count())
        ]

    def _run_item(self, item: QListWidgetItem) -> None:
        entry: PaletteEntry = item.data(Qt.ItemDataRole.UserRole)
        self.hide()
        entry.run()

    def eventFilter(self, obj: object, event: object) -> bool:
        if (
            obj is self.input
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
        ):
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(row, self.list.count() - 1)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._run_item(item)
                return True
        return super().eventFilter(obj, event)  # type: ignore[arg-type]
