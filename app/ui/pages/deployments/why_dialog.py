"""The "Why…" panel of a Deployments row: everything the cluster says about one app —
states, messages and the replicas' last log lines — read on a worker
(``DeployService.why``), shown monospace and copyable. Read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain import diagnose as dx
from app.domain.errors import ModeldeckError
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.services.deploy import DeployService


class WhyDialog(QDialog):
    def __init__(
        self,
        deploy: Callable[[], DeployService],
        tasks: TaskRunner,
        target: str,
        app: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._deploy, self._tasks = deploy, tasks
        self.target, self.app = target, app
        self.report: dx.WhyReport | None = None
        self.setWindowTitle(f"Why: {app} on {target}")
        self.resize(900, 600)
        lay = QVBoxLayout(self)
        self.status = QLabel("Reading what the cluster says…")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("What the cluster says")
        lay.addWidget(self.text, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Log lines"))
        self.lines = QSpinBox()
        self.lines.setRange(1, dx.MAX_LOG_LINES)
        self.lines.setValue(dx.DEFAULT_LOG_LINES)
        row.addWidget(self.lines)
        self.reload = QPushButton("Refresh")
        self.reload.clicked.connect(self.load)
        row.addWidget(self.reload)
        row.addStretch(1)
        self.copy = QPushButton("Copy")
        self.copy.clicked.connect(self._copy)
        row.addWidget(self.copy)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        row.addWidget(close)
        lay.addLayout(row)

    def load(self) -> None:
        self.reload.setEnabled(False)
        self.status.setText("Reading what the cluster says…")
        svc = self._deploy()
        self._tasks.run(
            svc.why,
            self.target,
            self.app,
            lines=self.lines.value(),
            name=f"why {self.app}",
            on_done=self._show,
            on_error=self._failed,
        )

    def _show(self, report: dx.WhyReport) -> None:
        self.report = report
        self.reload.setEnabled(True)
        head = f"{report.app} on {report.target}: {report.status}"
        if report.message:
            head += f" — {report.message.splitlines()[0]}"
        self.status.setText(head)
        self.text.setPlainText(report.text())

    def _failed(self, exc: BaseException) -> None:
        self.reload.setEnabled(True)
        self.status.setText(
            f"✗ {exc}" if isinstance(exc, ModeldeckError) else f"✗ could not read: {exc}"
        )

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())
