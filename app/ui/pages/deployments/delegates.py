"""The Deployments table's painters: the state as a pill, the traffic split as a bar."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from app.domain.models import Deployment
from app.ui.kit.delegates import TokenDelegate
from app.ui.kit.pills import DEPLOYMENT_PILL, paint_pill
from app.ui.kit.status import deployment_color, deployment_label
from app.ui.pages.deployments.model import DEPLOYMENT_ROLE

_Index = QModelIndex | QPersistentModelIndex


class StatusPillDelegate(TokenDelegate):
    """The state in words, a dot and the state's colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = self.cell(painter, option, index)
        d: Deployment = index.data(DEPLOYMENT_ROLE)
        color = deployment_color(self.tokens, d.status)
        paint_pill(
            painter, opt.rect, opt.font, deployment_label(d.status), color, style=DEPLOYMENT_PILL
        )


class TrafficBarDelegate(TokenDelegate):
    """A split bar: stable version in the accent colour, canary in amber."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        text = str(index.data() or "")
        opt = self.cell(painter, option, index)
        d: Deployment = index.data(DEPLOYMENT_ROLE)
        bar = QRect(opt.rect.left() + 8, opt.rect.center().y() - 3, 64, 6)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self.tokens.hover))
        painter.drawRoundedRect(bar, 3, 3)
        x = bar.left()
        colors = [self.tokens.accent, self.tokens.degraded, self.tokens.muted]
        for i, share in enumerate(d.traffic.values()):
            w = round(bar.width() * share / 100)
            painter.setBrush(QColor(colors[min(i, 2)]))
            painter.drawRoundedRect(QRect(x, bar.top(), max(w, 2), bar.height()), 3, 3)
            x += w
        painter.setPen(opt.palette.text().color())
        painter.drawText(
            opt.rect.adjusted(bar.width() + 16, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text
        )
        painter.restore()
