"""Health page offscreen over the real services and a real Prometheus holding 7 days of
backfilled Ray Serve history: fleet view and model charts (screenshots, light and dark),
and Prometheus going down: cached windows shown stale, status unknown, no freeze."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from app.domain.health import HealthStatus
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.ui import theme
from app.ui.pages.health.model_view import ModelHealthView
from app.ui.pages.health.page import HealthPage
from app.ui.tasks import TaskRunner
from tests.integration.fixtures import health_tsdb as tsdb
from tests.integration.servers import ServerProcess, require, start_prometheus

pytestmark = [pytest.mark.gui, pytest.mark.integration]

N_APPS = 20


@pytest.fixture(scope="module")
def history() -> tuple[Path, dict]:
    import shutil

    require(shutil.which("promtool") is not None, "no promtool (apt-get install prometheus)")
    return tsdb.ensure_tsdb(N_APPS, 7, 60)


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, history: tuple[Path, dict]
) -> Iterator[ServerProcess]:
    server = start_prometheus(tmp_path_factory.mktemp("prom-health-gui"), data_dir=history[0])
    yield server
    server.stop()


@pytest.fixture
def ctx(workspace: Workspace, prometheus: ServerProcess, history) -> Iterator[AppContext]:
    c = AppContext.build(workspace)
    tsdb.configure(c, prometheus.url, N_APPS)
    # judge at the end of the generated history, not at "now"
    end = float(history[1]["end"])
    c.health._clock = lambda: end
    yield c
    c.close()


def _page(qtbot, ctx: AppContext, tokens) -> tuple[HealthPage, TaskRunner]:
    runner = TaskRunner()
    page = HealthPage(ctx.health, runner, tokens, poll_seconds=0)
    qtbot.addWidget(page)
    page.resize(1440, 900)
    page.show()
    return page, runner


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_fleet_and_model_page(qtbot, qapp, ctx, artifacts_dir: Path, mode: str, tmp_path: Path):  # noqa: PLR0917 - pytest fixtures
    tokens = theme.DARK if mode == "dark" else theme.LIGHT
    theme.apply(qapp, tokens)
    try:
        page, runner = _page(qtbot, ctx, tokens)
        with qtbot.waitSignal(page.controller.sig_report, timeout=30_000):
            page.start()
        model = page.model
        assert model.rowCount() == N_APPS
        first = [model.health_at(r) for r in range(4)]
        assert {h.status for h in first[:2]} == {HealthStatus.FAILING}
        by_app = {h.deployment.app: h for h in model.all_rows}
        assert by_app[tsdb.app_name(tsdb.GAP)].status is HealthStatus.UNKNOWN
        assert by_app[tsdb.app_name(tsdb.SPIKE)].status is HealthStatus.DEGRADED
        qtbot.waitUntil(lambda: not page.controller.running)
        page.table.selectRow(0)
        page.grab().save(str(artifacts_dir / f"health-fleet-{mode}.png"))

        # filters: status chip, search
        page.chips["failing"].click()
        assert model.rowCount() == 2
        page.chips["all"].click()
        page.search.setText("replicas 1 <")
        assert {model.health_at(r).deployment.app for r in range(model.rowCount())} == {
            tsdb.app_name(tsdb.REPLICA_DOWN)
        }
        page.clear_filters()

        view = page.open_deployment("ray", tsdb.app_name(tsdb.CANARY), "24h")
        qtbot.waitUntil(lambda: view.health is not None and not view.loading, timeout=30_000)
        latency = view.curves["latency"]
        assert {c.label for c in latency} >= {"p95 v1", "p95 v2"}
        text = view.show_crosshair(float(history_end(ctx)) - 3 * 3600)
        assert "p95 v2" in text
        assert "ms" in text
        view.resize(1440, 900)
        _wait_laid_out(qtbot, view)
        page.grab().save(str(artifacts_dir / f"health-model-{mode}.png"))
        assert view.export_png(tmp_path / "charts.png")
        rows = view.export_csv(tmp_path / "series.csv")
        assert rows > 1000
        header = (tmp_path / "series.csv").read_text().splitlines()[0]
        assert header.startswith("signal,labels,time_utc")
        runner.shutdown()
    finally:
        theme.apply(qapp, theme.LIGHT)


def _wait_laid_out(qtbot, view) -> None:
    """The charts share one time axis: every plot area starts at the same x (a screenshot
    taken before the posted layout requests ran shows them misaligned, the legend empty)."""

    def aligned() -> bool:
        lefts = {round(p.getViewBox().sceneBoundingRect().left()) for p in view.plots.values()}
        return len(lefts) == 1 and view.legend.width() >= view.legend.sizeHint().width()

    qtbot.waitUntil(aligned)


def history_end(ctx: AppContext) -> float:
    return float(ctx.health._clock())


def test_prometheus_down_shows_cached_windows_stale(  # noqa: PLR0917 - pytest fixtures
    qtbot, qapp, workspace: Workspace, history, tmp_path: Path, artifacts_dir: Path
):
    """A private Prometheus is polled once (windows cached), then stopped: the next poll
    answers promptly from the cache, every status unknown, rows and charts marked stale."""
    server = start_prometheus(tmp_path / "prom", data_dir=history[0])
    c = AppContext.build(workspace)
    try:
        tsdb.configure(c, server.url, N_APPS)
        end = float(history[1]["end"])
        c.health._clock = lambda: end
        page, runner = _page(qtbot, c, theme.LIGHT)
        with qtbot.waitSignal(page.controller.sig_report, timeout=30_000):
            page.refresh()
        view = page.open_deployment("ray", tsdb.app_name(tsdb.SPIKE), "1h")
        qtbot.waitUntil(lambda: view.health is not None and not view.loading, timeout=30_000)
        page.show_fleet()
        server.stop()

        with qtbot.waitSignal(page.controller.sig_report, timeout=60_000) as blocker:
            page.refresh()
            # the UI thread stays responsive while the poll fails in the background
            qtbot.keyClicks(page.search, "app")
            page.search.clear()
        report = blocker.args[0]
        assert "prom" in report.errors
        assert {h.status for h in report.deployments} == {HealthStatus.UNKNOWN}
        assert all(h.stale for h in report.deployments)
        assert all(h.signals for h in report.deployments)
        assert page.offline.isVisible()
        assert "stale" in page.offline_text.text()
        spike = next(h for h in report.deployments if h.deployment.app == tsdb.app_name(tsdb.SPIKE))
        assert "unreachable" in spike.verdict.why or "refused" in spike.verdict.why
        page.grab().save(str(artifacts_dir / "health-fleet-offline.png"))

        view = page.open_deployment("ray", tsdb.app_name(tsdb.SPIKE), "1h")
        qtbot.waitUntil(lambda: view.health is not None and not view.loading, timeout=60_000)
        assert view.health.stale
        assert view.health.status is HealthStatus.UNKNOWN
        assert view.watermark.isVisible()
        assert view.curves["latency"]
        _wait_laid_out(qtbot, view)
        page.grab().save(str(artifacts_dir / "health-model-stale.png"))
        runner.shutdown()
    finally:
        server.stop()
        c.close()


def test_worse_status_raises_an_alert(qtbot, ctx: AppContext):
    """Statuses remembered from before; a worse one is reported (tray or not)."""
    from app.domain.health import KnownStatus
    from app.store import health as store

    with ctx.cache.write() as con:
        store.save_statuses(
            con,
            [
                KnownStatus("ray", tsdb.app_name(i), HealthStatus.HEALTHY, "", 0.0)
                for i in range(N_APPS)
            ],
        )
    page, runner = _page(qtbot, ctx, theme.LIGHT)
    with qtbot.waitSignal(page.controller.sig_worsened, timeout=30_000) as blocker:
        page.refresh()
    worse = {c.app: c.after for c in blocker.args[0]}
    assert worse[tsdb.app_name(tsdb.ERRORS)] is HealthStatus.FAILING
    assert worse[tsdb.app_name(tsdb.GAP)] is HealthStatus.UNKNOWN
    assert tsdb.app_name(0) not in worse
    # a second poll with the same data: nothing new to report
    with (
        qtbot.assertNotEmitted(page.controller.sig_worsened),
        qtbot.waitSignal(page.controller.sig_report, timeout=30_000),
    ):
        page.refresh()
    runner.shutdown()


@pytest.mark.skipif(os.environ.get("MODELDECK_SKIP_POLL_SKIP") == "1", reason="opt-out")
def test_a_tick_is_skipped_while_a_poll_runs(qtbot, ctx: AppContext):
    page, runner = _page(qtbot, ctx, theme.LIGHT)
    assert page.controller.poll_now()
    assert not page.controller.poll_now()
    assert page.controller.skipped == 1
    qtbot.waitUntil(lambda: not page.controller.running, timeout=30_000)
    runner.shutdown()


# ------------------------------------------------------------------ long series, fleet cells
T0 = 1_800_000_000.0


def _health(signals: dict, *, app: str = "big", status=HealthStatus.HEALTHY, **kw):
    from app.domain.health import DeploymentHealth, Verdict
    from app.domain.models import Deployment

    return DeploymentHealth(
        Deployment("ray", app, f"{app}-model", {"1": 100}, 2),
        Verdict(status, (f"{status.value}",), kw.pop("figures", {})),
        signals,
        kw.pop("window", "custom"),
        T0,
        T0,
        **kw,
    )


def _latency(t, v):
    from app.domain.health import RAY_SERVE_SIGNALS, Series, SignalData

    spec = next(s for s in RAY_SERVE_SIGNALS if s.key == "latency_p95")
    return SignalData(spec, "q", (Series({}, tuple(t), tuple(v)),), 1)


@pytest.fixture
def latency_view(qtbot) -> Iterator[Callable[..., ModelHealthView]]:
    """Shows a p95 latency series ``(t, v)`` in a model health view, 1440×900."""
    runners: list[TaskRunner] = []

    def show(t, v) -> ModelHealthView:
        runners.append(TaskRunner())
        view = ModelHealthView(None, runners[-1], theme.LIGHT)
        qtbot.addWidget(view)
        view.resize(1440, 900)
        view.show()
        view.show_health(_health({"latency_p95": _latency(t, v)}))
        return view

    yield show
    for runner in runners:
        runner.shutdown()


def test_a_long_series_keeps_its_spikes_and_gaps_when_panned(qtbot, latency_view):
    """200,000 samples reach the painter as a few points per pixel column; the one-sample
    spike is still drawn and scaled into view, the gap stays a gap, the crosshair reads
    the real samples, and a pan redraws the new range."""
    import numpy as np

    n = 200_000
    t = T0 - n + np.arange(n, dtype=float)
    v = 100 + 10 * np.sin(np.arange(n) / 500)
    spike = 123_457
    v[spike] = 900.0
    v[150_000:150_500] = np.nan
    view = latency_view(t, v)
    plot = view.plots["latency"]
    vb = plot.getViewBox()
    curve = view.curves["latency"][0].item
    plot.setXRange(t[100_000], t[160_000], padding=0)
    qtbot.waitUntil(lambda: curve.xData[0] >= t[99_000] and vb.viewRange()[1][1] >= 900)

    assert curve.decimated
    assert curve.xData.size <= 4 * (vb.width() + 4)  # ≤ 4 points per pixel column
    assert np.nanmax(curve.yData) == 900.0  # the spike is drawn at its full height
    column = (t[160_000] - t[100_000]) / vb.width()
    inside = (curve.xData > t[150_000] + 2 * column) & (curve.xData < t[150_499] - 2 * column)
    assert inside.any()
    assert np.isnan(curve.yData[inside]).all()  # nothing drawn across the gap
    assert "p95 900 ms" not in view.show_crosshair(t[spike - 1])
    assert "900 ms" in view.show_crosshair(t[spike])
    assert f"{v[spike + 1]:.0f} ms" in view.show_crosshair(t[spike + 1])
    assert "—" in view.show_crosshair(t[150_200])

    vb.translateBy(x=t[60_000] - t[0])  # now 160,000 … 220,000: past the spike
    qtbot.waitUntil(lambda: vb.viewRange()[1][1] < 900)
    assert curve.xData[0] >= t[159_000]
    assert np.nanmax(curve.yData) < 900


def test_dragging_a_chart_pans_time_and_keeps_the_y_axis_fitted(qtbot, latency_view):
    """A mouse drag moves the time window only; the value axis keeps fitting what is
    visible (a pan into a busier hour rescales instead of cutting the line off)."""
    import numpy as np
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    n = 7200
    t = T0 - n + np.arange(n, dtype=float)
    wobble = 10 * np.sin(np.arange(n) / 60)
    v = np.where(np.arange(n) < n // 2, 50.0, 400.0) + wobble  # a quiet hour, then a busy one
    view = latency_view(t, v)
    plot = view.plots["latency"]
    vb = plot.getViewBox()
    plot.setXRange(t[0], t[n // 2 - 600], padding=0)  # the quiet hour
    qtbot.waitUntil(lambda: vb.viewRange()[1][1] < 100)

    viewport = view.charts.viewport()
    box = vb.mapRectToScene(vb.boundingRect())
    start = view.charts.mapFromScene(box.center())
    end = start - QPoint(int(box.width() * 0.6), 0)  # drag left: later in time
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(viewport, start - QPoint(20, 0))
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)

    qtbot.waitUntil(lambda: vb.viewRange()[0][1] > t[n // 2])  # time moved on
    assert vb.autoRangeEnabled()[1]  # the value axis still follows the data
    qtbot.waitUntil(lambda: vb.viewRange()[1][1] >= 400)  # the busy hour is in view, unclipped


def test_decimated_line_lights_the_same_pixels_as_every_sample(qtbot):
    """Pixel columns of the decimated curve against the full-resolution curve (noisy
    random walk, a spike, a gap): the same top and bottom in (almost) every column."""
    import numpy as np
    import pyqtgraph as pg

    from app.ui.pages.health.charts import PeakCurve

    rng = np.random.default_rng(3)
    n = 150_000
    x = np.arange(n, dtype=float)
    y = np.cumsum(rng.normal(0, 1, n)) * 0.05 + rng.normal(0, 5, n)
    y[61_728] = 200
    y[100_000:100_300] = np.nan

    def render(item) -> np.ndarray:
        view = pg.GraphicsView()
        qtbot.addWidget(view)
        view.setFrameShape(view.Shape.NoFrame)
        view.setBackground("k")
        vb = pg.ViewBox()
        view.setCentralItem(vb)
        view.resize(600, 300)
        view.show()
        vb.addItem(item)
        vb.setRange(xRange=(25_000, 125_000), yRange=(-80, 220), padding=0)
        qtbot.waitUntil(lambda: vb.width() == 600)
        img = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        pixels = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), -1, 4)
        return pixels[:, : img.width(), :3].max(axis=2) > 60  # ink on black

    pen = pg.mkPen("w", width=1)
    decimated = PeakCurve(x, y, pen)
    ours = render(decimated)
    assert decimated.decimated
    every = render(pg.PlotCurveItem(x, y, pen=pen, connect="finite", antialias=False))
    same = 0
    for c in range(ours.shape[1]):
        a, b = np.flatnonzero(ours[:, c]), np.flatnonzero(every[:, c])
        if a.size == b.size == 0 or (
            a.size and b.size and abs(a[0] - b[0]) <= 1 and abs(a[-1] - b[-1]) <= 1
        ):
            same += 1
    assert same >= 0.99 * ours.shape[1]
    # the one-sample spike (x 61,728 → column 220, y 200 → row 20) is drawn to its top
    assert np.any(ours[18:23, 218:223])


def test_fleet_cells_follow_a_new_report(qtbot):
    """Pills and sparklines are rendered once and reused; a worse status must still
    repaint them in its colour."""
    import numpy as np

    from app.domain.health import FleetReport
    from app.ui.pages.health.fleet_model import P95_COL, STATUS_COL

    t = [T0 - 3600 + 30 * i for i in range(121)]

    def report(status: HealthStatus) -> FleetReport:
        v = [100.0 + (400 if status is HealthStatus.FAILING and i > 100 else 0) for i in range(121)]
        rows = [
            _health(
                {"latency_p95": _latency(t, v)},
                app=f"app-{i}",
                status=status if i == 0 else HealthStatus.HEALTHY,
                window="1h",
                figures={"latency_p95": v[-1] if i == 0 else 100.0},
            )
            for i in range(3)
        ]
        return FleetReport(tuple(rows), "1h", T0)

    class _Service:
        def fleet(self, **_kw):
            return report(HealthStatus.HEALTHY)

        def known_statuses(self):
            return {}

    runner = TaskRunner()
    page = HealthPage(_Service(), runner, theme.LIGHT, poll_seconds=0)
    qtbot.addWidget(page)
    page.resize(1440, 900)
    page.show()
    failing = QColor(theme.LIGHT.failing)

    def reds(col: int) -> int:
        rect = page.table.visualRect(page.model.index(0, col))
        img = page.table.viewport().grab(rect).toImage()
        img = img.convertToFormat(QImage.Format.Format_RGB32)
        px = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), -1, 4)
        px = px[:, : img.width(), :3].astype(int)  # BGR
        target = np.array([failing.blue(), failing.green(), failing.red()])
        return int((np.abs(px - target).sum(axis=2) < 60).sum())

    page.show_report(report(HealthStatus.HEALTHY))
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    assert reds(STATUS_COL) == 0
    assert reds(P95_COL) == 0
    page.show_report(report(HealthStatus.FAILING))
    assert page.model.health_at(0).status is HealthStatus.FAILING
    assert reds(STATUS_COL) > 20
    assert reds(P95_COL) > 20
    assert page.model.data(page.model.index(0, P95_COL)) is None  # drawn, not text
    runner.shutdown()


def test_legend_names_versions_not_ray_deployment_names(qtbot):
    """A canary split into one Ray deployment per version, or counted per version by the
    serving app (``model_version``), gets one line and key per version; one Ray deployment
    serving every version (its name is no version, e.g. ``Model``) is the app's single
    line and needs no key."""
    from dataclasses import replace

    from app.domain.health import RAY_SERVE_SIGNALS, Series, SignalData
    from app.domain.models import Deployment
    from app.ui.pages.health.model_view import ModelHealthView

    spec = next(s for s in RAY_SERVE_SIGNALS if s.key == "latency_p95")
    t = (T0 - 60, T0)

    def latency(*deployments: str, label: str = "deployment") -> SignalData:
        series = tuple(Series({label: d}, t, (40.0, 50.0)) for d in deployments)
        return SignalData(spec, "q", series, 60)

    runner = TaskRunner()
    view = ModelHealthView(None, runner, theme.LIGHT)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    canary = _health({"latency_p95": latency("big-model-v1", "big-model-v2")})
    canary = replace(canary, deployment=Deployment("ray", "big", "big-model", {"1": 90, "2": 10}))
    view.show_health(canary)
    legend = view.legend.text()
    assert "v1" in legend
    assert "v2" in legend
    assert len(view.curves["latency"]) == 2

    # Modeldeck's own serving app: one Ray deployment, per-version counters of its own
    own = replace(canary, signals={"latency_p95": latency("1", "2", label="model_version")})
    view.show_health(own)
    legend = view.legend.text()
    assert "v1" in legend
    assert "v2" in legend
    assert len(view.curves["latency"]) == 2
    # and the versions side by side, under the verdict
    assert view.versions_line.isVisibleTo(view)
    assert "v1 (90 %) p95 latency 45 ms" in view.versions_line.text()
    assert "v2 (10 %) p95 latency 45 ms" in view.versions_line.text()

    view.show_health(_health({"latency_p95": latency("Model")}))
    assert not view.versions_line.isVisibleTo(view)  # one version: nothing to compare
    legend = view.legend.text()
    assert "Model" not in legend
    assert "━━</span> " not in legend  # no colour key for the one line
    assert "p95" in legend
    runner.shutdown()


def test_the_health_page_loads_pyqtgraph_only_for_a_chart() -> None:
    """pyqtgraph costs ≈0.5 s: building the fleet page must not import it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import app.ui.pages.health.page, app.ui.main_window\n"
        "assert 'pyqtgraph' not in sys.modules, 'pyqtgraph loaded with the page'\n"
        "import app.ui.pages.health.model_view\n"
        "assert 'pyqtgraph' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_fleet_model_passes_the_model_tester(qtmodeltester) -> None:
    from app.domain.health import FleetReport
    from app.ui.pages.health.fleet_model import FleetModel

    t = [T0 - 3600 + 30 * i for i in range(121)]
    rows = tuple(
        _health({"latency_p95": _latency(t, [100.0] * 121)}, app=f"app-{i}", window="1h")
        for i in range(3)
    )
    model = FleetModel(theme.LIGHT)
    model.set_report(FleetReport(rows, "1h", T0).deployments)
    qtmodeltester.check(model, force_py=True)
    model.set_filter(text="app-1")
    assert model.rowCount() == 1
    qtmodeltester.check(model, force_py=True)
