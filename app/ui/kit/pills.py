"""Pills: a rounded rect of a tone, a label, and (for a status) a dot or a glyph.

One painter, ``paint_pill``, draws every pill in a table cell; a ``PillStyle`` holds
the geometry and the weight of each kind (Health's status, a deployment's state, a
model's aliases). ``Pill`` is the same look as a widget (backend cards). Pictures of
whole cells are kept in a ``PixmapCache`` where a table repaints many equal pills.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from app.domain.health import HealthStatus
from app.ui import icons
from app.ui.kit.status import STATUS_GLYPH, STATUS_LABEL, status_color
from app.ui.kit.styles import rgba
from app.ui.theme import Tokens


@dataclass(frozen=True, slots=True)
class PillStyle:
    """A pill's geometry: label font, paddings, fill, and its leading dot."""

    weight: QFont.Weight
    #: from the cell's left edge to the pill
    inset: int
    #: pill height = the label font's height + ``pad_y``
    pad_y: int
    #: from the pill's left edge to the label, and after the label
    lead: int
    trail: int
    #: the fill: the tone at this alpha (255: solid)
    fill_alpha: int
    #: a dot of the tone ``dot_x`` into the pill (0: none); ``glyph``: a white glyph in it
    dot: float = 0
    dot_x: int = 0
    glyph: bool = False
    #: between pills in a row
    gap: int = 4


#: Health: glyph in a dot, then the status word
STATUS_PILL = PillStyle(
    QFont.Weight.DemiBold, inset=10, pad_y=6, lead=24, trail=10, fill_alpha=34,
    dot=13, dot_x=6, glyph=True,
)  # fmt: skip
#: Deployments: a small dot, then the state
DEPLOYMENT_PILL = PillStyle(
    QFont.Weight.DemiBold, inset=8, pad_y=4, lead=18, trail=6, fill_alpha=38, dot=6, dot_x=8
)
#: the catalog's aliases: solid, label only (``champion`` in the accent)
ALIAS_PILL = PillStyle(QFont.Weight.Medium, inset=8, pad_y=4, lead=7, trail=7, fill_alpha=255)

#: (font key, weight) → a pill label's font and metrics
_FONTS: dict[tuple[str, QFont.Weight], tuple[QFont, QFontMetrics]] = {}
#: (font key, weight, label) → the label's advance
_WIDTHS: dict[tuple[str, QFont.Weight, str], int] = {}


def pill_font(base: QFont, style: PillStyle) -> tuple[QFont, QFontMetrics]:
    """A pill label's font: a point smaller than the cell's (7.5 pt at least)."""
    key = (base.key(), style.weight)
    cached = _FONTS.get(key)
    if cached is None:
        font = QFont(base)
        font.setPointSizeF(max(7.5, font.pointSizeF() - 1))
        font.setWeight(style.weight)
        cached = _FONTS[key] = (font, QFontMetrics(font))
    return cached


def pill_size(label: str, base: QFont, style: PillStyle) -> QSize:
    fm = pill_font(base, style)[1]
    key = (base.key(), style.weight, label)
    w = _WIDTHS.get(key)
    if w is None:
        if len(_WIDTHS) > 4096:
            _WIDTHS.clear()
        w = _WIDTHS[key] = fm.horizontalAdvance(label)
    return QSize(w + style.lead + style.trail, fm.height() + style.pad_y)


def paint_pill(
    painter: QPainter,
    cell: QRect,
    base: QFont,
    label: str,
    color: QColor,
    *,
    style: PillStyle,
    x: int | None = None,
    fill: QColor | None = None,
    glyph: str = "",
) -> int:
    """One pill, vertically centred in ``cell``, from ``x`` (default: the style's inset).

    ``color`` is the tone (label, dot, and the fill at the style's alpha unless ``fill``
    is given). Returns the pill's right edge.
    """
    font, fm = pill_font(base, style)
    size = pill_size(label, base, style)
    w, h = size.width(), size.height()
    left = cell.left() + style.inset if x is None else x
    rect = QRect(left, cell.top() + (cell.height() - h) // 2, w, h)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if fill is None:
        fill = QColor(color)
        fill.setAlpha(style.fill_alpha)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, h / 2, h / 2)
    if style.dot:
        d = style.dot
        dot = QRectF(rect.left() + style.dot_x, rect.center().y() - d / 2, d, d)
        painter.setBrush(color)
        painter.drawEllipse(dot)
        if style.glyph and glyph:
            glyph_font = QFont(font)
            glyph_font.setPointSizeF(font.pointSizeF() - 1.5)
            glyph_font.setWeight(QFont.Weight.Bold)
            painter.setFont(glyph_font)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(dot, Qt.AlignmentFlag.AlignCenter, glyph)
    painter.setPen(color)
    painter.setFont(font)
    # a baseline, not a rect and flags: drawText(QRect, ...) lays the text out anew
    baseline = rect.top() + (h + fm.ascent() - fm.descent()) // 2
    painter.drawText(rect.left() + style.lead, baseline, label)
    painter.restore()
    return rect.right() + 1


