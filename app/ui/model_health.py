"""One deployment's health over a window: stacked pyqtgraph charts sharing one time axis.

Latency p50/p95/p99, request rate, error rate, healthy replicas and any extra
signal, one line per version during a canary; threshold lines; a crosshair with
a readout of every curve; zoom/pan (mouse, linked X); PNG and CSV export; a
"stale" watermark when the data comes from the local cache. Imported lazily
(pyqtgraph costs ≈0.5 s): the Health page loads this module on first use.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.health import (
    ERROR_RATE,
    LATENCY_P50,
    LATENCY_P95,
    LATENCY_P99,
    REPLICAS,
    RPS,
    WINDOWS,
    DeploymentHealth,
    Direction,
    HealthStatus,
    SignalData,
    Unit,
    compare_versions,
    format_duration,
    format_value,
    version_of,
    versions_line,
)
from app.ui import icons
from app.ui.health import STATUS_GLYPH, STATUS_LABEL, page_qss, segmented
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens, current_tokens
from app.ui.widgets import named

log = logging.getLogger(__name__)

#: chart → the signals drawn on it (extra signals get a chart each)
CHARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("latency", "Latency", (LATENCY_P50, LATENCY_P95, LATENCY_P99)),
    ("rps", "Request rate", (RPS,)),
    ("errors", "Error rate", (ERROR_RATE,)),
    ("replicas", "Healthy replicas", (REPLICAS,)),
)
_STYLE = {
    LATENCY_P50: Qt.PenStyle.DotLine,
    LATENCY_P95: Qt.PenStyle.SolidLine,
    LATENCY_P99: Qt.PenStyle.DashLine,
}
_SHORT = {LATENCY_P50: "p50", LATENCY_P95: "p95", LATENCY_P99: "p99"}
#: version colours after the accent: distinct in light and dark
_VERSION_COLORS = ("#0ea5e9", "#a855f7", "#14b8a6", "#f43f5e")


def _scale(data: SignalData) -> float:
    return 100.0 if data.spec.unit is Unit.RATIO else 1.0


def _axis_unit(data: SignalData) -> str:
    return {Unit.MS: "ms", Unit.RATIO: "%", Unit.PER_S: "req/s"}.get(data.spec.unit, "")


class _Curve:
    """One drawn line and the arrays behind it (for the crosshair readout and CSV)."""

    __slots__ = ("data", "item", "label", "x", "y")

    def __init__(self, label: str, x: np.ndarray, y: np.ndarray, item: Any, data: SignalData):
        self.label, self.x, self.y, self.item, self.data = label, x, y, item, data


def m4(
    x: np.ndarray, y: np.ndarray, x0: float, x1: float, columns: int, *, finite: bool = False
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The samples of ``x`` (sorted) in [x0, x1], one more on each side, reduced to four
    per pixel column: first, min, max, last (M4, Jugel et al., VLDB 2014).

    The line through them lights the same pixels as the line through every sample: each
    column spans all the values its samples reach (a one-sample spike shows), and the
    joins between columns are the real ones (last sample → next first). The work is one
    ``searchsorted`` of the column edges and two ``reduceat`` passes over the visible
    slice. Min and max go in whichever order travels less (same pixels, fewer stroked).
    Returns ``(x, y, decimated)``; up to four samples per column come back unchanged.
    NaN (a gap) wins a column only when it has no finite sample (``finite``: y has no NaN).
    """
    n = x.size
    i0 = max(int(np.searchsorted(x, x0, "left")) - 1, 0)
    i1 = min(int(np.searchsorted(x, x1, "right")) + 1, n)
    xs, ys = x[i0:i1], y[i0:i1]
    columns = max(int(columns), 1)
    if xs.size <= 4 * columns or x1 <= x0:
        return xs, ys, False
    # column edges across the view, and as far beyond it as the outer samples lie
    step = (x1 - x0) / columns
    first_col = math.floor((float(xs[0]) - x0) / step)
    last_col = math.floor((float(xs[-1]) - x0) / step)
    edges = x0 + step * np.arange(first_col + 1, last_col + 1, dtype=float)
    starts = np.concatenate(([0], np.searchsorted(xs, edges, "left")))
    starts = starts[np.concatenate(([True], starts[1:] > starts[:-1]))]  # no empty columns
    starts = starts[starts < xs.size]
    lasts = np.empty_like(starts)
    lasts[:-1] = starts[1:] - 1
    lasts[-1] = xs.size - 1
    lo = (np.minimum if finite else np.fmin).reduceat(ys, starts)
    hi = (np.maximum if finite else np.fmax).reduceat(ys, starts)
    first, last = ys[starts], ys[lasts]
    # first → min → max → last, or first → max → min → last: whichever is shorter
    down_first = np.abs(first - hi) + np.abs(lo - last) < np.abs(first - lo) + np.abs(hi - last)
    out_x = np.empty(4 * starts.size)
    out_y = np.empty(4 * starts.size)
    out_x[0::4] = xs[starts]
    # min and max on the column's centre: a first sample right on the column's left edge
    # may be drawn in the pixel before, its whole column must not
    col = first_col + np.searchsorted(edges, xs[starts], "right")
    out_x[1::4] = out_x[2::4] = x0 + step * (col + 0.5)
    out_x[3::4] = xs[lasts]
    out_y[0::4] = first
    out_y[1::4] = np.where(down_first, hi, lo)
    out_y[2::4] = np.where(down_first, lo, hi)
    out_y[3::4] = last
    return out_x, out_y, True


