"""Activity page: the audit trail, newest first, each entry's diff expandable; the hash
chain is verified on every refresh and the result shown in the header."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import (
    QFileDialog,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.deploy import AuditEntry
from app.services.audit import AuditService
from app.ui import icons
from app.ui.kit.status import AUDIT_RESULT_TONE
from app.ui.kit.widgets import EmptyState, PageHeader, counted, relative_time
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

COLUMNS = ("When", "Who", "Action", "Target", "App", "Result", "Detail")


class ActivityPage(QWidget):
    def __init__(
        self,
        audit: AuditService,
        tasks: TaskRunner,
        tokens: Tokens,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self._audit, self._tasks, self._tokens = audit, tasks, tokens
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = PageHeader("Activity", "")
        self.export_button = QPushButton("Export…")
        self.export_button.setIcon(icons.icon("download", color=tokens.text))
        self.export_button.clicked.connect(self._export)
        self.header.action_bar.addWidget(self.export_button)
        lay.addWidget(self.header)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Audit trail")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(False)
        for col, width in enumerate((140, 90, 90, 110, 160, 80)):
            self.tree.setColumnWidth(col, width)
        self.empty = EmptyState(
            "history",
            "Nothing has happened here yet",
            "Every deploy, scale, canary, rollback and undeploy is recorded with who did it, "
            "what changed and the result.",
        )
        self.stack = QStackedWidget()
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(24, 0, 24, 16)
        bl.addWidget(self.tree)
        self.stack.addWidget(body)
        self.stack.addWidget(self.empty)
        lay.addWidget(self.stack, 1)
        self.entries: list[AuditEntry] = []

    def refresh(self, on_shown: Callable[[], None] | None = None) -> None:
        def load() -> tuple[list[AuditEntry], str | None]:
            entries = self._audit.list()
            from app.domain.deploy import verify_chain

            return entries, verify_chain(entries)

        def shown(result: tuple[list[AuditEntry], str | None]) -> None:
            self._show(*result)
            if on_shown is not None:
                on_shown()

        self._tasks.run(load, name="audit trail", on_done=shown)

    def _show(self, entries: list[AuditEntry], problem: str | None) -> None:
        self.entries = entries
        self.tree.clear()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for e in reversed(entries):
            when = datetime.fromisoformat(e.at.replace("Z", "+00:00"))
            item = QTreeWidgetItem(
                [relative_time(when), e.user, e.action, e.target, e.app, e.result, e.detail]
            )
            item.setToolTip(0, e.at)
            item.setToolTip(6, e.detail)
            color = getattr(self._tokens, AUDIT_RESULT_TONE.get(e.result, "unknown"))
            item.setForeground(5, QBrush(QColor(color)))
            diff = QTreeWidgetItem([""])
            diff.setText(0, e.diff)
            diff.setFont(0, mono)
            diff.setFirstColumnSpanned(True)
            diff.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.addChild(diff)
            self.tree.addTopLevelItem(item)
            diff.setFirstColumnSpanned(True)
        self.stack.setCurrentIndex(0 if entries else 1)
        chain = "hash chain intact" if problem is None else f"⚠ TAMPERED — {problem}"
        self.header.subtitle.setText(f"{counted(len(entries), 'action')} · {chain}")

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the audit trail", "audit.csv", "CSV (*.csv);;JSON (*.json)"
        )
        if path:
            self._tasks.run(self._audit.export, _path(path), name="export audit trail")


def _path(text: str) -> Any:
    from pathlib import Path

    return Path(text)
