"""Deployments page: every app on every target, as last seen (from the cache)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.models import Deployment, DeploymentStatus
from app.services.catalog import CatalogService
from app.ui.kit.widgets import EmptyState, PageHeader, counted
from app.ui.pages.deployments.delegates import StatusPillDelegate, TrafficBarDelegate
from app.ui.pages.deployments.model import (
    DEPLOYMENT_ROLE,
    STATUS_COL,
    TRAFFIC_COL,
    DeploymentsModel,
)
from app.ui.pages.deployments.playground_dialog import PlaygroundDialog
from app.ui.pages.deployments.why_dialog import WhyDialog
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

if TYPE_CHECKING:
    from app.domain.deploy import Plan
    from app.services.deploy import DeployService


class DeploymentsPage(QWidget):
    def __init__(
        self,
        catalog: CatalogService,
        tasks: TaskRunner,
        tokens: Tokens,
        parent: QWidget | None = None,
        *,
        deploy: Callable[[], DeployService] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self._catalog, self._tasks = catalog, tasks
        #: the deploy service, built on the first row action (it brings httpx)
        self._deploy = deploy
        self.confirm_box: QMessageBox | None = None
        self.last_outcome: Any = None
        self.why_dialog: WhyDialog | None = None
        self.playground_dialog: PlaygroundDialog | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = PageHeader("Deployments", "")
        lay.addWidget(self.header)
        self.model = DeploymentsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Deployments")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(32)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setHighlightSections(False)
        for col, width in enumerate((120, 110, 250, 250, 190, 80, 100)):
            self.table.setColumnWidth(col, width)
        self.table.setItemDelegateForColumn(STATUS_COL, StatusPillDelegate(tokens, self.table))
        self.table.setItemDelegateForColumn(TRAFFIC_COL, TrafficBarDelegate(tokens, self.table))
        if deploy is not None:
            self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            self.table.customContextMenuRequested.connect(self._row_menu)
        self.empty = EmptyState(
            "rocket-launch-outline",
            "Nothing deployed yet",
            "Add a Ray Serve cluster in Backends, then deploy any model version from the "
            "catalog with one click.",
        )
        self.stack = QStackedWidget()
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(24, 0, 24, 16)
        bl.addWidget(self.table)
        self.stack.addWidget(body)
        self.stack.addWidget(self.empty)
        lay.addWidget(self.stack, 1)

    def refresh(self) -> None:
        self._tasks.run(self._catalog.deployments, name="deployments", on_done=self._show)

    # ------------------------------------------------------------- row actions
    def _row_menu(self, pos: Any) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        dep = self.model.data(index, DEPLOYMENT_ROLE)
        menu = QMenu(self)
        menu.addAction("Why…", lambda: self.show_why(dep))
        menu.addAction("Playground…", lambda: self.show_playground(dep))
        menu.addSeparator()
        menu.addAction("Scale…", lambda: self._ask_scale(dep))
        menu.addAction("Canary…", lambda: self._ask_canary(dep))
        menu.addAction("Promote canary", lambda: self.plan_action("promote", dep))
        menu.addAction("Roll back", lambda: self.plan_action("rollback", dep))
        menu.addSeparator()
        menu.addAction("Undeploy", lambda: self.plan_action("undeploy", dep))
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def show_why(self, dep: Deployment) -> WhyDialog:
        """The app's states, messages and recent log lines, read on a worker."""
        assert self._deploy is not None
        dialog = WhyDialog(self._deploy, self._tasks, dep.target, dep.app, self)
        self.why_dialog = dialog
        dialog.open()
        dialog.load()
        return dialog

    def show_playground(self, dep: Deployment) -> PlaygroundDialog:
        """Send a request to the app (body pre-filled from its input example), compare
        the stable version's answer with the canary's."""
        assert self._deploy is not None
        dialog = PlaygroundDialog(
            self._deploy, self._tasks, dep.target, dep.app, dict(dep.traffic), parent=self
        )
        self.playground_dialog = dialog
        dialog.open()
        dialog.load_example()
        return dialog

    def _ask_scale(self, dep: Deployment) -> None:
        n, ok = QInputDialog.getInt(self, "Scale", f"Replicas of {dep.app}", dep.replicas, 1, 64)
        if ok:
            self.plan_action("scale", dep, replicas=n)

    def _ask_canary(self, dep: Deployment) -> None:
        version, ok = QInputDialog.getText(
            self, "Canary", f"Version to send traffic to ({dep.app})"
        )
        if not ok or not version.strip():
            return
        pct, ok = QInputDialog.getInt(self, "Canary", "Percent of traffic", 10, 1, 99)
        if ok:
            self.plan_action("canary", dep, version=version.strip(), percent=pct)

    def plan_action(self, action: str, dep: Deployment, **params: Any) -> None:
        """Build the plan on a worker, then ask for confirmation showing it."""
        assert self._deploy is not None
        svc = self._deploy()
        fn = {
            "scale": lambda: svc.plan_scale(dep.target, dep.app, params["replicas"]),
            "canary": lambda: svc.plan_canary(
                dep.target, dep.app, params["version"], params["percent"]
            ),
            "promote": lambda: svc.plan_promote(dep.target, dep.app),
            "rollback": lambda: svc.plan_rollback(dep.target, dep.app),
            "undeploy": lambda: svc.plan_undeploy(dep.target, dep.app),
        }[action]
        self._tasks.run(
            fn, name=f"plan {action} {dep.app}", on_done=self._confirm, on_error=self._failed
        )

    def _confirm(self, plan: Plan) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(plan.summary)
        box.setText(plan.summary)
        box.setInformativeText("\n".join(f"{'✓' if c.ok else '✗'} {c.name}" for c in plan.checks))
        box.setDetailedText(plan.text())
        go = box.addButton(plan.summary, QMessageBox.ButtonRole.AcceptRole)
        go.setObjectName("primary")
        go.setEnabled(plan.ok)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.accepted.connect(lambda: self._apply(plan))
        self.confirm_box = box
        box.open()

    def _apply(self, plan: Plan) -> None:
        assert self._deploy is not None
        self.header.subtitle.setText(f"{plan.summary}…")
        self._tasks.run(
            self._deploy().apply,
            plan,
            name=plan.summary,
            on_progress=lambda _d, _t, text: self.header.subtitle.setText(text),
            on_done=self._applied,
            on_error=self._failed,
        )

    def _applied(self, outcome: Any) -> None:
        self.last_outcome = outcome
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.last_outcome = exc
        self.header.subtitle.setText(f"✗ {exc}")

    def _show(self, rows: list[Deployment]) -> None:
        self.model.set_deployments(rows)
        self.stack.setCurrentIndex(0 if rows else 1)
        targets = sorted({d.target for d in rows})
        bad = sum(
            d.status in (DeploymentStatus.UNHEALTHY, DeploymentStatus.DEPLOY_FAILED) for d in rows
        )
        text = f"{counted(len(rows), 'app')} on {counted(len(targets), 'target')} (as last seen)"
        if bad:
            text += f" · {bad} need attention"
        self.header.subtitle.setText(text)
