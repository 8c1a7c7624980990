"""Delegate bases: cells that paint their own content over the themed item background.

``TokenDelegate`` draws the background (selection, hover) and hands back the style
option; ``CellDelegate`` skips the model look-ups a fully custom cell never shows;
``NameDelegate`` keeps the fonts, metrics and elided texts of a name column per base
font (the catalog's and the Health page's name columns paint on top of it).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.ui.theme import Tokens

Index = QModelIndex | QPersistentModelIndex


class TokenDelegate(QStyledItemDelegate):
    """Base of the delegates that paint their own cell content (pills, sparklines,
    split bars) over the themed item background (selection, hover)."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens

    def cell(
        self, painter: QPainter, option: QStyleOptionViewItem, index: Index
    ) -> QStyleOptionViewItem:
        """Draw the item's background and return its style option, text cleared."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        if widget is not None:
            widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        return opt


class CellDelegate(TokenDelegate):
    """A cell that paints all of its content itself: the style draws only the themed
    background (selection, hover), so the option needs nothing from the model."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:
        # QStyledItemDelegate's version asks the model for ~8 roles (font, icon, check
        # state, text…) that these cells never show: 8 Python data() calls per cell
        if isinstance(index, QModelIndex):
            option.index = index


class NameDelegate(CellDelegate):
    """A name column: a plain and a bold face of the cell's font, their metrics, and
    elided texts, kept per base font.

    Building a QFont and QFontMetrics and eliding (a text layout) for every cell of every
    repaint cost more than drawing the text. Subclasses paint; ``PLAIN_WEIGHT`` (None:
    the cell font's own) and ``BOLD_WEIGHT`` choose the faces.
    """

    PLAIN_WEIGHT: QFont.Weight | None = None
    BOLD_WEIGHT = QFont.Weight.DemiBold
    #: elided texts kept before the cache starts over
    ELIDED_MAX = 4096

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(tokens, parent)
        self._base: QFont | None = None
        self._elided: dict[tuple[str, int, bool], tuple[str, int]] = {}
        self.muted = QColor(tokens.muted)
        self.plain = QFont()
        self.bold = QFont()
        self.plain_fm = QFontMetrics(self.plain)
        self.bold_fm = QFontMetrics(self.bold)

    def use_font(self, base: QFont) -> bool:
        """Build the faces for ``base`` unless they are built; True when they were rebuilt."""
        if self._base is not None and self._base == base:
            return False
        self._base = QFont(base)
        self._elided.clear()
        self.plain = QFont(base)
        if self.PLAIN_WEIGHT is not None:
            self.plain.setWeight(self.PLAIN_WEIGHT)
        self.bold = QFont(self.plain)
        self.bold.setWeight(self.BOLD_WEIGHT)
        self.plain_fm = QFontMetrics(self.plain)
        self.bold_fm = QFontMetrics(self.bold)
        return True

    def elide(self, text: str, width: int, bold: bool) -> tuple[str, int]:
        """``text`` elided to ``width`` (right) in the plain or bold face, and its advance."""
        key = (text, width, bold)
        hit = self._elided.get(key)
        if hit is None:
            if len(self._elided) > self.ELIDED_MAX:
                self._elided.clear()
            fm = self.bold_fm if bold else self.plain_fm
            out = fm.elidedText(text, Qt.TextElideMode.ElideRight, width)
            hit = self._elided[key] = (out, fm.horizontalAdvance(out))
        return hit
