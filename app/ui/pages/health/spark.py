"""Sparklines: a deployment's series decimated once per poll into paths in unit
coordinates, so a repaint only scales them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtGui import (
    QPainterPath,
)

from app.domain.health import (
    ERROR_RATE,
    WINDOWS,
    DeploymentHealth,
    format_value,
)

SPARK_POINTS = 64


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


def spark_for(h: DeploymentHealth, key: str) -> Spark | None:
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
