"""The catalog table's painted cells: the name (matched words in bold accent, a health
dot) and the aliases as pills (the kit's alias pills)."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from app.ui.kit import delegates as kit
from app.ui.kit.delegates import CellDelegate, Index
from app.ui.kit.pills import paint_alias_pills
from app.ui.pages.catalog.table_model import ALIASES_ROLE, HEALTH_ROLE, ROW_HEIGHT, TERMS_ROLE


def highlight_spans(text: str, terms: tuple[str, ...], substring: bool) -> list[tuple[int, int]]:
    """``(start, end)`` of each match of ``terms`` in ``text``: at word starts (FTS
    prefix semantics: ``char`` in ``fraud-chargeback``) or anywhere for a substring
    search. Overlaps are merged."""
    if not terms:
        return []
    low = text.lower()
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        at = low.find(term)
        while at != -1:
            if substring or at == 0 or not low[at - 1].isalnum():
                spans.append((at, at + len(term)))
            at = low.find(term, at + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


class ModelNameDelegate(kit.NameDelegate):
    """The model name, matched words in bold accent, and a health dot when one is known."""

    PLAIN_WEIGHT = QFont.Weight.Medium
    BOLD_WEIGHT = QFont.Weight.Bold

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = self.cell(painter, option, index)
        text = str(index.data() or "")
        terms, substring = index.data(TERMS_ROLE) or ((), False)
        health = index.data(HEALTH_ROLE)
        t = self.tokens
        rect = opt.rect.adjusted(8, 0, -6, 0)
        painter.save()
        if health:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(getattr(t, health, t.unknown)))
            painter.drawEllipse(QRect(rect.left(), rect.center().y() - 3, 7, 7))
        if health or getattr(index.model(), "health_known", False):
            rect = rect.adjusted(14, 0, 0, 0)  # names stay aligned, dot or not
        self.use_font(opt.font)
        fm = self.plain_fm
        text_color = QColor(t.text)
        x = rect.left()
        right = rect.right()
        # a baseline, not a rect and flags: drawText(QRect, ...) lays the text out anew
        baseline = rect.top() + (rect.height() + fm.ascent() - fm.descent()) // 2
        pos = 0
        pieces: list[tuple[str, bool]] = []
        for s, e in highlight_spans(text, terms, substring):
            if s > pos:
                pieces.append((text[pos:s], False))
            pieces.append((text[s:e], True))
            pos = e
        if pos < len(text):
            pieces.append((text[pos:], False))
        painter.setClipRect(rect)
        for raw, hot in pieces:
            piece = raw
            w = (self.bold_fm if hot else fm).horizontalAdvance(piece)
            if x + w > right:
                piece = self.elide(piece, right - x, hot)[0]
                w = right - x
            painter.setFont(self.bold if hot else self.plain)
            painter.setPen(QColor(t.accent) if hot else text_color)
            painter.drawText(x, baseline, piece)
            x += w
            if x >= right:
                break
        painter.restore()


class AliasPillDelegate(CellDelegate):
    """Paints aliases as small pills; ``champion`` in the accent colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = self.cell(painter, option, index)
        paint_alias_pills(painter, opt.rect, opt.font, index.data(ALIASES_ROLE) or (), self.tokens)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(180, ROW_HEIGHT)
