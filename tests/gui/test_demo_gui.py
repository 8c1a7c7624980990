"""The demo workspace in the real window, offscreen: every page populated and working
without a server — Health with data for every deployment (unknown only where the demo
generated a gap), a deployment's charts, Deploy to a demo cluster reaching RUNNING and
showing in Deployments and Activity, a rollback from the Deployments page, Backends
badged "demo" — and the user's real workspace byte-identical afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.demo import world as worlds
from app.domain.health import HealthStatus
from app.domain.models import Backend, BackendKind, Deployment, DeploymentStatus, VersionStatus
from app.services import demo
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.ui.main_window import MainWindow
from app.ui.pages.activity.page import ActivityPage
from app.ui.pages.deployments.model import DEPLOYMENT_ROLE
from app.ui.pages.health.page import HealthPage

pytestmark = pytest.mark.gui


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but the demo workspace (``<data dir>/demo``)."""
    demo_root = root / "data" / "demo"
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_relative_to(demo_root)
    }


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, bytes]]:
    """A user's real workspace (a registry configured, a cache) and its bytes before."""
    ws = Workspace.under(tmp_path_factory.mktemp("real-home"))
    ctx = AppContext.build(ws)
    ctx.backends.add(Backend("prod-mlflow", BackendKind.MLFLOW, "https://mlflow.example.com"))
    ctx.close()
    demo.create(ws.demo, 2000)
    return ws, _files(ws.root)


@pytest.fixture
def ctx(real: tuple[Workspace, dict[str, bytes]]) -> Iterator[AppContext]:
    c = AppContext.build(real[0].demo)
    c.deploy._poll_s = 0.25
    yield c
    c.close()


@pytest.fixture
def window(qtbot, ctx: AppContext) -> Iterator[MainWindow]:
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    yield w
    w.shutdown()


def test_the_window_says_it_is_the_demo(window: MainWindow) -> None:
    assert "Demo" in window.windowTitle()
    badges = [b.text() for b in window.statusBar().findChildren(type(window.freshness))]
    assert "Demo workspace" in badges


def test_health_has_data_for_every_demo_deployment(
    qtbot, window: MainWindow, ctx: AppContext, artifacts_dir: Path
) -> None:
    window.show_page("health")
    page = window.page("health")
    assert isinstance(page, HealthPage)
    qtbot.waitUntil(
        lambda: page.model.rowCount() > 0 and not page.controller.running, timeout=30_000
    )
    rows = page.model.all_rows
    assert len(rows) == len(ctx.catalog.deployments())
    unknown = {h.key for h in rows if h.status is HealthStatus.UNKNOWN}
    assert unknown == demo.expected_unknown(ctx.workspace)
    assert not page.offline.isVisible()
    statuses = {h.status for h in rows}
    assert {HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.FAILING} <= statuses
    window.grab().save(str(artifacts_dir / "demo-health-fleet.png"))

    canary = next(
        h for h in rows if len(h.deployment.traffic) > 1 and h.status is HealthStatus.HEALTHY
    )
    view = page.open_deployment(*canary.key, "6h")
    qtbot.waitUntil(lambda: view.health is not None and not view.loading, timeout=30_000)
    assert view.curves["latency"]
    assert all(c.x.size > 100 for c in view.curves["latency"])
    assert len({c.label for c in view.curves["latency"]}) >= 2  # split by version
    window.grab().save(str(artifacts_dir / "demo-health-model.png"))


def _undeployed_model(ctx: AppContext) -> tuple[str, list[str]]:
    deployed = {d.model_name for d in ctx.catalog.deployments()}
    broken = worlds.load("test", ctx.workspace.data_dir).broken()
    for m in ctx.catalog.search("source:mlflow-prod", limit=500):
        if m.name in deployed or m.name in broken:
            continue
        ready = [
            v.version
            for v in ctx.catalog.show(m.name, m.source).versions
            if v.status is VersionStatus.READY
        ]
        if len(ready) >= 2:
            return m.name, ready
    raise AssertionError("no undeployed model with two ready versions")