def paint_status_pill(
    painter: QPainter, cell: QRect, base: QFont, tokens: Tokens, status: HealthStatus
) -> None:
    """A deployment's health: glyph + word + colour (never colour alone)."""
    paint_pill(
        painter,
        cell,
        base,
        STATUS_LABEL[status],
        status_color(tokens, status),
        style=STATUS_PILL,
        glyph=STATUS_GLYPH[status],
    )


def paint_alias_pills(
    painter: QPainter, cell: QRect, base: QFont, aliases: Iterable[tuple[str, str]], t: Tokens
) -> None:
    """A model's aliases as a row of pills, ``champion`` in the accent; ``…`` when the
    rest does not fit."""
    style = ALIAS_PILL
    x = cell.left() + style.inset
    for alias, version in aliases:
        label = f"{alias} v{version}"
        w = pill_size(label, base, style).width()
        if x + w > cell.right() - 4:
            font, fm = pill_font(base, style)
            h = fm.height() + style.pad_y
            y = cell.top() + (cell.height() - h) // 2
            painter.save()
            painter.setFont(font)
            painter.setPen(QColor(t.muted))
            painter.drawText(x, y + (h + fm.ascent() - fm.descent()) // 2, "…")
            painter.restore()
            break
        champion = alias == "champion"
        text = QColor(t.accent_text if champion else t.text)
        fill = QColor(t.accent if champion else t.hover)
        x = paint_pill(painter, cell, base, label, text, style=style, x=x, fill=fill) + style.gap


class PixmapCache:
    """A small LRU of rendered cell pictures (the visible page's, and some scrolled past)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], QPixmap] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> QPixmap | None:
        pm = self._items.get(key)
        if pm is not None:
            self._items.move_to_end(key)
        return pm

    def put(self, key: tuple[Any, ...], pm: QPixmap) -> QPixmap:
        self._items[key] = pm
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return pm


def blank_pixmap(width: int, height: int, dpr: float) -> QPixmap:
    """A transparent picture of ``width`` × ``height`` logical pixels at ``dpr``."""
    pm = QPixmap(max(1, round(width * dpr)), max(1, round(height * dpr)))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    return pm


class Pill(QFrame):
    """A status pill as a widget: icon + word + colour (never colour alone)."""

    #: the fill's and the border's alpha over the tone
    FILL_ALPHA, BORDER_ALPHA = 0x1F, 0x66

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens
        self.setObjectName("pill")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 10, 2)
        lay.setSpacing(5)
        self.icon = QLabel()
        self.label = QLabel()
        lay.addWidget(self.icon)
        lay.addWidget(self.label)

    def text(self) -> str:
        return self.label.text()

    def show_state(self, icon: str, tone: str, text: str) -> None:
        color = getattr(self.tokens, tone)
        self.icon.setPixmap(icons.icon(icon, color=color).pixmap(QSize(14, 14)))
        self.label.setText(text)
        self.setStyleSheet(pill_qss(color, self.FILL_ALPHA, self.BORDER_ALPHA))
        self.setAccessibleName(f"Status: {text}")


def pill_qss(color: str, fill_alpha: int = 0x1F, border_alpha: int = 0x66) -> str:
    """The stylesheet of a ``Pill`` in ``color`` (a ``#rrggbb`` token)."""
    return (
        f"QFrame#pill {{ background: {rgba(color, fill_alpha)}; border: 1px solid "
        f"{rgba(color, border_alpha)}; border-radius: 11px; }}"
        f"QFrame#pill QLabel {{ color: {color}; font-weight: 600; background: transparent;"
        " border: none; }"
    )
