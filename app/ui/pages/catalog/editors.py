"""The model page's editable pieces: alias pills and tag chips (each with a small menu),
a wrapping row to hold them, and a Markdown card that switches to a plain-text editor.

These widgets only *ask* (signals, menu callbacks); the page's write controller plans,
confirms and applies. A disabled action says why in its tooltip and, in a menu, in a
greyed line under the actions (menus do not show a disabled entry's tooltip everywhere).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QFontDatabase, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui import icons
from app.ui.kit.flow import FlowLayout
from app.ui.kit.widgets import named
from app.ui.theme import Tokens

#: one menu entry: its text, its handler, and why it is disabled ("" = enabled)
MenuEntry = tuple[str, Callable[[], object], str]


def fill_menu(menu: QMenu, entries: Sequence[MenuEntry | None]) -> None:
    """``entries`` as actions (None: a separator); the first reason an entry is disabled
    is repeated as a greyed line at the end, so the menu itself says why."""
    menu.clear()
    menu.setToolTipsVisible(True)
    reasons: list[str] = []
    for entry in entries:
        if entry is None:
            menu.addSeparator()
            continue
        text, handler, why = entry
        act = QAction(text, menu)
        act.setEnabled(not why)
        act.setToolTip(why or text)
        act.triggered.connect(lambda _c=False, run=handler: run())
        menu.addAction(act)
        if why and why not in reasons:
            reasons.append(why)
    if reasons:
        menu.addSeparator()
        for why in reasons:
            note = QAction(_short(why), menu)
            note.setEnabled(False)
            note.setToolTip(why)
            menu.addAction(note)


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alias_pill(alias: str, version: str, menu: QMenu) -> QToolButton:
    """``champion v4`` as a pill (``champion`` in the accent) opening ``menu``."""
    pill = named(QToolButton(), "aliasPillAccent" if alias == "champion" else "aliasPill")
    pill.setText(f"{alias}  v{version}  ▾")
    pill.setAccessibleName(f"Alias {alias} at version {version}")
    pill.setToolTip(f"{alias} points at v{version} — click to move or remove it")
    pill.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    pill.setMenu(menu)
    pill.setCursor(Qt.CursorShape.PointingHandCursor)
    return pill


def tag_chip(key: str, value: str, menu: QMenu) -> QToolButton:
    chip = named(QToolButton(), "tagChip")
    shown = value if len(value) <= 40 else value[:39] + "…"
    chip.setText(f"{key} = {shown}" if value else key)
    chip.setAccessibleName(f"Tag {key}")
    chip.setToolTip(f"{key} = {value}\nClick to edit or remove it")
    chip.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    chip.setMenu(menu)
    chip.setCursor(Qt.CursorShape.PointingHandCursor)
    return chip


def add_chip(text: str, why_not: str, handler: Callable[[], object], tip: str) -> QToolButton:
    button = named(QToolButton(), "addChip")
    button.setText(f"+ {text}")
    button.setAccessibleName(text)
    button.setEnabled(not why_not)
    button.setToolTip(why_not or tip)
    button.clicked.connect(handler)
    return button


class ChipFlow(QWidget):
    """Pills and chips, left to right, wrapping onto new lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flow = FlowLayout(self, spacing=6)
        sp = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)

    def clear(self) -> None:
        self.flow.clear()

    def add(self, widget: QWidget) -> None:
        self.flow.addWidget(widget)
        widget.show()

    def widgets(self) -> list[QWidget]:
        out = []
        for i in range(self.flow.count()):
            item = self.flow.itemAt(i)
            w = item.widget() if item is not None else None
            if w is not None:
                out.append(w)
        return out