def test_deploy_dialog_to_the_demo_cluster_then_roll_back(
    qtbot, window: MainWindow, ctx: AppContext, artifacts_dir: Path
) -> None:
    model, ready = _undeployed_model(ctx)
    page = window.catalog_page.open_model("mlflow-prod", model)
    qtbot.waitUntil(lambda: getattr(page, "detail", None) is not None, timeout=10_000)
    assert page.deploy.isEnabled()
    page.deploy.click()
    dialog = window.deploy_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.target.count() == 3, timeout=10_000)
    dialog.target.setCurrentText("staging")
    dialog.version.setCurrentText(ready[1])  # the version before the newest
    qtbot.waitUntil(
        lambda: (
            dialog.plan is not None
            and dialog.plan.target == "staging"
            and f"v{ready[1]} " in dialog.plan.summary
            and dialog.confirm.isEnabled()
        ),
        timeout=30_000,
    )
    assert "✗" not in dialog.checks.text()
    dialog.confirm.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=60_000)
    assert dialog.outcome.ok, dialog.outcome.message
    assert dialog.outcome.status == "RUNNING"
    dialog.grab().save(str(artifacts_dir / "demo-deploy-done.png"))
    dialog.close()
    app = dialog.outcome.plan.app
    # then the newest version, from the service (the dialog did the first)
    ctx.deploy.apply(ctx.deploy.plan_deploy("staging", model, ready[0], app=app))

    window.show_page("deployments")
    deployments = window.deployments_page
    deployments.refresh()

    def row() -> Deployment | None:
        m = deployments.model
        found = [m.data(m.index(r, 0), DEPLOYMENT_ROLE) for r in range(m.rowCount())]
        return next((d for d in found if d.app == app and d.target == "staging"), None)

    def traffic() -> dict[str, int]:
        found = row()
        return dict(found.traffic) if found is not None else {}

    qtbot.waitUntil(lambda: traffic() == {ready[0]: 100})
    dep = row()
    assert dep is not None
    assert dep.status is DeploymentStatus.RUNNING

    window.show_page("activity")
    activity = window.page("activity")
    assert isinstance(activity, ActivityPage)
    activity.refresh()
    qtbot.waitUntil(lambda: any(e.app == app for e in activity.entries), timeout=10_000)
    assert "hash chain intact" in activity.header.subtitle.text()
    assert len(activity.entries) > 30  # the demo's weeks of history, and ours

    window.show_page("deployments")
    deployments.plan_action("rollback", dep)
    qtbot.waitUntil(lambda: deployments.confirm_box is not None, timeout=30_000)
    box = deployments.confirm_box
    assert box is not None
    go = next(b for b in box.buttons() if b.text().startswith(f"Roll back {app} on staging"))
    go.click()
    qtbot.waitUntil(lambda: deployments.last_outcome is not None, timeout=60_000)
    assert deployments.last_outcome.ok, deployments.last_outcome
    qtbot.waitUntil(lambda: traffic() == {ready[1]: 100})
    ctx.deploy.apply(ctx.deploy.plan_undeploy("staging", app))


def test_backends_are_badged_demo_with_simulated_verdicts(qtbot, window: MainWindow) -> None:
    window.show_page("backends")
    page = window.backends_page
    qtbot.waitUntil(lambda: len(page.cards) == 6, timeout=10_000)
    for card in page.cards.values():
        texts = [w.text() for w in card.findChildren(type(card.name_label))]
        assert "demo" in texts, card.backend.name
        assert card.verdict is not None
        assert card.verdict.summary == "demo backend (simulated)"


def test_the_real_workspace_is_byte_identical(real: tuple[Workspace, dict[str, bytes]]) -> None:
    ws, before = real
    assert _files(ws.root) == before
