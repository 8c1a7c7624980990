"""The Backends page, offscreen, over the real services: a real settings file, the
real keyring (when tests/run.sh provides one), and a real Prometheus on loopback for
"Test connection". Saves a screenshot to the artifacts dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QDialog

from app.domain.doctor import VerdictCode
from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.ui.pages.backends.dialog import BackendDialog
from app.ui.pages.backends.page import BackendsPage
from app.ui.tasks import TaskRunner
from tests.integration.servers import ServerProcess, closed_port, start_prometheus

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_prometheus(tmp_path_factory.mktemp("prom-gui"))
    yield server
    server.stop()


@pytest.fixture
def ctx(workspace: Workspace) -> Iterator[AppContext]:
    c = AppContext.build(workspace)
    yield c
    c.close()


@pytest.fixture
def page(qtbot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackendsPage]:
    runner = TaskRunner()
    p = BackendsPage(ctx.backends, ctx.doctor, runner)
    # without an OS keyring, accept the session-only offer (the question itself is not tested)
    monkeypatch.setattr(p, "confirm_session_only", lambda reason: True)
    monkeypatch.setattr(p, "confirm_remove", lambda name: True)
    qtbot.addWidget(p)
    p.resize(1200, 820)
    p.show()
    qtbot.waitUntil(lambda: p.loaded)
    yield p
    runner.shutdown()


def test_dialog_validates_as_you_type(qtbot, tmp_path: Path):
    dialog = BackendDialog(taken=["prod"])
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.name_edit, "prod")
    assert "already exists" in dialog.error.text()
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "staging")
    qtbot.keyClicks(dialog.url_edit, "http://mlflow.corp.example")
    assert not dialog.ok_button.isEnabled()
    assert "--insecure-http" in dialog.error.text() or "plain HTTP" in dialog.error.text()
    dialog.http_check.setChecked(True)
    assert dialog.ok_button.isEnabled()
    assert dialog.warning.isVisibleTo(dialog)
    assert "not encrypted" in dialog.warning.text()
    qtbot.keyClicks(dialog.ca_edit, str(tmp_path / "missing.pem"))
    assert "CA bundle: no such file" in dialog.error.text()
    assert not dialog.ok_button.isEnabled()


def _kind_item(dialog: BackendDialog, row: int) -> QStandardItem:
    model = dialog.kind_combo.model()
    assert isinstance(model, QStandardItemModel)
    item = model.item(row)
    assert item is not None
    return item


def test_dialog_greys_out_a_kind_modeldeck_cannot_use_yet(qtbot):
    dialog = BackendDialog()
    qtbot.addWidget(dialog)
    rows = {BackendKind(dialog.kind_combo.itemData(r)): r for r in range(dialog.kind_combo.count())}
    kserve = rows[BackendKind.KSERVE]
    item = _kind_item(dialog, kserve)
    assert not item.isEnabled()
    assert "not supported yet" in dialog.kind_combo.itemText(kserve)
    tip = dialog.kind_combo.itemData(kserve, Qt.ItemDataRole.ToolTipRole)
    assert "no adapter for kind 'kserve'" in tip
    # the usable kinds stay selectable, and the dialog opens on one of them
    assert _kind_item(dialog, rows[BackendKind.MLFLOW]).isEnabled()
    assert dialog.kind is not BackendKind.KSERVE


def test_editing_a_hand_written_kserve_entry_keeps_its_kind(qtbot):
    existing = Backend("kube", BackendKind.KSERVE, "https://kube.example:6443")
    dialog = BackendDialog(existing=existing)
    qtbot.addWidget(dialog)
    assert dialog.kind is BackendKind.KSERVE
    row = dialog.kind_combo.currentIndex()
    assert _kind_item(dialog, row).isEnabled()


def fill_and_accept(values: dict[str, str]):
    def exec_(self: BackendDialog) -> int:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(values["kind"]))
        self.name_edit.setText(values["name"])
        self.url_edit.setText(values["url"])
        if values.get("token"):
            self.token_edit.setText(values["token"])
        assert self.ok_button.isEnabled(), self.problems()
        return QDialog.DialogCode.Accepted.value

    return exec_


def test_add_test_remove_and_screenshot(  # noqa: PLR0917 - pytest fixtures
    qtbot,
    page: BackendsPage,
    ctx: AppContext,
    prometheus: ServerProcess,
    monkeypatch: pytest.MonkeyPatch,
    artifacts_dir: Path,
):
    assert page.empty.isVisibleTo(page)
    monkeypatch.setattr(
        BackendDialog,
        "exec",
        fill_and_accept(
            {
                "kind": "prometheus",
                "name": "metrics-prod",
                "url": prometheus.url,
                "token": "gui-secret-9a7b",
            }
        ),
    )
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "metrics-prod" in page.cards)
    assert ctx.backends.get("metrics-prod").url == prometheus.url
    assert ctx.backends.credential("metrics-prod") is not None

    card = page.cards["metrics-prod"]
    assert card.pill.text() == "Not tested"
    qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(page.cards["metrics-prod"], "verdict", None) is not None)
    card = page.cards["metrics-prod"]
    assert card.verdict is not None
    assert card.verdict.code is VerdictCode.OK
    assert card.pill.text().startswith("OK: Prometheus 2.")

    # a realistic fleet for the screenshot: a wrong kind, a dead port (KServe clusters
    # cannot be added until Modeldeck has an adapter for them)
    ctx.backends.add(Backend("registry-prod", BackendKind.MLFLOW, prometheus.url))
    ctx.backends.add(
        Backend("ray-staging", BackendKind.RAY_SERVE, f"http://127.0.0.1:{closed_port()}")
    )
    page.reload()
    qtbot.waitUntil(lambda: len(page.cards) == 3)
    qtbot.mouseClick(page.test_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: all(
            getattr(c, "verdict", None) is not None and c.test_button.isEnabled()
            for c in page.cards.values()
        )
    )
    codes = {n: c.verdict.code for n, c in page.cards.items() if c.verdict}
    assert codes == {
        "metrics-prod": VerdictCode.OK,
        "registry-prod": VerdictCode.WRONG_KIND,
        "ray-staging": VerdictCode.REFUSED,
    }
    wrong = page.cards["registry-prod"]
    assert "Prometheus" in wrong.cause_label.text()
    assert "--kind prometheus" in wrong.next_label.text()
    page.grab().save(str(artifacts_dir / "backends-page.png"))
    dialog = BackendDialog(page, existing=ctx.backends.get("metrics-prod"))
    dialog.verify_check.setChecked(False)
    dialog.resize(600, 520)
    dialog.grab().save(str(artifacts_dir / "backends-dialog.png"))
    dialog.deleteLater()

    qtbot.mouseClick(page.cards["ray-staging"].remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "ray-staging" not in page.cards)
    assert [b.name for b in ctx.backends.list()] == ["metrics-prod", "registry-prod"]


def test_broken_settings_entry_shows_a_banner(qtbot, workspace: Workspace, ctx: AppContext):
    workspace.settings_path.write_text(
        'schema_version = 2\n[backends.good]\nkind = "mlflow"\nurl = "http://127.0.0.1:5000"\n'
        '[backends.bad]\nkind = "mlfow"\nurl = "http://127.0.0.1:5000"\n'
    )
    runner = TaskRunner()
    p = BackendsPage(ctx.backends, ctx.doctor, runner)
    qtbot.addWidget(p)
    qtbot.waitUntil(lambda: p.loaded)
    assert list(p.cards) == ["good"]
    assert p.banner.isVisibleTo(p)
    assert "backends.bad" in p.banner.text()
    runner.shutdown()
