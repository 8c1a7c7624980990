"""A checklist: one row per check, a ✓ or ✗ (or a pending ○) and its evidence text.

The look of the Deploy dialog's pre-flight and the promotion dialog's policy gate: the
glyph is coloured *and* shaped (never colour alone), the check's name in the text
colour, the evidence muted and word-wrapped under it, so long evidence ("canary 42 min
on ray/iris (25 %), error rate 0.3 % ≤ 1.0 %, …") is never clipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from app.ui.kit.widgets import named
from app.ui.theme import Tokens


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One row: ``ok`` True (✓), False (✗) or None (not judged yet, ○)."""

    name: str
    ok: bool | None
    detail: str = ""


class Checklist(QWidget):
    """Rows of ✓/✗ with their evidence; ``set_items`` replaces them, ``set_message``
    shows one line instead (reading…, or why there is nothing to check)."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tokens = tokens
        self.items: tuple[CheckItem, ...] = ()
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(10)
        self._grid.setColumnStretch(1, 1)
        self.setAccessibleName("Checklist")

    def _clear(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def set_message(self, text: str, *, failed: bool = False) -> None:
        self._clear()
        self.items = ()
        label = named(QLabel(text), "checkMessage" if not failed else "checkFailed")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._grid.addWidget(label, 0, 0, 1, 2)

    def set_items(self, items: Sequence[CheckItem]) -> None:
        self._clear()
        self.items = tuple(items)
        t = self._tokens
        for row, item in enumerate(self.items):
            if item.ok is None:
                glyph, color, state = "○", t.muted, "not checked"
            elif item.ok:
                glyph, color, state = "✓", t.healthy, "met"
            else:
                glyph, color, state = "✗", t.failing, "not met"
            mark = QLabel(glyph)
            mark.setStyleSheet(f"color: {color}; font-weight: 700; font-size: 12pt;")
            mark.setFixedWidth(18)
            mark.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            mark.setAccessibleName(f"{item.name}: {state}")
            self._grid.addWidget(mark, row, 0, Qt.AlignmentFlag.AlignTop)
            text = QLabel()
            text.setTextFormat(Qt.TextFormat.RichText)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            detail = (
                f"<br><span style='color:{t.muted}'>{_escape(item.detail)}</span>"
                if item.detail
                else ""
            )
            text.setText(f"<b>{_escape(item.name)}</b>{detail}")
            text.setAccessibleName(f"{item.name}: {state}. {item.detail}")
            self._grid.addWidget(text, row, 1)

    def text(self) -> str:
        """The rows as plain lines (``✓ approvals: …``), for tests and the clipboard."""
        marks = {True: "✓", False: "✗", None: "○"}
        return "\n".join(
            f"{marks[i.ok]} {i.name}" + (f": {i.detail}" if i.detail else "") for i in self.items
        )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
