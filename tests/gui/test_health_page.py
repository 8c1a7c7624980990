"""Health page offscreen over the real services and a real Prometheus holding 7 days of
backfilled Ray Serve history: fleet view and model charts (screenshots, light and dark),
and Prometheus going down: cached windows shown stale, status unknown, no freeze."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.health import HealthStatus
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.ui import theme
from app.ui.health import HealthPage
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
        page.grab().save(str(artifacts_dir / f"health-model-{mode}.png"))
        assert view.export_png(tmp_path / "charts.png")
        rows = view.export_csv(tmp_path / "series.csv")
        assert rows > 1000
        header = (tmp_path / "series.csv").read_text().splitlines()[0]
        assert header.startswith("signal,labels,time_utc")
        runner.shutdown()
    finally:
        theme.apply(qapp, theme.LIGHT)


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
