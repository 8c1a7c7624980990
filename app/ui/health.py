"""Health page: the fleet, worst first, and one deployment's charts (``model_health``).

The fleet table is one ``QAbstractTableModel`` over ``DeploymentHealth`` rows;
sparklines are painted by a ``QStyledItemDelegate`` from ``QPainterPath``s built
(and decimated) once per poll, in unit coordinates, so a repaint only scales them.
pyqtgraph is imported only when a deployment's charts are first opened.

``HealthController`` polls on an interval through the ``TaskRunner`` (a tick is
skipped while the last poll still runs) and raises a desktop notification when
a deployment's status gets worse.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyleOptionViewItem,
    QSystemTrayIcon,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.health import (
    ERROR_RATE,
    LATENCY_P95,
    REPLICAS,
    RPS,
    WINDOWS,
    DeploymentHealth,
    FleetReport,
    HealthStatus,
    StatusChange,
    changes,
    format_duration,
    format_value,
)
from app.ui import icons
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens, current_tokens
from app.ui.widgets import EmptyState, PageHeader, TokenDelegate, counted, named

log = logging.getLogger(__name__)
_Index = QModelIndex | QPersistentModelIndex

HEADERS = ("Status", "Deployment", "Target", "p95 latency", "Error rate", "RPS", "Replicas", "Why")
STATUS_COL, NAME_COL, TARGET_COL, P95_COL, ERR_COL, RPS_COL, REPLICAS_COL, WHY_COL = range(8)
HEALTH_ROLE = Qt.ItemDataRole.UserRole + 1
SPARK_ROLE = Qt.ItemDataRole.UserRole + 2

STATUS_LABEL = {
    HealthStatus.FAILING: "Failing",
    HealthStatus.DEGRADED: "Degraded",
    HealthStatus.UNKNOWN: "Unknown",
    HealthStatus.HEALTHY: "Healthy",
}
#: the glyph that says the status without colour
STATUS_GLYPH = {
    HealthStatus.FAILING: "✕",
    HealthStatus.DEGRADED: "!",
    HealthStatus.UNKNOWN: "?",
    HealthStatus.HEALTHY: "✓",
}
SPARK_POINTS = 64


def status_color(tokens: Tokens, status: HealthStatus) -> QColor:
    return QColor(getattr(tokens, status.value))


# ------------------------------------------------------------------ sparklines
class Spark:
    """A decimated series as a path in unit coordinates (x, y in [0, 1], y up)."""

    __slots__ = ("fill", "last", "line", "stale")

    def __init__(self, line: QPainterPath, fill: QPainterPath, last: str, stale: bool) -> None:
        self.line, self.fill, self.last, self.stale = line, fill, last, stale

    @classmethod
    def build(
        cls,
        t: Sequence[float],
        v: Sequence[float],
        *,
        span: tuple[float, float],
        last: str,
        stale: bool = False,
        floor_zero: bool = True,
    ) -> Spark | None:
        pts = [(x, y) for x, y in zip(t, v, strict=True) if math.isfinite(y)]
        if not pts:
            return None
        t0, t1 = span
        width = max(t1 - t0, 1e-9)
        # decimate: min and max per bucket keep spikes visible
        buckets: dict[int, tuple[float, float, float, float]] = {}
        for x, y in pts:
            b = min(SPARK_POINTS - 1, max(0, int((x - t0) / width * SPARK_POINTS)))
            cur = buckets.get(b)
            if cur is None:
                buckets[b] = (x, y, x, y)
            else:
                lo = cur[:2] if cur[1] <= y else (x, y)
                hi = cur[2:] if cur[3] >= y else (x, y)
                buckets[b] = (*lo, *hi)
        ordered: list[tuple[float, float]] = []
        for b in sorted(buckets):
            lx, ly, hx, hy = buckets[b]
            ordered += sorted({(lx, ly), (hx, hy)})
        ys = [y for _, y in ordered]
        lo_y, hi_y = min(ys), max(ys)
        # small wiggles must not look like big moves: at least 40 % of the level as span
        min_span = max(0.4 * max(abs(lo_y), abs(hi_y)), 1e-9)
        if hi_y - lo_y < min_span:
            mid = (hi_y + lo_y) / 2
            lo_y, hi_y = mid - min_span / 2, mid + min_span / 2
        if floor_zero and lo_y < 0 <= min(ys):
            lo_y, hi_y = 0.0, max(hi_y - lo_y, hi_y)
        pad = (hi_y - lo_y) * 0.08
        lo_y, hi_y = lo_y - pad, hi_y + pad
        line = QPainterPath()
        prev_x: float | None = None
        gap = 3 * width / SPARK_POINTS
        for i, (x, y) in enumerate(ordered):
            px = (x - t0) / width
            py = (y - lo_y) / (hi_y - lo_y)
            if i == 0 or (prev_x is not None and x - prev_x > gap):
                line.moveTo(px, py)
            else:
                line.lineTo(px, py)
            prev_x = x
        fill = QPainterPath(line)
        first_x = (ordered[0][0] - t0) / width
        last_x = (ordered[-1][0] - t0) / width
        fill.lineTo(last_x, 0)
        fill.lineTo(first_x, 0)
        fill.closeSubpath()
        return cls(line, fill, last, stale)


def _spark_for(h: DeploymentHealth, key: str) -> Spark | None:
    data = h.signals.get(key)
    if data is None or not data.series:
        return None
    s = data.series[0]
    value = h.verdict.figures.get(key)
    scale = 100.0 if key == ERROR_RATE else 1.0
    span = (h.at - WINDOWS.get(h.window, 3600), h.at)
    return Spark.build(
        s.t,
        [y * scale for y in s.v] if scale != 1.0 else s.v,
        span=span,
        last=format_value(value, data.spec.unit),
        stale=h.stale,
    )


class _CellDelegate(TokenDelegate):
    """A cell that paints all of its content itself: the style draws only the themed
    background (selection, hover), so the option needs nothing from the model."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: _Index) -> None:
        # QStyledItemDelegate's version asks the model for ~8 roles (font, icon, check
        # state, text…) that these cells never show: 8 Python data() calls per cell
        if isinstance(index, QModelIndex):
            option.index = index


