"""The fleet table's painters: sparklines, status pills and the name column, each
rendered once per content and size where a repaint would redo the same work.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QLinearGradient,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QStyleOptionViewItem,
    QWidget,
)

from app.domain.health import (
    DeploymentHealth,
    HealthStatus,
)
from app.ui.kit.delegates import CellDelegate
from app.ui.kit.delegates import NameDelegate as _NameDelegate
from app.ui.kit.pills import PixmapCache, blank_pixmap, paint_status_pill
from app.ui.pages.health.fleet_model import HEALTH_ROLE, SPARK_ROLE
from app.ui.pages.health.spark import Spark
from app.ui.theme import Tokens

_Index = QModelIndex | QPersistentModelIndex


class SparklineDelegate(CellDelegate):
    """Paints a cached ``Spark`` (line + soft fill) and its latest value.

    The antialiased 1.5 px line goes through Qt's general stroker: rendering both paths
    cost more than everything else in a fleet repaint, so each spark is rendered once per
    size and colour into a pixmap, and a repaint only copies it.
    """

    #: room around the plot area for the pen's width and caps
    MARGIN = 2

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(tokens, parent)
        self._pixmaps = PixmapCache()
        self._fonts: tuple[QFont, QFont] | None = None

    def _tnum(self, base: QFont) -> QFont:
        if self._fonts is None or self._fonts[0] != base:
            font = QFont(base)
            font.setFeature(QFont.Tag("tnum"), 1)
            self._fonts = (QFont(base), font)
        return self._fonts[1]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = self.cell(painter, option, index)
        spark: Spark | None = index.data(SPARK_ROLE)
        rect = opt.rect.adjusted(10, 7, -10, -7)
        value_w = 64
        area = QRectF(rect.left(), rect.top(), max(10, rect.width() - value_w - 8), rect.height())
        text_rect = QRectF(area.right() + 8, rect.top(), value_w, rect.height())
        align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
        if spark is None:
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(self.tokens.border), 1, Qt.PenStyle.DashLine))
            y = area.center().y()
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(QColor(self.tokens.muted))
            painter.drawText(text_rect, align, "no data")
            painter.restore()
            return
        h: DeploymentHealth = index.data(HEALTH_ROLE)
        if spark.stale:
            color = self.tokens.muted
        elif h.status in (HealthStatus.HEALTHY, HealthStatus.UNKNOWN):
            color = self.tokens.accent
        else:
            color = getattr(self.tokens, h.status.value)
        w, ht = int(area.width()), int(area.height())
        dpr = painter.device().devicePixelRatioF()
        key = (spark, w, ht, color, dpr)
        pm = self._pixmaps.get(key)
        if pm is None:
            pm = self._pixmaps.put(key, self._render(spark, w, ht, color, dpr))
        m = self.MARGIN
        painter.drawPixmap(QPointF(area.left() - m, area.top() - m), pm)
        painter.save()
        painter.setPen(opt.palette.text().color())
        painter.setFont(self._tnum(opt.font))
        painter.drawText(text_rect, align, spark.last)
        painter.restore()

    def _render(self, spark: Spark, w: int, h: int, color_name: str, dpr: float) -> QPixmap:
        m = self.MARGIN
        pm = blank_pixmap(w + 2 * m, h + 2 * m, dpr)
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(m, m + h)
        painter.scale(w, -h)
        color = QColor(color_name)
        grad = QLinearGradient(0, 1, 0, 0)
        top, bottom = QColor(color), QColor(color)
        top.setAlpha(60)
        bottom.setAlpha(0)
        grad.setColorAt(0, top)
        grad.setColorAt(1, bottom)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(grad))
        painter.drawPath(spark.fill)
        pen = QPen(color, 1.5)
        pen.setCosmetic(True)
        if spark.stale:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(spark.line)
        painter.end()
        return pm


class HealthPillDelegate(CellDelegate):
    """Status as a pill: glyph + text + colour (never colour alone), rendered once per
    status, cell size and font."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(tokens, parent)
        self._pixmaps = PixmapCache(32)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = self.cell(painter, option, index)
        h: DeploymentHealth = index.data(HEALTH_ROLE)
        cell, dpr = opt.rect, painter.device().devicePixelRatioF()
        key = (h.status, cell.width(), cell.height(), opt.font.key(), dpr)
        pm = self._pixmaps.get(key)
        if pm is None:
            pm = blank_pixmap(cell.width(), cell.height(), dpr)
            p = QPainter(pm)
            paint_status_pill(
                p, QRect(0, 0, cell.width(), cell.height()), opt.font, self.tokens, h.status
            )
            p.end()
            self._pixmaps.put(key, pm)
        painter.drawPixmap(cell.topLeft(), pm)


class FleetNameDelegate(_NameDelegate):
    """App name in the body font's semibold, a STALE tag when the data is cached, and the
    model name and versions muted beside it."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(tokens, parent)
        self._degraded = QColor(tokens.degraded)
        self.tag_font = QFont()
        self.tag_size = QSize()
        self.tag_half = 0

    def use_font(self, base: QFont) -> bool:
        if not super().use_font(base):
            return False
        self.tag_font = QFont(base)
        self.tag_font.setPointSizeF(max(7.0, self.tag_font.pointSizeF() - 2))
        self.tag_font.setWeight(QFont.Weight.DemiBold)
        tfm = QFontMetrics(self.tag_font)
        self.tag_size = QSize(tfm.horizontalAdvance("STALE") + 10, tfm.height() + 2)
        self.tag_half = tfm.height() // 2
        return True

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = self.cell(painter, option, index)
        h: DeploymentHealth = index.data(HEALTH_ROLE)
        self.use_font(opt.font)
        r = opt.rect.adjusted(10, 0, -8, 0)
        painter.save()
        painter.setFont(self.bold)
        painter.setPen(opt.palette.text().color())
        name, advance = self.elide(h.deployment.app, r.width(), True)
        painter.drawText(r, Qt.AlignmentFlag.AlignVCenter, name)
        used = advance + 8
        if h.stale:
            tag = QRect(r.left() + used, r.center().y() - self.tag_half - 1, 0, 0)
            tag.setSize(self.tag_size)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self._degraded, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(tag, 4, 4)
            painter.setFont(self.tag_font)
            painter.setPen(self._degraded)
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, "STALE")
            used += tag.width() + 8
        if used < r.width() - 30:
            painter.setFont(opt.font)
            painter.setPen(self.muted)
            versions = "/".join(f"v{v}" for v in h.deployment.traffic)
            rest = f"{h.deployment.model_name} {versions}".strip()
            rest, _ = self.elide(rest, r.width() - used, False)
            painter.drawText(r.adjusted(used, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, rest)
        painter.restore()
