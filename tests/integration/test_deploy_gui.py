"""The Deploy dialog and the Activity page against a REAL Ray head and a REAL MLflow
(session fixtures): the model page's Deploy… opens the dialog, the plan and pre-flight
come from the cluster and the registry, confirm deploys and the Activity page lists the
audit trail. Screenshots go to the artifacts dir."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.ui.main_window import MainWindow
from app.ui.pages.activity.page import ActivityPage
from app.ui.pages.deployments.model import DEPLOYMENT_ROLE
from tests.integration.servers import RayHead, backend_venv, require

pytestmark = [pytest.mark.integration, pytest.mark.gui, pytest.mark.slow]

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def gui_model(mlflow_server: str) -> str:
    name = f"fraud-model-{uuid.uuid4().hex[:4]}"
    py = backend_venv("mlflow") / "bin" / "python"
    require(py.exists(), "no MLflow venv (make backend-venvs)")
    script = HERE / "fixtures" / "register_constant_models.py"
    proc = subprocess.run(
        [str(py), str(script), mlflow_server, name],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return name


@pytest.fixture
def servers(ray_head: RayHead, mlflow_server: str) -> tuple[RayHead, str]:
    return ray_head, mlflow_server


def test_deploy_dialog_deploys_and_activity_lists_it(
    qtbot, workspace: Workspace, servers: tuple[RayHead, str], gui_model: str, artifacts_dir: Path
) -> None:
    ray_head, mlflow_server = servers
    ctx = AppContext.build(workspace)
    ctx.backends.add(Backend("mlflow", BackendKind.MLFLOW, mlflow_server))
    ctx.backends.add(
        Backend(
            "prod-ray",
            BackendKind.RAY_SERVE,
            ray_head.dashboard_url,
            timeout_s=30,
            options={"registry": "mlflow", "num_cpus": "0.1"},
        )
    )
    ctx.deploy._poll_s = 0.25
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    with qtbot.waitSignal(w.sync.sig_finished, timeout=120_000):
        assert w.sync.sync_now()
    page = w.catalog_page.open_model("mlflow", gui_model)
    qtbot.waitUntil(lambda: getattr(page, "detail", None) is not None, timeout=10_000)
    assert page.deploy.isEnabled()
    page.deploy.click()
    dialog = w.deploy_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.confirm.isEnabled(), timeout=60_000)
    assert dialog.version.currentText() == "2"  # newest first
    assert dialog.confirm.text() == f"Deploy {gui_model} v2 to prod-ray"
    assert "✓" in dialog.checks.text()
    assert "✗" not in dialog.checks.text()
    assert f"add app {gui_model}" in dialog.diff.toPlainText()
    # the confirm button shows its whole label (it once stayed at the width of "Deploy")
    label = dialog.confirm.text()
    qtbot.waitUntil(
        lambda: dialog.confirm.width() >= dialog.confirm.fontMetrics().horizontalAdvance(label),
        timeout=5000,
    )
    # and every pre-flight line is visible, not clipped to the first
    assert dialog.checks.text().count("✓") >= 4
    qtbot.waitUntil(
        lambda: dialog.checks.height() >= dialog.checks.heightForWidth(dialog.checks.width()),
        timeout=5000,
    )
    dialog.grab().save(str(artifacts_dir / "deploy-dialog-plan.png"))

    dialog.confirm.click()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=240_000)
    assert dialog.outcome.ok, dialog.outcome.message
    assert "RUNNING" in dialog.messages.toPlainText()
    dialog.grab().save(str(artifacts_dir / "deploy-dialog-done.png"))
    r = httpx.post(f"{ray_head.serve_url}/{gui_model}", json={"inputs": [[0, 0]]}, timeout=30)
    assert r.headers["x-modeldeck-version"] == "2"
    dialog.close()

    w.show_page("activity")
    activity = w.page("activity")
    assert isinstance(activity, ActivityPage)
    qtbot.waitUntil(lambda: any(e.app == gui_model for e in activity.entries), timeout=10_000)
    assert "hash chain intact" in activity.header.subtitle.text()
    top = activity.tree.topLevelItem(0)
    assert top is not None
    assert (top.text(2), top.text(4), top.text(5)) == ("deploy", gui_model, "ok")
    activity.tree.expandItem(top)
    diff_item = top.child(0)
    assert diff_item is not None
    assert f"Deploy {gui_model} v2" in diff_item.text(0)
    w.grab().save(str(artifacts_dir / "activity-page.png"))

    # a row action on the Deployments page: scale to 2, confirmed in the plan box
    w.show_page("deployments")
    deployments = w.deployments_page
    qtbot.waitUntil(lambda: deployments.model.rowCount() == 1, timeout=10_000)
    dep = deployments.model.data(deployments.model.index(0, 0), DEPLOYMENT_ROLE)
    assert (dep.app, dep.replicas, dict(dep.traffic)) == (gui_model, 1, {"2": 100})
    deployments.plan_action("scale", dep, replicas=2)
    qtbot.waitUntil(lambda: deployments.confirm_box is not None, timeout=30_000)
    box = deployments.confirm_box
    assert box is not None
    go = next(
        b for b in box.buttons() if b.text() == f"Scale {gui_model} on prod-ray to 2 replica(s)"
    )
    box.grab().save(str(artifacts_dir / "deployments-scale-confirm.png"))
    go.click()
    qtbot.waitUntil(lambda: deployments.last_outcome is not None, timeout=240_000)
    assert deployments.last_outcome.ok, deployments.last_outcome
    qtbot.waitUntil(
        lambda: (
            deployments.model.data(deployments.model.index(0, 0), DEPLOYMENT_ROLE).replicas == 2
        ),
        timeout=10_000,
    )
    apps = httpx.get(f"{ray_head.dashboard_url}/api/serve/applications/", timeout=30).json()
    replicas = apps["applications"][gui_model]["deployments"]["Model"]["replicas"]
    assert [r["state"] for r in replicas] == ["RUNNING", "RUNNING"]
    w.grab().save(str(artifacts_dir / "deployments-page.png"))

    ctx.deploy.apply(ctx.deploy.plan_undeploy("prod-ray", gui_model))
    w.shutdown()
    ctx.close()