class _Pixmaps:
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


def _blank(width: int, height: int, dpr: float) -> QPixmap:
    pm = QPixmap(max(1, round(width * dpr)), max(1, round(height * dpr)))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    return pm


class SparklineDelegate(_CellDelegate):
    """Paints a cached ``Spark`` (line + soft fill) and its latest value.

    The antialiased 1.5 px line goes through Qt's general stroker: rendering both paths
    cost more than everything else in a fleet repaint, so each spark is rendered once per
    size and colour into a pixmap, and a repaint only copies it.
    """

    #: room around the plot area for the pen's width and caps
    MARGIN = 2

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(tokens, parent)
        self._pixmaps = _Pixmaps()
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
        pm = _blank(w + 2 * m, h + 2 * m, dpr)
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


class HealthPillDelegate(_CellDelegate):
    """Status as a pill: glyph + text + colour (never colour alone), rendered once per
    status, cell size and font."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(tokens, parent)
        self._pixmaps = _Pixmaps(32)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = self.cell(painter, option, index)
        h: DeploymentHealth = index.data(HEALTH_ROLE)
        cell, dpr = opt.rect, painter.device().devicePixelRatioF()
        key = (h.status, cell.width(), cell.height(), opt.font.key(), dpr)
        pm = self._pixmaps.get(key)
        if pm is None:
            pm = _blank(cell.width(), cell.height(), dpr)
            p = QPainter(pm)
            paint_pill(p, QRect(0, 0, cell.width(), cell.height()), opt.font, self.tokens, h.status)
            p.end()
            self._pixmaps.put(key, pm)
        painter.drawPixmap(cell.topLeft(), pm)


def paint_pill(
    painter: QPainter,
    cell: QRect,
    base: QFont,
    tokens: Tokens,
    status: HealthStatus,
    *,
    stale: bool = False,
) -> None:
    label = STATUS_LABEL[status]
    color = status_color(tokens, status)
    font = QFont(base)
    font.setPointSizeF(max(7.5, font.pointSizeF() - 1))
    font.setWeight(QFont.Weight.DemiBold)
    fm = QFontMetrics(font)
    h = fm.height() + 6
    w = fm.horizontalAdvance(label) + 34
    rect = QRect(cell.left() + 10, cell.top() + (cell.height() - h) // 2, w, h)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    fill = QColor(color)
    fill.setAlpha(34)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, h / 2, h / 2)
    dot = QRectF(rect.left() + 6, rect.center().y() - 6.5, 13, 13)
    painter.setBrush(color)
    painter.drawEllipse(dot)
    glyph_font = QFont(font)
    glyph_font.setPointSizeF(font.pointSizeF() - 1.5)
    glyph_font.setWeight(QFont.Weight.Bold)
    painter.setFont(glyph_font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(dot, Qt.AlignmentFlag.AlignCenter, STATUS_GLYPH[status])
    painter.setPen(color)
    painter.setFont(font)
    painter.drawText(rect.adjusted(24, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, label)
    painter.restore()


# ------------------------------------------------------------------ table model
class FleetModel(QAbstractTableModel):
    """Every deployment's health, worst first; filtering happens here, not in a proxy."""

    def __init__(self, tokens: Tokens, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens
        self._all: list[DeploymentHealth] = []
        self._sparks: list[tuple[Spark | None, Spark | None]] = []
        self._display: list[tuple[str | None, ...]] = []
        self._muted = QColor(tokens.muted)
        self._rows: list[int] = []
        self._statuses: set[HealthStatus] = set()
        self._target = ""
        self._text = ""

    def set_report(self, rows: Sequence[DeploymentHealth]) -> None:
        self.beginResetModel()
        self._all = list(rows)
        self._sparks = [(_spark_for(h, LATENCY_P95), _spark_for(h, ERROR_RATE)) for h in rows]
        self._display = [_display_row(h) for h in rows]
        self._rows = self._filtered()
        self.endResetModel()

    def set_filter(
        self, *, statuses: set[HealthStatus] | None = None, target: str = "", text: str = ""
    ) -> None:
        self.beginResetModel()
        self._statuses = set(statuses or ())
        self._target = target
        self._text = text.strip().lower()
        self._rows = self._filtered()
        self.endResetModel()

    def _filtered(self) -> list[int]:
        out = []
        words = self._text.split()
        for i, h in enumerate(self._all):
            d = h.deployment
            if self._statuses and h.status not in self._statuses:
                continue
            if self._target and d.target != self._target:
                continue
            if words:
                hay = f"{d.app} {d.model_name} {d.target} {h.verdict.why}".lower()
                if not all(w in hay for w in words):
                    continue
            out.append(i)
        return out

    def health_at(self, row: int) -> DeploymentHealth:
        return self._all[self._rows[row]]

    @property
    def all_rows(self) -> list[DeploymentHealth]:
        return self._all

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # called ~8 times per painted cell, mostly for roles this model never sets
        if role not in _ROLES:
            return None
        row = index.row()
        if row < 0 or row >= len(self._rows):  # an invalid index has row -1
            return None
        i = self._rows[row]
        col = index.column()
        if role == HEALTH_ROLE:
            return self._all[i]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display[i][col]
        if role == SPARK_ROLE:
            if col == P95_COL:
                return self._sparks[i][0]
            if col == ERR_COL:
                return self._sparks[i][1]
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._muted if col in (TARGET_COL, WHY_COL) else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if col in (RPS_COL, REPLICAS_COL) else None
        h = self._all[i]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col in (WHY_COL, STATUS_COL):
                lines = [f"{STATUS_LABEL[h.status]}: " + "\n".join(h.verdict.reasons)]
                if h.stale:
                    lines.append("(from the local cache: the metrics source is unreachable)")
                return "\n".join(lines)
            if col == NAME_COL:
                versions = "  ".join(f"v{v} {p}%" for v, p in h.deployment.traffic.items())
                return f"{h.deployment.model_name}  {versions}".strip()
            if col in (P95_COL, ERR_COL):
                key = LATENCY_P95 if col == P95_COL else ERROR_RATE
                data = h.signals.get(key)
                return data.promql if data else None
            return None
        # AccessibleTextRole
        return f"{h.deployment.app}: {STATUS_LABEL[h.status]}, {h.verdict.why}"


def _display_row(h: DeploymentHealth) -> tuple[str | None, ...]:
    """The DisplayRole text of every column, formatted once per poll, not per paint."""
    f = h.verdict.figures
    rps = h.signals.get(RPS)
    replicas = f.get(REPLICAS)
    return (
        STATUS_LABEL[h.status],
        h.deployment.app,
        h.deployment.target,
        None,  # p95: a sparkline
        None,  # error rate: a sparkline
        format_value(f.get(RPS), rps.spec.unit) if rps else "—",
        "—" if replicas is None else f"{replicas:.0f} / {h.deployment.replicas}",
        h.verdict.why,
    )


_ROLES = frozenset(
    int(r)
    for r in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.AccessibleTextRole,
        HEALTH_ROLE,
        SPARK_ROLE,
    )
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class NameDelegate(_CellDelegate):
    """App name in the body font, model name muted beside it.

    Fonts, metrics and elided texts are kept per base font: building a QFont and
    QFontMetrics and eliding (a text layout) for every cell of every repaint cost
    more than drawing the text.
    """

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(tokens, parent)
        self._base: QFont | None = None
        self._elided: dict[tuple[str, int, bool], tuple[str, int]] = {}
        self._muted = QColor(tokens.muted)
        self._degraded = QColor(tokens.degraded)

    def _fonts(self, base: QFont) -> None:
        if self._base is not None and self._base == base:
            return
        self._base = QFont(base)
        self._elided.clear()
        self.bold = QFont(base)
        self.bold.setWeight(QFont.Weight.DemiBold)
        self.bold_fm = QFontMetrics(self.bold)
        self.plain_fm = QFontMetrics(base)
        self.tag_font = QFont(base)
        self.tag_font.setPointSizeF(max(7.0, self.tag_font.pointSizeF() - 2))
        self.tag_font.setWeight(QFont.Weight.DemiBold)
        tfm = QFontMetrics(self.tag_font)
        self.tag_size = QSize(tfm.horizontalAdvance("STALE") + 10, tfm.height() + 2)
        self.tag_half = tfm.height() // 2

    def _elide(self, text: str, width: int, bold: bool) -> tuple[str, int]:
        """``text`` elided to ``width`` and its advance."""
        key = (text, width, bold)
        hit = self._elided.get(key)
        if hit is None:
            if len(self._elided) > 4096:
                self._elided.clear()
            fm = self.bold_fm if bold else self.plain_fm
            out = fm.elidedText(text, Qt.TextElideMode.ElideRight, width)
            hit = self._elided[key] = (out, fm.horizontalAdvance(out))
        return hit

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = self.cell(painter, option, index)
        h: DeploymentHealth = index.data(HEALTH_ROLE)
        self._fonts(opt.font)
        r = opt.rect.adjusted(10, 0, -8, 0)
        painter.save()
        painter.setFont(self.bold)
        painter.setPen(opt.palette.text().color())
        name, advance = self._elide(h.deployment.app, r.width(), True)
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
            painter.setPen(self._muted)
            versions = "/".join(f"v{v}" for v in h.deployment.traffic)
            rest = f"{h.deployment.model_name} {versions}".strip()
            rest, _ = self._elide(rest, r.width() - used, False)
            painter.drawText(r.adjusted(used, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, rest)
        painter.restore()


# ------------------------------------------------------------------ polling + alerts
class HealthController(QObject):
    """Background polls of the fleet; alerts when a status gets worse."""

    sig_report = Signal(object)  # FleetReport
    sig_failed = Signal(str)
    sig_running_changed = Signal(bool)
    sig_worsened = Signal(list)  # list[StatusChange]

    def __init__(
        self,
        poll: Callable[..., FleetReport],
        known: Callable[[], dict[tuple[str, str], HealthStatus]],
        tasks: TaskRunner,
        parent: QObject | None = None,
        *,
        interval_s: int = 60,
    ) -> None:
        super().__init__(parent)
        self._poll, self._known, self._tasks = poll, known, tasks
        self.window = "1h"
        self.running = False
        self.skipped = 0
        self._before: dict[tuple[str, str], HealthStatus] | None = None
        self.last: FleetReport | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll_now)
        self.set_interval(interval_s)
        self.tray: QSystemTrayIcon | None = None

    def set_interval(self, seconds: int) -> None:
        self.timer.stop()
        if seconds > 0:
            self.timer.start(seconds * 1000)

    def stop(self) -> None:
        self.timer.stop()

    def poll_now(self) -> bool:
        """Start a poll unless one is running (then the tick is skipped). True if started."""
        if self.running:
            self.skipped += 1
            log.info("health: poll skipped, the last one still runs")
            return False
        self.running = True
        self.sig_running_changed.emit(True)
        known, poll, before = self._known, self._poll, self._before
        window = self.window

        def work() -> tuple[dict[tuple[str, str], HealthStatus], FleetReport]:
            prior = before if before is not None else known()
            return prior, poll(window=window)

        self._tasks.run(work, name="health poll", on_done=self._done, on_error=self._failed)
        return True

    def _done(self, result: tuple[dict[tuple[str, str], HealthStatus], FleetReport]) -> None:
        prior, report = result
        self.running = False
        self.sig_running_changed.emit(False)
        self.last = report
        worse = [c for c in changes(prior, report) if c.worse]
        self._before = {h.key: h.status for h in report.deployments}
        self.sig_report.emit(report)
        if worse:
            self.sig_worsened.emit(worse)
            self.notify(worse)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.sig_running_changed.emit(False)
        self.sig_failed.emit(str(exc))

    def notify(self, worse: Sequence[StatusChange]) -> bool:
        """A desktop notification; False when the platform has no system tray."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            log.info("health: no system tray; %d status change(s) not notified", len(worse))
            return False
        if self.tray is None:
            from app.ui.theme import app_icon

            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.show()
        first = worse[0]
        title = f"{first.app} is {first.after.value}" + (
            f" (+{len(worse) - 1} more)" if len(worse) > 1 else ""
        )
        icon = (
            QSystemTrayIcon.MessageIcon.Critical
            if first.after is HealthStatus.FAILING
            else QSystemTrayIcon.MessageIcon.Warning
        )
        self.tray.showMessage(title, first.why, icon, 10_000)
        return True


# ------------------------------------------------------------------ page
_PAGE_QSS = """
QPushButton#chip {{
    background: {surface}; border: 1px solid {border}; border-radius: 13px;
    padding: 3px 12px; color: {text}; min-height: 18px;
}}
QPushButton#chip:hover {{ background: {hover}; }}
QPushButton#chip:checked {{
    background: {accent_soft}; border: 1px solid {accent}; color: {accent}; font-weight: 600;
}}
QPushButton#segment {{
    background: {surface}; border: 1px solid {border}; border-radius: 0; padding: 4px 12px;
    min-width: 28px;
}}
QPushButton#segment:checked {{ background: {accent_soft}; color: {accent}; font-weight: 600; }}
QPushButton#segmentFirst {{
    background: {surface}; border: 1px solid {border}; border-top-left-radius: 7px;
    border-bottom-left-radius: 7px; border-top-right-radius: 0; border-bottom-right-radius: 0;
    padding: 4px 12px;
}}
QPushButton#segmentLast {{
    background: {surface}; border: 1px solid {border}; border-top-right-radius: 7px;
    border-bottom-right-radius: 7px; border-top-left-radius: 0; border-bottom-left-radius: 0;
    padding: 4px 12px;
}}
QPushButton#segmentFirst:checked, QPushButton#segmentLast:checked {{
    background: {accent_soft}; color: {accent}; font-weight: 600;
}}
QComboBox {{
    background: {surface}; border: 1px solid {border}; border-radius: 8px; padding: 5px 10px;
    min-width: 120px;
}}
QComboBox::drop-down {{ border: none; width: 22px; }}
QFrame#offline {{
    background: {warn_soft}; border: 1px solid {degraded}; border-radius: 8px;
}}
QLabel#offlineText {{ color: {text}; }}
QLabel#kpi {{ color: {muted}; }}
"""


def page_qss(t: Tokens) -> str:
    warn = QColor(t.degraded)
    warn.setAlpha(30)
    return _PAGE_QSS.format(
        surface=t.surface,
        border=t.border,
        text=t.text,
        hover=t.hover,
        accent=t.accent,
        accent_soft=t.accent_soft,
        degraded=t.degraded,
        muted=t.muted,
        warn_soft=f"rgba({warn.red()}, {warn.green()}, {warn.blue()}, 0.12)",
    )


def segmented(labels: Sequence[str], parent: QWidget | None = None) -> tuple[QWidget, QButtonGroup]:
    box = QWidget(parent)
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    group = QButtonGroup(box)
    group.setExclusive(True)
    for i, label in enumerate(labels):
        name = "segmentFirst" if i == 0 else "segmentLast" if i == len(labels) - 1 else "segment"
        b = named(QPushButton(label), name)
        b.setCheckable(True)
        # room for the label in the checked state's semibold too, so it never clips
        bold = QFont(b.font())
        bold.setWeight(QFont.Weight.DemiBold)
        b.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(label) + 30)
        b.setAccessibleName(f"Window {label}")
        b.setCursor(Qt.CursorShape.PointingHandCursor)
        group.addButton(b, i)
        lay.addWidget(b)
    return box, group


class HealthPage(QWidget):
    """The fleet table, and a deployment's charts opened from it (same page, Esc to return)."""

    sig_open_requested = Signal(str, str)  # target, app

    def __init__(
        self,
        service: Any,
        tasks: TaskRunner,
        tokens: Tokens | None = None,
        parent: QWidget | None = None,
        *,
        poll_seconds: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.service = service
        self.tasks = tasks
        self.tokens = tokens or current_tokens()
        self.setStyleSheet(page_qss(self.tokens))
        self.report: FleetReport | None = None
        self.detail: Any = None  # ModelHealthView, built on first open

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack)

        fleet = QWidget()
        lay = QVBoxLayout(fleet)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = PageHeader("Health", "Waiting for the first poll…")
        self.header.subtitle.setMinimumWidth(760)
        win_box, self.window_group = segmented(list(WINDOWS))
        self.window_group.button(0).setChecked(True)
        self.window_group.idClicked.connect(self._window_changed)
        self.header.action_bar.addWidget(win_box)
        self.refresh_button = QPushButton(icons.icon("refresh", color=self.tokens.text), "")
        self.refresh_button.setToolTip("Poll the metrics sources now (F5)")
        self.refresh_button.setAccessibleName("Refresh health")
        self.refresh_button.clicked.connect(self.refresh)
        self.header.action_bar.addWidget(self.refresh_button)
        lay.addWidget(self.header)

        bar = self._filter_bar = QHBoxLayout()
        bar.setContentsMargins(24, 0, 24, 12)
        bar.setSpacing(8)
        self.chip_group = QButtonGroup(self)
        self.chip_group.setExclusive(True)
        self.chips: dict[str, QPushButton] = {}
        for key in ("all", *[s.value for s in _CHIP_ORDER]):  # texts set by _set_chip
            chip = named(QPushButton(key.capitalize()), "chip")
            chip.setCheckable(True)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            if key != "all":
                chip.setIcon(_dot_icon(status_color(self.tokens, HealthStatus(key))))
                chip.setIconSize(QSize(8, 8))
            chip.setAccessibleName(f"Show {key}")
            self.chip_group.addButton(chip)
            self.chips[key] = chip
            chip.clicked.connect(self._apply_filter)
            bar.addWidget(chip)
            self._set_chip(key, "All" if key == "all" else STATUS_LABEL[HealthStatus(key)])
        self.chips["all"].setChecked(True)
        bar.addSpacing(8)
        self.target_box = QComboBox()
        self.target_box.setAccessibleName("Target")
        self.target_box.addItem("All targets", "")
        self.target_box.currentIndexChanged.connect(self._apply_filter)
        bar.addWidget(self.target_box)
        bar.addStretch(1)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search app, model, target or reason…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search deployments")
        self.search.setFixedWidth(320)
        self.search.addAction(
            icons.icon("magnify", color=self.tokens.muted),
            QLineEdit.ActionPosition.LeadingPosition,
        )
        self.search.textChanged.connect(self._apply_filter)
        bar.addWidget(self.search)
        lay.addLayout(bar)

        self.offline = named(QFrame(), "offline")
        ol = QHBoxLayout(self.offline)
        ol.setContentsMargins(12, 8, 12, 8)
        icon = QLabel()
        icon.setPixmap(icons.icon("cloud-off-outline", color=self.tokens.degraded).pixmap(18))
        ol.addWidget(icon)
        self.offline_text = named(QLabel(), "offlineText")
        self.offline_text.setWordWrap(True)
        ol.addWidget(self.offline_text, 1)
        wrap = QHBoxLayout()
        wrap.setContentsMargins(24, 0, 24, 12)
        wrap.addWidget(self.offline)
        lay.addLayout(wrap)
        self.offline.hide()

        self.model = FleetModel(self.tokens, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Deployment health")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setMouseTracking(True)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.table.verticalHeader()
        vh.hide()
        vh.setDefaultSectionSize(40)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh = self.table.horizontalHeader()
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setStretchLastSection(True)
        hh.setHighlightSections(False)
        for col, width in enumerate((128, 250, 110, 190, 190, 96, 86)):
            self.table.setColumnWidth(col, width)
        self.table.setItemDelegateForColumn(STATUS_COL, HealthPillDelegate(self.tokens, self.table))
        self.table.setItemDelegateForColumn(NAME_COL, NameDelegate(self.tokens, self.table))
        spark = SparklineDelegate(self.tokens, self.table)
        self.table.setItemDelegateForColumn(P95_COL, spark)
        self.table.setItemDelegateForColumn(ERR_COL, spark)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)

        self.body = QStackedWidget()
        tbl = QWidget()
        tl = QVBoxLayout(tbl)
        tl.setContentsMargins(24, 0, 24, 16)
        tl.addWidget(self.table)
        self.body.addWidget(tbl)
        self.empty = EmptyState(
            "heart-pulse",
            "No deployments to watch yet",
            "Deploy a model to a Ray Serve cluster (or sync one that already runs), add the "
            "Prometheus that scrapes it in Backends, and every deployment shows up here, "
            "worst first.",
        )
        self.body.addWidget(self.empty)
        self.no_match = EmptyState(
            "filter-remove-outline",
            "Nothing matches",
            "No deployment matches the status, target and search filters. Clear them to "
            "see the whole fleet.",
            [("Clear filters", self.clear_filters, True)],
        )
        self.body.addWidget(self.no_match)
        lay.addWidget(self.body, 1)
        self.stack.addWidget(fleet)
        self.fleet_widget = fleet

        self.controller = HealthController(
            service.fleet, service.known_statuses, tasks, self, interval_s=0
        )
        self.controller.sig_report.connect(self.show_report)
        self.controller.sig_failed.connect(self._poll_failed)
        self.controller.sig_running_changed.connect(self._running)
        if poll_seconds is None:
            try:
                poll_seconds = int(service.settings().poll_seconds)
            except Exception as exc:  # a broken [health] table must not stop the page
                log.warning("health settings: %s", exc)
                poll_seconds = 60
        self.poll_seconds = poll_seconds
        self._updated_at: float | None = None
        self._age_timer = QTimer(self)
        self._age_timer.timeout.connect(self._update_subtitle)
        self._age_timer.start(10_000)

    # ------------------------------------------------------------- polling
    def start(self) -> None:
        """First poll now, then every ``poll_seconds`` (0: only on demand)."""
        self.controller.set_interval(self.poll_seconds)
        self.refresh()

    def stop(self) -> None:
        self.controller.stop()
        self._age_timer.stop()

    def refresh(self) -> None:
        self.controller.poll_now()

    def _window_changed(self, idx: int) -> None:
        self.controller.window = list(WINDOWS)[idx]
        self.refresh()

    def _running(self, running: bool) -> None:
        self.refresh_button.setEnabled(not running)
        self._update_subtitle()

    def _poll_failed(self, message: str) -> None:
        self.offline_text.setText(f"Health poll failed: {message}")
        self.offline.show()

    # ------------------------------------------------------------- showing
    def show_report(self, report: FleetReport) -> None:
        self.report = report
        self._updated_at = time.time()
        self.model.set_report(report.deployments)
        targets = sorted({h.deployment.target for h in report.deployments})
        current = self.target_box.currentData()
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItem("All targets", "")
        for t in targets:
            self.target_box.addItem(t, t)
        i = self.target_box.findData(current)
        self.target_box.setCurrentIndex(max(0, i))
        self.target_box.blockSignals(False)
        counts = report.counts()
        self._set_chip("all", f"All  {len(report.deployments)}")
        for s in _CHIP_ORDER:
            self._set_chip(s.value, f"{STATUS_LABEL[s]}  {counts[s]}")
        self._filter_bar.activate()  # place the resized chips now, not on the next event
        if report.errors:
            stale = [h for h in report.deployments if h.stale and h.signals]
            oldest = min((h.fetched_at for h in stale), default=None)
            cached = (
                f" Showing the windows cached {format_duration(report.at - oldest)} ago, "
                "marked stale; statuses are unknown until it answers."
                if oldest is not None
                else " Nothing is cached for this window yet; statuses are unknown."
            )
            self.offline_text.setText(
                "  ".join(f"{name}: {why}." for name, why in report.errors.items()) + cached
            )
            self.offline.show()
        else:
            self.offline.hide()
        self._apply_filter()
        self._update_subtitle()
        if self.detail is not None and self.stack.currentWidget() is self.detail:
            pass  # the open chart refreshes itself

    def _set_chip(self, key: str, text: str) -> None:
        chip = self.chips[key]
        chip.setText(text)
        bold = QFont(chip.font())
        bold.setWeight(QFont.Weight.DemiBold)
        icon = 20 if key != "all" else 0
        chip.setFixedWidth(QFontMetrics(bold).horizontalAdvance(text) + 34 + icon)

    def _update_subtitle(self) -> None:
        report = self.report
        if report is None:
            self.header.subtitle.setText(
                "Polling the metrics sources…" if self.controller.running else "Not polled yet"
            )
            return
        counts = report.counts()
        n = len(report.deployments)
        parts = [counted(n, "deployment")]
        parts += [f"{counts[s]} {s.value}" for s in _CHIP_ORDER if counts[s]]
        age = "just now"
        if self._updated_at is not None:
            seconds = time.time() - self._updated_at
            age = "just now" if seconds < 15 else f"{format_duration(seconds)} ago"
        parts.append("polling…" if self.controller.running else f"updated {age}")
        self.header.subtitle.setText("  ·  ".join(parts))

    def _apply_filter(self) -> None:
        checked = next((k for k, b in self.chips.items() if b.isChecked()), "all")
        statuses = set() if checked == "all" else {HealthStatus(checked)}
        self.model.set_filter(
            statuses=statuses, target=self.target_box.currentData() or "", text=self.search.text()
        )
        if not self.model.all_rows:
            self.body.setCurrentWidget(self.empty)
        elif self.model.rowCount() == 0:
            self.body.setCurrentWidget(self.no_match)
        else:
            self.body.setCurrentIndex(0)

    def clear_filters(self) -> None:
        self.chips["all"].setChecked(True)
        self.target_box.setCurrentIndex(0)
        self.search.clear()
        self._apply_filter()

    # ------------------------------------------------------------- detail
    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            h = self.model.health_at(index.row())
            self.open_deployment(h.deployment.target, h.deployment.app)

    def open_deployment(self, target: str, app: str, window: str | None = None) -> Any:
        from app.ui.model_health import ModelHealthView  # pyqtgraph loads here, not at start

        if self.detail is None:
            self.detail = ModelHealthView(self.service, self.tasks, self.tokens)
            self.detail.sig_back_requested.connect(self.show_fleet)
            self.stack.addWidget(self.detail)
        self.stack.setCurrentWidget(self.detail)
        self.detail.load(target, app, window or self.controller.window)
        self.sig_open_requested.emit(target, app)
        return self.detail

    def show_fleet(self) -> None:
        self.stack.setCurrentWidget(self.fleet_widget)
        self.table.setFocus()


_CHIP_ORDER = (
    HealthStatus.FAILING,
    HealthStatus.DEGRADED,
    HealthStatus.UNKNOWN,
    HealthStatus.HEALTHY,
)


def _dot_icon(color: QColor) -> Any:
    from PySide6.QtGui import QIcon, QPixmap

    pm = QPixmap(16, 16)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    p.drawEllipse(2, 2, 12, 12)
    p.end()
    return QIcon(pm)
