"""Health benchmarks (targets from issue 7):

1. fleet view with 1,000 deployments: full-page repaint of the table (median; ≤ 25 ms);
2. model page with a 1,000,000-point series: one pan step, repainted (median; ≤ 20 ms);
3. health poll of 1,000 deployments against a real Prometheus (backfilled, 3 h at 60 s):
   ``HealthService.fleet`` (queries + parsing + judging) vs the same PromQL sent directly
   with httpx in the same run (ratio ≤ 1.3).

Prints the figures in words; the LAST line is one JSON object, units in the keys.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N = 1000


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def synthetic_rows(n: int, now: float) -> list[Any]:
    import math

    from app.domain.health import (
        DEFAULT_THRESHOLDS,
        RAY_SERVE_SIGNALS,
        DeploymentHealth,
        HealthStatus,
        Series,
        SignalData,
        Verdict,
        worst_first,
    )
    from app.domain.models import Deployment

    specs = {s.key: s for s in RAY_SERVE_SIGNALS}
    t = tuple(now - 3600 + 30 * i for i in range(121))
    rows = []
    statuses = list(HealthStatus)
    for i in range(n):
        d = Deployment(f"cluster-{i % 4}", f"app-{i:04d}", f"model-{i:04d}", {"1": 100}, 2)
        sig = {}
        for key, base in (("latency_p95", 100 + i % 50), ("error_rate", 0.002), ("rps", 10.0)):
            v = tuple(base * (1 + 0.2 * math.sin(j / 7 + i)) for j in range(len(t)))
            sig[key] = SignalData(specs[key], "q", (Series({}, t, v),), 30)
        status = statuses[i % 4] if i % 10 == 0 else HealthStatus.HEALTHY
        figures = {k: s.series[0].v[-1] for k, s in sig.items()} | {"replicas": 2.0}
        verdict = Verdict(status, (f"p95 latency {100 + i % 50} ms ≤ 300 ms",), figures)
        rows.append(
            DeploymentHealth(
                d, verdict, sig, "1h", now, now, source="prom", thresholds=DEFAULT_THRESHOLDS
            )
        )
    return worst_first(rows)


def bench_fleet_repaint() -> tuple[float, float]:
    from PySide6.QtWidgets import QApplication

    from app.domain.health import FleetReport
    from app.ui import theme
    from app.ui.pages.health.page import HealthPage
    from app.ui.tasks import TaskRunner

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    theme.apply(app, theme.LIGHT)
    now = time.time()
    rows = synthetic_rows(N, now)

    class _Service:
        def fleet(self, **_kw: object) -> FleetReport:
            return FleetReport(tuple(rows), "1h", now)

        def known_statuses(self) -> dict[Any, Any]:
            return {}

        def settings(self) -> None:
            raise RuntimeError("not used")

    runner = TaskRunner()
    page = HealthPage(_Service(), runner, theme.LIGHT, poll_seconds=0)
    page.resize(1440, 900)
    page.show()
    t0 = time.perf_counter()
    page.show_report(FleetReport(tuple(rows), "1h", now))
    build = time.perf_counter() - t0
    app.processEvents()
    vp = page.table.viewport()
    samples = []
    bar = page.table.verticalScrollBar()
    for i in range(40):
        bar.setValue((i * 137) % max(1, bar.maximum()))
        t0 = time.perf_counter()
        vp.repaint()
        samples.append(time.perf_counter() - t0)
    rows_visible = page.table.rowAt(vp.height() - 1) - page.table.rowAt(0) + 1
    print(
        f"Fleet view, {N:,} deployments: building the model + sparkline paths took "
        f"{build * 1000:.0f} ms; a full-page repaint ({rows_visible} rows visible) takes "
        f"{_median_ms(samples)} ms (median of {len(samples)})."
    )
    page.close()
    runner.shutdown()
    return _median_ms(samples), round(build * 1000, 1)


def bench_pan() -> tuple[float, float]:
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from app.domain.health import (
        RAY_SERVE_SIGNALS,
        DeploymentHealth,
        HealthStatus,
        Series,
        SignalData,
        Verdict,
    )
    from app.domain.models import Deployment
    from app.ui import theme
    from app.ui.pages.health.model_view import ModelHealthView
    from app.ui.tasks import TaskRunner

    app = QApplication.instance() or QApplication([])
    n = 1_000_000
    now = time.time()
    t = now - n + np.arange(n, dtype=float)
    rng = np.random.default_rng(7)
    v = 120 + np.cumsum(rng.normal(0, 1, n)) * 0.05 + rng.normal(0, 5, n)
    spec = next(s for s in RAY_SERVE_SIGNALS if s.key == "latency_p95")
    sig = SignalData(spec, "q", (Series({}, tuple(t.tolist()), tuple(v.tolist())),), 1)
    h = DeploymentHealth(
        Deployment("ray", "big", "big-model", {"1": 100}),
        Verdict(HealthStatus.HEALTHY, ("ok",)),
        {"latency_p95": sig},
        "custom",
        now,
        now,
    )
    runner = TaskRunner()
    view = ModelHealthView(None, runner, theme.LIGHT)
    view.resize(1440, 900)
    view.show()
    t0 = time.perf_counter()
    view.show_health(h)
    app.processEvents()
    view.charts.viewport().repaint()
    first = time.perf_counter() - t0
    plot = view.plots["latency"]
    vb = plot.getViewBox()
    plot.setXRange(t[0], t[0] + n * 0.2, padding=0)
    app.processEvents()
    paints = _count_paints(view.charts.viewport())
    samples = []
    dx = n * 0.2 / 50
    repainted = 0
    for _ in range(40):
        before = paints[0]
        t0 = time.perf_counter()
        vb.translateBy(x=dx)  # what a mouse drag in pan mode does, per move event
        app.processEvents()  # range signals, the y auto-range, the scene update → paint
        if paints[0] == before:  # never counted a step that painted nothing
            view.charts.viewport().repaint()
            repainted += 1
        samples.append(time.perf_counter() - t0)
    assert paints[0] >= len(samples), "a pan step was timed without a repaint"
    curve = view.curves["latency"][0].item
    print(
        f"Model page, one 1,000,000-point series: first show {first * 1000:.0f} ms; a pan step "
        f"(200,000 points in view, drawn as {getattr(curve, 'curve', curve).xData.size:,} points; "
        f"range change, processed events, {paints[0]} paints in {len(samples)} steps, "
        f"{repainted} forced) takes {_median_ms(samples)} ms (median of {len(samples)})."
    )
    drag = _drag_steps(app, view, vb, paints)
    print(
        f"The same by mouse: a drag's move event (pan + crosshair readout, Y range then held, "
        f"as pyqtgraph's pan mode does) takes {_median_ms(drag)} ms (median of {len(drag)})."
    )
    view.close()
    runner.shutdown()
    return _median_ms(samples), _median_ms(drag)


def _drag_steps(app: Any, view: Any, vb: Any, paints: list[int]) -> list[float]:
    """Mouse-move events of a left-button drag across the chart, 8 px each, timed with the
    events they cause (pan, crosshair via its rate-limited proxy, paint)."""
    import pyqtgraph as pg
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    viewport = view.charts.viewport()
    pos = view.charts.mapFromScene(vb.sceneBoundingRect().center())
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseMove(viewport, pos)
    QTest.mousePress(viewport, left, none, pos)
    app.processEvents()
    before, samples, moved = paints[0], [], 0
    # pyqtgraph drops move events closer than 1/mouseRateLimit (10 ms): wait that long
    # between moves (untimed) so that every timed move really pans
    gap = 1.1 / pg.getConfigOption("mouseRateLimit")
    t0 = time.perf_counter()
    for _ in range(40):
        pos = QPoint(pos.x() - 8, pos.y())
        time.sleep(max(0.0, t0 + gap - time.perf_counter()))
        start = vb.viewRange()[0][0]
        t0 = time.perf_counter()
        QTest.mouseMove(viewport, pos)
        app.processEvents()
        samples.append(time.perf_counter() - t0)
        moved += vb.viewRange()[0][0] > start
    QTest.mouseRelease(viewport, left, none, pos)
    # the first move only starts the drag (pyqtgraph pans from the second on)
    assert moved >= len(samples) - 1, f"only {moved} of {len(samples)} moves panned"
    assert paints[0] - before >= len(samples), "a drag step was timed without a repaint"
    return samples


def _count_paints(widget: Any) -> list[int]:
    """A one-item list counting the paint events ``widget`` receives from now on."""
    from PySide6.QtCore import QEvent, QObject

    counter = [0]

    class _Filter(QObject):
        def eventFilter(self, obj: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint:
                counter[0] += 1
            return False

    widget.installEventFilter(_Filter(widget))  # parented to the widget: lives as long
    return counter


def bench_poll() -> dict[str, float]:
    import httpx

    from app.services.context import AppContext
    from app.services.workspace import Workspace
    from tests.integration.fixtures import health_tsdb as tsdb
    from tests.integration.servers import start_prometheus

    if shutil.which("promtool") is None or shutil.which("prometheus") is None:
        print("Poll: skipped (no prometheus/promtool)")
        return {}
    t0 = time.perf_counter()
    data, meta = tsdb.ensure_tsdb(N, 0.125, 60)
    prep = time.perf_counter() - t0
    end = float(meta["end"])
    with tempfile.TemporaryDirectory() as tmp:
        server = start_prometheus(Path(tmp) / "prom", data_dir=data)
        ctx = AppContext.build(Workspace.resolve(Path(tmp) / "home"))
        try:
            tsdb.configure(ctx, server.url, N)
            service = ctx.health
            report = service.fleet(at=end, remember=False)  # warm-up (connections, caches)
            # the exact PromQL the service sent, one per signal (grouped per target)
            queries = sorted({s.promql for h in report.deployments for s in h.signals.values()})
            step = next(iter(report.deployments[0].signals.values())).step_s
            params = {"start": f"{end - 3600:.3f}", "end": f"{end:.3f}", "step": str(step)}
            client = httpx.Client(base_url=server.url, timeout=60)
            ours, direct, full = [], [], []
            for _ in range(5):
                t0 = time.perf_counter()
                for q in queries:
                    r = client.get("/api/v1/query_range", params={"query": q, **params})
                    r.raise_for_status()
                    r.json()
                direct.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                service.fleet(at=end, remember=False)
                ours.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                service.fleet(at=end, remember=True)
                full.append(time.perf_counter() - t0)
            client.close()
            counts = report.counts()
        finally:
            ctx.close()
            server.stop()
    d, o, f = (statistics.median(x) for x in (direct, ours, full))
    print(
        f"Poll of {N:,} deployments ({len(queries)} range queries, {step} s step, 1 h): "
        f"HealthService.fleet {o * 1000:.0f} ms vs the same PromQL sent directly with httpx "
        f"{d * 1000:.0f} ms → ratio {o / d:.2f}; with the offline copy written to SQLite "
        f"{f * 1000:.0f} ms. Statuses: "
        + ", ".join(f"{v} {k.value}" for k, v in counts.items())
        + f". (TSDB ready in {prep:.1f} s: built once, cached.)"
    )
    return {
        "poll_1000_ms_median": round(o * 1000, 1),
        "poll_direct_httpx_ms_median": round(d * 1000, 1),
        "poll_ratio": round(o / d, 3),
        "poll_with_cache_write_ms_median": round(f * 1000, 1),
    }


def main(argv: list[str]) -> int:
    """``--ui``: the two UI figures only (no Prometheus poll, seconds instead of minutes)."""
    repaint, build = bench_fleet_repaint()
    pan, drag = bench_pan()
    poll = {} if "--ui" in argv else bench_poll()
    print(
        json.dumps(
            {
                "fleet_repaint_1000_ms_median": repaint,
                "fleet_build_1000_ms": build,
                "pan_1m_points_ms_median": pan,
                "pan_drag_1m_points_ms_median": drag,
                **poll,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
