"""The Deployments row's "Why…" panel: the report is read on a worker and shown
monospace and copyable; an error is shown in place."""

from __future__ import annotations

from typing import Any, cast

import pytest
from PySide6.QtGui import QFontDatabase, QGuiApplication

from app.domain import diagnose as dx
from app.domain.errors import Unreachable
from app.ui.pages.deployments.why_dialog import WhyDialog
from app.ui.tasks import TaskRunner

pytestmark = pytest.mark.gui

REPORT = dx.WhyReport(
    target="ray",
    app="fraud",
    status="DEPLOY_FAILED",
    message="Failed to update the deployments ['Model'].",
    deployments=(
        dx.DeploymentWhy(
            "Model",
            "DEPLOY_FAILED",
            "The deployment failed to start 3 times in a row.",
            (dx.ReplicaWhy("abc", "STOPPED (recently stopped)", 42),),
        ),
    ),
    logs=(dx.LogExcerpt("controller (lines about fraud)", "serve/controller_1.log", ("boom",)),),
)


class FakeDeploy:
    def __init__(self, result: dx.WhyReport | Exception) -> None:
        self.result = result
        self.calls: list[tuple[str, str, int]] = []

    def why(self, target: str, app: str, *, lines: int) -> dx.WhyReport:
        self.calls.append((target, app, lines))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _dialog(qtbot: Any, fake: FakeDeploy) -> WhyDialog:
    runner = TaskRunner()
    dialog = WhyDialog(lambda: cast(Any, fake), runner, "ray", "fraud")
    qtbot.addWidget(dialog)
    return dialog


def test_why_shows_states_messages_and_log_lines(qtbot: Any) -> None:
    fake = FakeDeploy(REPORT)
    dialog = _dialog(qtbot, fake)
    dialog.lines.setValue(20)
    dialog.load()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=5000)
    assert fake.calls == [("ray", "fraud", 20)]
    text = dialog.text.toPlainText()
    assert "failed to start 3 times" in text
    assert "| boom" in text
    assert "DEPLOY_FAILED" in dialog.status.text()
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    assert dialog.text.font().family() == fixed.family()
    dialog.copy.click()
    assert QGuiApplication.clipboard().text() == text


def test_why_shows_an_error_in_place(qtbot: Any) -> None:
    dialog = _dialog(qtbot, FakeDeploy(Unreachable("ray", "connection refused")))
    dialog.load()
    qtbot.waitUntil(lambda: "✗" in dialog.status.text(), timeout=5000)
    assert "connection refused" in dialog.status.text()
    assert dialog.reload.isEnabled()