class FittedBrowser(QTextBrowser):
    """Rendered Markdown as tall as its text (between ``low`` and ``high`` pixels)."""

    def __init__(self, low: int, high: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._low, self._high = low, high
        layout = self.document().documentLayout()
        layout.documentSizeChanged.connect(lambda _size: self.updateGeometry())
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        height = int(self.document().size().height()) + 2 * self.frameWidth() + 10
        return QSize(super().sizeHint().width(), max(self._low, min(height, self._high)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.updateGeometry()


class MarkdownCard(QWidget):
    """A description: rendered Markdown, and an *Edit* button that switches it to a
    plain-text editor with *Save* and *Cancel*. *Save* asks (``sig_save_requested``);
    the page confirms the plan and calls ``finish_edit`` once it is written."""

    sig_save_requested = Signal(str)

    def __init__(
        self,
        title: str,
        tokens: Tokens,
        *,
        empty: str,
        fitted: tuple[int, int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``fitted``: (low, high) — the rendered text takes its own height within these
        bounds (a version's card) instead of filling the space (the model card)."""
        super().__init__(parent)
        self._empty = empty
        self.text = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        head = QHBoxLayout()
        head.setSpacing(8)
        self.heading = named(QLabel(title), "sectionTitle")
        head.addWidget(self.heading)
        self.hint = named(QLabel("Markdown"), "muted")
        self.hint.hide()
        head.addWidget(self.hint)
        head.addStretch(1)
        self.edit_button = named(QPushButton("Edit"), "small")
        self.edit_button.setIcon(icons.icon("pencil-outline", color=tokens.text))
        self.edit_button.setAccessibleName(f"Edit {title.lower()}")
        self.edit_button.clicked.connect(self.start_edit)
        head.addWidget(self.edit_button)
        self.cancel_button = named(QPushButton("Cancel"), "small")
        self.cancel_button.clicked.connect(self.cancel_edit)
        self.save_button = named(QPushButton("Save…"), "primary")
        self.save_button.setToolTip("Show the change, then write it to the registry")
        self.save_button.clicked.connect(lambda: self.sig_save_requested.emit(self.editor_text()))
        for b in (self.cancel_button, self.save_button):
            b.hide()
            head.addWidget(b)
        lay.addLayout(head)
        # the view and the editor are toggled, not stacked: a stack would take the
        # editor's height while the short rendered text is shown
        self._editing = False
        stretch = 0 if fitted else 1
        self.view = FittedBrowser(*fitted) if fitted else QTextBrowser()
        self.view.setOpenExternalLinks(True)
        self.view.setObjectName("markdown")
        self.view.setAccessibleName(title)
        lay.addWidget(self.view, stretch)
        self.editor = named(QPlainTextEdit(), "editor")
        self.editor.setAccessibleName(f"{title} (Markdown source)")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setTabChangesFocus(True)
        self.editor.hide()
        lay.addWidget(self.editor, 1)

    @property
    def editing(self) -> bool:
        return self._editing

    def editor_text(self) -> str:
        return self.editor.toPlainText()

    def set_markdown(self, text: str) -> None:
        """The registry's text (from the cache); an open editor keeps the user's draft."""
        self.text = text
        self.view.setMarkdown(text or self._empty)

    def set_edit_allowed(self, why_not: str, tip: str = "Edit the description (Markdown)") -> None:
        self.edit_button.setEnabled(not why_not)
        self.edit_button.setToolTip(why_not or tip)
        self.save_button.setEnabled(not why_not)
        if why_not:
            self.save_button.setToolTip(why_not)

    def start_edit(self) -> None:
        self.editor.setPlainText(self.text)
        self._buttons(editing=True)
        self.editor.setFocus()

    def cancel_edit(self) -> None:
        self.finish_edit()

    def finish_edit(self) -> None:
        self._buttons(editing=False)

    def _buttons(self, *, editing: bool) -> None:
        self._editing = editing
        self.view.setVisible(not editing)
        self.editor.setVisible(editing)
        self.edit_button.setVisible(not editing)
        self.hint.setVisible(editing)
        self.cancel_button.setVisible(editing)
        self.save_button.setVisible(editing)
