"""pyqtgraph pieces of a deployment's charts: M4 decimation, a curve that redraws
from at most four points per pixel column, axes with an opaque grid, and what each
chart shows. The only module of the Health page that imports pyqtgraph at its top
(with ``model_view``, which imports it): both load on the first chart shown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app.domain.health import (
    ERROR_RATE,
    LATENCY_P50,
    LATENCY_P95,
    LATENCY_P99,
    REPLICAS,
    RPS,
    SignalData,
    Unit,
)

#: chart → the signals drawn on it (extra signals get a chart each)
CHARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("latency", "Latency", (LATENCY_P50, LATENCY_P95, LATENCY_P99)),
    ("rps", "Request rate", (RPS,)),
    ("errors", "Error rate", (ERROR_RATE,)),
    ("replicas", "Healthy replicas", (REPLICAS,)),
)
SERIES_STYLE = {
    LATENCY_P50: Qt.PenStyle.DotLine,
    LATENCY_P95: Qt.PenStyle.SolidLine,
    LATENCY_P99: Qt.PenStyle.DashLine,
}
SHORT = {LATENCY_P50: "p50", LATENCY_P95: "p95", LATENCY_P99: "p99"}
#: version colours after the accent: distinct in light and dark
VERSION_COLORS = ("#0ea5e9", "#a855f7", "#14b8a6", "#f43f5e")


def scale_of(data: SignalData) -> float:
    return 100.0 if data.spec.unit is Unit.RATIO else 1.0


def axis_unit(data: SignalData) -> str:
    return {Unit.MS: "ms", Unit.RATIO: "%", Unit.PER_S: "req/s"}.get(data.spec.unit, "")


class Curve:
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
            bounds: tuple[float | None, float | None] = super().dataBounds(ax, frac, orthoRange)
            return bounds
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
