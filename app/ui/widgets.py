"""Small building blocks every page uses: page header, empty state, relative times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.ui import icons
from app.ui.theme import Tokens

W = TypeVar("W", bound=QObject)


def named(widget: W, name: str) -> W:
    """Give ``widget`` an object name (the stylesheet's hook) and return it."""
    widget.setObjectName(name)
    return widget


def relative_time(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "—"
    seconds = ((now or datetime.now(tz=UTC)) - when).total_seconds()
    if seconds < 60:
        return "just now"
    for unit, size in (
        ("y", 365 * 86400),
        ("mo", 30 * 86400),
        ("d", 86400),
        ("h", 3600),
        ("min", 60),
    ):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def exact_time(when: datetime | None) -> str:
    if when is None:
        return "unknown"
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


class TokenDelegate(QStyledItemDelegate):
    """Base of the delegates that paint their own cell content (pills, sparklines,
    split bars) over the themed item background (selection, hover)."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens

    def cell(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QStyleOptionViewItem:
        """Draw the item's background and return its style option, text cleared."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        if widget is not None:
            widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        return opt


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


def counted(n: int, noun: str) -> str:
    """``1 app``, ``2 apps``, ``1,000 apps``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


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