class PeakCurve(pg.PlotCurveItem):  # type: ignore[misc]  # pyqtgraph has no type hints
    """A series of any length drawn from at most four points per pixel column (``m4``).

    Recomputed when the visible X range or the plot width changes, never when only Y
    moves. Bounds come from the full data (the visible slice for the Y auto-range), so
    auto-range and the crosshair see every sample. pyqtgraph's own 'peak' downsampling
    keeps five buckets per pixel and runs its generic clip/downsample path twice per pan
    step (X, then the Y auto-range); stroking those extra segments was most of the
    curve's share of a pan step at 10^6 points.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, pen: Any) -> None:
        super().__init__(pen=pen)
        self.full_x, self.full_y = x, y
        self.finite = bool(np.isfinite(y).all())
        self._key: tuple[float, float, int] | None = None
        self._y_bounds: dict[tuple[int, int], tuple[float | None, float | None]] = {}
        finite_x = x[np.isfinite(x)]
        self._x_bounds = (
            (float(finite_x[0]), float(finite_x[-1])) if finite_x.size else (None, None)
        )
        self._all_y = self._finite_range(y)
        self.decimated = False
        # until the view is known: the whole span at a nominal 2,000 columns
        if self._x_bounds[0] is not None:
            self._show(self._x_bounds[0], self._x_bounds[1], 2000)

    def _finite_range(self, y: np.ndarray) -> tuple[float | None, float | None]:
        y = y if self.finite else y[np.isfinite(y)]
        return (float(y.min()), float(y.max())) if y.size else (None, None)

    def _show(self, x0: float, x1: float, columns: int) -> None:
        key = (x0, x1, columns)
        if key == self._key:
            return
        self._key = key
        xs, ys, self.decimated = m4(self.full_x, self.full_y, x0, x1, columns, finite=self.finite)
        self.setData(
            xs,
            ys,
            connect="all" if self.finite else "finite",
            skipFiniteCheck=self.finite,
            # antialiasing columns of vertical spans adds cost, not detail
            antialias=not self.decimated,
        )

    def viewTransformChanged(self) -> None:
        super().viewTransformChanged()
        vb = self.getViewBox()
        if not isinstance(vb, pg.ViewBox) or self._x_bounds[0] is None:
            return
        width = vb.width()
        if width <= 0:
            return
        (x0, x1), _ = vb.viewRange()
        views = self.scene().views() if self.scene() is not None else []
        dpr = views[0].devicePixelRatioF() if views else 1.0
        self._show(float(x0), float(x1), max(1, round(width * dpr)))

    def dataBounds(
        self,
        ax: int,
        frac: float = 1.0,
        orthoRange: Sequence[float] | None = None,  # noqa: N803 - pyqtgraph passes it by name
    ) -> tuple[float | None, float | None]:
        if frac < 1.0:
            return super().dataBounds(ax, frac, orthoRange)
        if ax == 0:
            return self._x_bounds
        if orthoRange is None:
            return self._all_y
        i0 = int(np.searchsorted(self.full_x, orthoRange[0], "left"))
        i1 = int(np.searchsorted(self.full_x, orthoRange[1], "right"))
        cached = self._y_bounds.get((i0, i1))
        if cached is None:
            cached = self._finite_range(self.full_y[i0:i1])
            self._y_bounds = {(i0, i1): cached}  # only the last range: a pan moves on
        return cached


def _opaque_grid(specs: Any, axis: Any) -> Any:
    """The axis' draw specs with every grid line in its colour already blended over the
    chart background.

    pyqtgraph draws the grid as ticks stretched across the plot with a translucent pen.
    Qt blends a translucent vertical line span by span (one per pixel row, handed to its
    thread pool in chunks): about 10x the cost of an opaque line, and most of a pan
    step's time. Opaque lines look the same on the plain background; the ViewBox is
    raised above the axes so that they stay behind the curves.
    """
    if specs is None or axis.grid is False:
        return specs
    axis_spec, ticks, texts = specs
    flat: dict[int, Any] = {}
    solid = []
    for pen, p1, p2 in ticks:
        key = pen.color().rgba()
        if key not in flat:
            c, a, bg = pen.color(), pen.color().alphaF(), axis.background
            flat[key] = out = pg.mkPen(pen)
            out.setColor(
                QColor.fromRgbF(
                    c.redF() * a + bg.redF() * (1 - a),
                    c.greenF() * a + bg.greenF() * (1 - a),
                    c.blueF() * a + bg.blueF() * (1 - a),
                )
            )
        solid.append((flat[key], p1, p2))
    return axis_spec, solid, texts


class GridAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph has no type hints
    background = QColor("white")

    def generateDrawSpecs(self, p: Any) -> Any:
        return _opaque_grid(super().generateDrawSpecs(p), self)


class GridDateAxis(pg.DateAxisItem):  # type: ignore[misc]  # pyqtgraph has no type hints
    background = QColor("white")

    def generateDrawSpecs(self, p: Any) -> Any:
        return _opaque_grid(super().generateDrawSpecs(p), self)


class CustomRangeDialog(QDialog):
    def __init__(self, start: float, end: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Custom range")
        form = QFormLayout(self)
        self.start_edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(start)))
        self.end_edit = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(end)))
        for e in (self.start_edit, self.end_edit):
            e.setCalendarPopup(True)
            e.setDisplayFormat("yyyy-MM-dd HH:mm")
        form.addRow("From", self.start_edit)
        form.addRow("To", self.end_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def span(self) -> tuple[float, float]:
        return (
            float(self.start_edit.dateTime().toSecsSinceEpoch()),
            float(self.end_edit.dateTime().toSecsSinceEpoch()),
        )

    @classmethod
    def ask(
        cls, start: float, end: float, parent: QWidget | None = None
    ) -> tuple[float, float] | None:
        dialog = cls(start, end, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        a, b = dialog.span()
        return (a, b) if b > a else None


class ModelHealthView(QWidget):
    sig_back_requested = Signal()
    sig_loaded = Signal(object)  # DeploymentHealth
    sig_failed = Signal(str)

    def __init__(
        self,
        service: Any,
        tasks: TaskRunner,
        tokens: Tokens | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.service, self.tasks = service, tasks
        self.tokens = t = tokens or current_tokens()
        self.setStyleSheet(page_qss(t) + _VIEW_QSS.format(text=t.text, muted=t.muted))
        self.health: DeploymentHealth | None = None
        self.target = self.app = ""
        self.window_key = "1h"
        self.custom: tuple[float, float] | None = None
        self.loading = False
        self.curves: dict[str, list[_Curve]] = {}
        self.plots: dict[str, Any] = {}
        self.vlines: list[Any] = []
        pg.setConfigOptions(antialias=True, foreground=t.muted, background=t.surface)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)

        head = QHBoxLayout()
        head.setContentsMargins(16, 16, 24, 4)
        head.setSpacing(10)
        self.back = QToolButton()
        self.back.setIcon(icons.icon("arrow-left", color=t.text))
        self.back.setText("Fleet")
        self.back.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back.setToolTip("Back to the fleet (Esc)")
        self.back.setShortcut("Esc")
        self.back.setAutoRaise(True)
        self.back.setAccessibleName("Back to the fleet")
        self.back.clicked.connect(self.sig_back_requested.emit)
        head.addWidget(self.back)
        self.title = named(QLabel("—"), "pageTitle")
        head.addWidget(self.title)
        self.pill = named(QLabel(), "statusPill")
        head.addWidget(self.pill)
        head.addStretch(1)
        win_box, self.window_group = segmented([*WINDOWS, "Custom"])
        self.window_group.idClicked.connect(self._window_clicked)
        head.addWidget(win_box)
        self.png_button = QPushButton(icons.icon("image-outline", color=t.text), "PNG")
        self.png_button.setToolTip("Save the charts as a PNG image")
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button = QPushButton(icons.icon("table-arrow-down", color=t.text), "CSV")
        self.csv_button.setToolTip("Save every series as CSV (signal, labels, time, value)")
        self.csv_button.clicked.connect(self._ask_csv)
        head.addWidget(self.png_button)
        head.addWidget(self.csv_button)
        lay.addLayout(head)

        self.subtitle = named(QLabel(), "pageSubtitle")
        self.why = named(QLabel(), "why")
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        info = QVBoxLayout()
        info.setContentsMargins(24, 0, 24, 8)
        info.setSpacing(4)
        info.addWidget(self.subtitle)
        info.addWidget(self.why)
        #: a canary's versions side by side (hidden with one version)
        self.versions_line = named(QLabel(), "why")
        self.versions_line.setWordWrap(True)
        self.versions_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.versions_line.hide()
        info.addWidget(self.versions_line)
        lay.addLayout(info)

        self.legend = named(QLabel(" "), "readout")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.readout = named(QLabel("Move over a chart for values"), "readout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        rl = QHBoxLayout()
        rl.setContentsMargins(24, 0, 24, 6)
        rl.addWidget(self.legend)
        rl.addWidget(self.readout, 1)
        lay.addLayout(rl)

        frame = named(QWidget(), "chartCard")
        grid = QGridLayout(frame)
        grid.setContentsMargins(1, 1, 1, 1)
        self.charts = pg.GraphicsLayoutWidget()
        self.charts.setBackground(t.surface)
        self.charts.ci.setSpacing(2)
        self.charts.ci.setContentsMargins(6, 6, 12, 6)
        grid.addWidget(self.charts, 0, 0)
        self.watermark = named(QLabel("STALE"), "watermark")
        self.watermark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.watermark.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        wm = QColor(t.degraded)
        wm.setAlpha(70)
        font = QFont(self.font())
        font.setPointSizeF(40)
        font.setWeight(QFont.Weight.Black)
        font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 8)
        self.watermark.setFont(font)
        self.watermark.setStyleSheet(
            f"color: rgba({wm.red()}, {wm.green()}, {wm.blue()}, {wm.alpha()});"
            "background: transparent;"
        )
        grid.addWidget(self.watermark, 0, 0, Qt.AlignmentFlag.AlignCenter)
        self.watermark.hide()
        body = QHBoxLayout()
        body.setContentsMargins(24, 0, 24, 16)
        body.addWidget(frame)
        lay.addLayout(body, 1)
        self._mouse_proxy = pg.SignalProxy(
            self.charts.scene().sigMouseMoved, rateLimit=60, slot=self._mouse_moved
        )

    # ------------------------------------------------------------- loading
    def load(self, target: str, app: str, window: str = "1h") -> None:
        self.target, self.app, self.window_key, self.custom = target, app, window, None
        self._check_window()
        self._fetch()

    def load_range(self, start: float, end: float) -> None:
        self.custom = (start, end)
        self._check_window()
        self._fetch()

    def refresh(self) -> None:
        self._fetch()

    def _check_window(self) -> None:
        idx = len(WINDOWS) if self.custom else list(WINDOWS).index(self.window_key)
        button = self.window_group.button(idx)
        if button is not None:
            button.setChecked(True)

    def _fetch(self) -> None:
        self.loading = True
        self.title.setText(self.app)
        self.subtitle.setText(f"{self.target} · loading {self._window_text()}…")
        kwargs: dict[str, Any] = {"window": self.window_key}
        if self.custom is not None:
            kwargs = {"start": self.custom[0], "end": self.custom[1]}
        self.tasks.run(
            self.service.deployment,
            self.target,
            self.app,
            name=f"health {self.app}",
            on_done=self.show_health,
            on_error=self._failed,
            **kwargs,
        )

    def _window_text(self) -> str:
        if self.custom is None:
            return f"the last {self.window_key}"
        a, b = (datetime.fromtimestamp(x).strftime("%Y-%m-%d %H:%M") for x in self.custom)
        return f"{a} → {b}"

    def _window_clicked(self, idx: int) -> None:
        if idx == len(WINDOWS):
            end = self.health.at if self.health else datetime.now(tz=UTC).timestamp()
            span = CustomRangeDialog.ask(end - 86400, end, self)
            if span is None:
                self._check_window()
                return
            self.load_range(*span)
            return
        self.window_key, self.custom = list(WINDOWS)[idx], None
        self._fetch()

    def _failed(self, exc: BaseException) -> None:
        self.loading = False
        self.why.setText(f"Could not load the charts: {exc}")
        self.sig_failed.emit(str(exc))

    # ------------------------------------------------------------- showing
    def show_health(self, h: DeploymentHealth) -> None:
        self.loading = False
        self.health = h
        t = self.tokens
        d = h.deployment
        self.title.setText(d.app)
        color = QColor(getattr(t, h.status.value))
        self.pill.setText(f"{STATUS_GLYPH[h.status]}  {STATUS_LABEL[h.status]}")
        self.pill.setStyleSheet(
            f"background: rgba({color.red()}, {color.green()}, {color.blue()}, 0.14);"
            f"color: {color.name()}; border-radius: 11px; padding: 2px 10px; font-weight: 600;"
        )
        versions = "  ".join(f"v{v} {p}%" for v, p in d.traffic.items())
        source = f"from {h.source}" if h.source else "no metrics source"
        self.subtitle.setText(
            f"{d.model_name}  ·  {d.target}  ·  {versions}  ·  {self._window_text()}  ·  {source}"
        )
        self.why.setText("  ·  ".join(h.verdict.reasons))
        rows = compare_versions(h)
        self.versions_line.setText(versions_line(h, rows))
        self.versions_line.setVisible(bool(rows))
        tone = t.degraded if any(r.over for r in rows) else t.text
        self.versions_line.setStyleSheet(f"color: {tone};")
        if h.stale:
            age = format_duration(h.at - h.fetched_at)
            self.watermark.setText(f"STALE\n\ncached {age} ago")
            self.watermark.show()
        else:
            self.watermark.hide()
        self._build_charts(h)
        self.sig_loaded.emit(h)

    def _build_charts(self, h: DeploymentHealth) -> None:
        t = self.tokens
        self.charts.clear()
        self.curves.clear()
        self.plots.clear()
        self.vlines.clear()
        charts = list(CHARTS)
        known = {k for _, _, keys in CHARTS for k in keys}
        charts += [(k, d.spec.title, (k,)) for k, d in h.signals.items() if k not in known]
        charts = [c for c in charts if any(k in h.signals for k in c[2])]
        first = None
        versions: list[str] = []
        for row, (chart, title, keys) in enumerate(charts):
            last = row == len(charts) - 1
            axis = {"left": GridAxis("left"), "bottom": GridAxis("bottom")}
            if last:
                axis["bottom"] = GridDateAxis(orientation="bottom")
            for ax in axis.values():
                ax.background = QColor(t.surface)
            plot = self.charts.addPlot(row=row, col=0, axisItems=axis)
            plot.getViewBox().setZValue(1)  # curves above the (opaque) grid
            self.plots[chart] = plot
            plot.showGrid(x=True, y=True, alpha=0.12)
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseMode(pg.ViewBox.PanMode)
            # drag and wheel move time only: the value axis keeps fitting what is visible
            plot.setMouseEnabled(x=True, y=False)
            for name in ("left", "bottom"):
                ax = plot.getAxis(name)
                ax.setPen(pg.mkPen(t.border))
                ax.setTextPen(pg.mkPen(t.muted))
            plot.getAxis("left").setWidth(58)
            if not last:
                plot.hideAxis("bottom")
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            unit = ""
            for key in keys:
                data = h.signals.get(key)
                if data is None:
                    continue
                unit = _axis_unit(data)
                scale = _scale(data)
                for s in data.series:
                    version = _version_of(s.labels, h)
                    if version not in versions:
                        versions.append(version)
                    color = ([t.accent, *_VERSION_COLORS])[versions.index(version) % 5]
                    x = np.asarray(s.t, dtype=float)
                    y = np.asarray(s.v, dtype=float) * scale
                    pen = pg.mkPen(color, width=1, style=_STYLE.get(key, Qt.PenStyle.SolidLine))
                    # gaps stay gaps; at most four points per pixel column reach the painter
                    item = PeakCurve(x, y, pen)
                    plot.addItem(item)
                    label = (
                        " ".join(p for p in (_SHORT.get(key, ""), version) if p) or data.spec.title
                    )
                    self.curves.setdefault(chart, []).append(_Curve(label, x, y, item, data))
                th = h.thresholds.get(key)
                if th is not None:
                    for bound, tone in ((th.degraded, t.degraded), (th.failing, t.failing)):
                        if bound is None:
                            continue
                        line = pg.InfiniteLine(
                            pos=bound * scale,
                            angle=0,
                            movable=False,
                            pen=pg.mkPen(tone, width=1, style=Qt.PenStyle.DashLine),
                            label=f"{_SHORT.get(key, '')} "
                            f"{'<' if th.direction is Direction.BELOW else '>'} "
                            f"{format_value(bound, data.spec.unit)}".strip(),
                            # the label sits on the bad side of its line: over an upper
                            # bound, under a lower one (a "replicas < 1" line is often the
                            # top of its chart, where a label above it would be cut off)
                            labelOpts={
                                "position": 0.02,
                                "color": tone,
                                "anchors": [(0, 0), (0, 0)]
                                if th.direction is Direction.BELOW
                                else [(0, 1), (0, 1)],
                            },
                        )
                        plot.addItem(line, ignoreBounds=True)
            plot.setTitle(
                f"<span style='color:{t.text};font-weight:600'>{title}</span>"
                f"<span style='color:{t.muted}'>{'  ' + unit if unit else ''}</span>",
                justify="left",
                size="10pt",
            )
            vline = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(t.muted, width=1))
            vline.hide()
            plot.addItem(vline, ignoreBounds=True)
            self.vlines.append(vline)
            plot.enableAutoRange(axis="y")
            plot.setAutoVisible(y=True)
        if first is not None:
            start = h.at - WINDOWS.get(h.window, 3600)
            end = h.at
            if self.custom is not None:
                start, end = self.custom
            elif h.stale:
                xs = [c.x for cs in self.curves.values() for c in cs if c.x.size]
                if xs:
                    start, end = min(float(x[0]) for x in xs), max(float(x[-1]) for x in xs)
            first.setXRange(start, end, padding=0)
        self.legend.setText(self._legend_html(versions))

    def _legend_html(self, versions: Sequence[str]) -> str:
        t = self.tokens
        colors = [t.accent, *_VERSION_COLORS]
        named = [v for v in versions if v]
        parts = [
            f"<span style='color:{colors[i % 5]}'>━━</span> {v or 'all versions'}"
            for i, v in enumerate(versions)
            if named  # one unnamed line needs no key
        ]
        parts.append(f"<span style='color:{t.muted}'>·· p50   ━ p95   ╌ p99</span>")
        return "&nbsp;&nbsp;&nbsp;".join(parts)

    # ------------------------------------------------------------- crosshair
    def _mouse_moved(self, event: Sequence[Any]) -> None:
        pos = event[0]
        for plot in self.plots.values():
            if plot.sceneBoundingRect().contains(pos):
                x = plot.getViewBox().mapSceneToView(pos).x()
                self.show_crosshair(x)
                return

    def show_crosshair(self, x: float) -> str:
        """Move the crosshair to time ``x`` and return the readout text shown."""
        for v in self.vlines:
            v.setPos(x)
            v.show()
        t = self.tokens
        when = datetime.fromtimestamp(x).strftime("%Y-%m-%d %H:%M:%S")
        parts = [f"<b style='color:{t.text}'>{when}</b>"]
        plain = [when]
        for curves in self.curves.values():
            for c in curves:
                if not c.x.size:
                    continue
                i = int(np.clip(np.searchsorted(c.x, x), 0, c.x.size - 1))
                if i > 0 and abs(c.x[i - 1] - x) < abs(c.x[i] - x):
                    i -= 1
                y = float(c.y[i])
                value = (
                    format_value(y / _scale(c.data), c.data.spec.unit) if math.isfinite(y) else "—"
                )
                parts.append(f"<span style='color:{t.muted}'>{c.label}</span> {value}")
                plain.append(f"{c.label} {value}")
        self.readout.setText("&nbsp;&nbsp;&nbsp;".join(parts))
        return "  ".join(plain)

    # ------------------------------------------------------------- export
    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save charts as PNG", f"{self.app}-health.png", "PNG image (*.png)"
        )
        if path:
            self.export_png(Path(path))

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save series as CSV", f"{self.app}-health.csv", "CSV (*.csv)"
        )
        if path:
            self.export_csv(Path(path))

    def export_png(self, path: Path) -> bool:
        return bool(self.charts.grab().save(str(path), "PNG"))

    def export_csv(self, path: Path) -> int:
        """Every series in long form (signal, labels, time, value); returns rows written."""
        h = self.health
        if h is None:
            return 0
        n = 0
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["signal", "labels", "time_utc", "unix_s", "value", "unit", "promql"])
            for key, data in h.signals.items():
                for s in data.series:
                    labels = ";".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    for ts, v in zip(s.t, s.v, strict=True):
                        when = datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                        value = "" if not math.isfinite(v) else repr(v)
                        w.writerow(
                            [
                                key,
                                labels,
                                when,
                                f"{ts:.0f}",
                                value,
                                data.spec.unit.value,
                                data.promql,
                            ]
                        )
                        n += 1
        return n


def _version_of(labels: Any, h: DeploymentHealth) -> str:
    """The version a series belongs to, as ``v2`` ("" = the whole app)."""
    version = version_of(labels, h.deployment)
    return f"v{version}" if version else ""


_VIEW_QSS = """
QLabel#why {{ color: {text}; }}
QLabel#readout {{ color: {muted}; font-size: 9pt; }}
QWidget#chartCard {{ border: 1px solid palette(mid); border-radius: 10px; }}
QToolButton {{ border: none; padding: 4px 8px; border-radius: 6px; }}
"""

__all__ = ["HealthStatus", "ModelHealthView"]
