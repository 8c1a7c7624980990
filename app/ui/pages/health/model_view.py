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
    WINDOWS,
    DeploymentHealth,
    Direction,
    HealthStatus,
    compare_versions,
    format_duration,
    format_value,
    version_of,
    versions_line,
)
from app.ui import icons
from app.ui.kit.segmented import segmented
from app.ui.kit.status import STATUS_GLYPH, STATUS_LABEL
from app.ui.kit.styles import page_qss
from app.ui.kit.widgets import named
from app.ui.pages.health.charts import (
    CHARTS,
    SERIES_STYLE,
    SHORT,
    VERSION_COLORS,
    Curve,
    GridAxis,
    GridDateAxis,
    PeakCurve,
    axis_unit,
    scale_of,
)
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens, current_tokens

log = logging.getLogger(__name__)


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
        self.curves: dict[str, list[Curve]] = {}
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
                unit = axis_unit(data)
                scale = scale_of(data)
                for s in data.series:
                    version = _version_of(s.labels, h)
                    if version not in versions:
                        versions.append(version)
                    color = ([t.accent, *VERSION_COLORS])[versions.index(version) % 5]
                    x = np.asarray(s.t, dtype=float)
                    y = np.asarray(s.v, dtype=float) * scale
                    pen = pg.mkPen(
                        color, width=1, style=SERIES_STYLE.get(key, Qt.PenStyle.SolidLine)
                    )
                    # gaps stay gaps; at most four points per pixel column reach the painter
                    item = PeakCurve(x, y, pen)
                    plot.addItem(item)
                    label = (
                        " ".join(p for p in (SHORT.get(key, ""), version) if p) or data.spec.title
                    )
                    self.curves.setdefault(chart, []).append(Curve(label, x, y, item, data))
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
                            label=f"{SHORT.get(key, '')} "
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
        colors = [t.accent, *VERSION_COLORS]
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
                    format_value(y / scale_of(c.data), c.data.spec.unit)
                    if math.isfinite(y)
                    else "—"
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
