"""Small building blocks every page uses: object names, page header, empty state.

Counts and times are worded by ``app.domain.text`` (the CLI says the same); they are
re-exported here so that a page needs one import for its header and its cells.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.text import counted, exact_time, relative_time
from app.ui import icons

__all__ = ["EmptyState", "PageHeader", "counted", "exact_time", "named", "relative_time"]

W = TypeVar("W", bound=QObject)


def named(widget: W, name: str) -> W:
    """Give ``widget`` an object name (the stylesheet's hook) and return it."""
    widget.setObjectName(name)
    return widget


class PageHeader(QWidget):
    """Title, a muted subtitle, and room on the right for the page's actions."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 12)
        lay.setSpacing(12)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        self.title = named(QLabel(title), "pageTitle")
        self.subtitle = named(QLabel(subtitle), "pageSubtitle")
        texts.addWidget(self.title)
        texts.addWidget(self.subtitle)
        lay.addLayout(texts)
        lay.addStretch(1)
        self.action_bar = QHBoxLayout()
        self.action_bar.setSpacing(8)
        lay.addLayout(self.action_bar)


class EmptyState(QWidget):
    """An empty page that says why it is empty and offers the next step."""

    def __init__(
        self,
        icon: str,
        title: str,
        text: str,
        actions: list[tuple[str, Callable[[], None], bool]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        pic = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        pic.setPixmap(icons.icon(icon, color="#8a8f9c").pixmap(QSize(56, 56)))
        lay.addWidget(pic)
        head = named(QLabel(title, alignment=Qt.AlignmentFlag.AlignCenter), "emptyTitle")
        lay.addWidget(head)
        body = named(QLabel(text, alignment=Qt.AlignmentFlag.AlignCenter), "emptyText")
        body.setWordWrap(True)
        body.setMaximumWidth(520)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(body)
        row.addStretch(1)
        lay.addLayout(row)
        self.buttons: list[QPushButton] = []
        if actions:
            btns = QHBoxLayout()
            btns.addStretch(1)
            for label, handler, primary in actions:
                b = QPushButton(label)
                if primary:
                    b.setObjectName("primary")
                b.clicked.connect(handler)
                btns.addWidget(b)
                self.buttons.append(b)
            btns.addStretch(1)
            lay.addSpacing(8)
            lay.addLayout(btns)
        lay.addStretch(3)
