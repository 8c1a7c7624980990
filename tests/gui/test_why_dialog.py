"""The Deployments row's "Why…" panel: the report is read on a worker and shown
monospace and copyable; an error is shown in place."""

from __future__ import annotations

import json
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


def _result(version: str, value: float) -> dx.PredictResult:
    return dx.PredictResult(
        "ray", "fraud", "http://127.0.0.1:1/fraud", version, 200, 12.0,
        {"predictions": [value], "version": version},
    )  # fmt: skip


class FakePlayground:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, str | None]] = []

    def example_body(self, target: str, app: str) -> dx.ExampleBody:
        return dx.ExampleBody({"inputs": [[0.0, 0.0]]})

    def predict(self, target: str, app: str, body: Any, *, version: str | None) -> Any:
        self.sent.append((body, version))
        return _result(version or "1", 2.0 if version == "2" else 1.0)

    def compare(self, target: str, app: str, body: Any) -> Any:
        return _result("1", 1.0), _result("2", 2.0)


def test_playground_prefills_sends_pinned_and_compares(qtbot: Any) -> None:
    from app.ui.pages.deployments.playground_dialog import PlaygroundDialog

    fake = FakePlayground()
    dialog = PlaygroundDialog(
        lambda: cast(Any, fake), TaskRunner(), "ray", "fraud", {"1": 50, "2": 50}
    )
    qtbot.addWidget(dialog)
    dialog.load_example()
    qtbot.waitUntil(lambda: "Body from" in dialog.status.text(), timeout=5000)
    assert json.loads(dialog.body.toPlainText()) == {"inputs": [[0.0, 0.0]]}

    dialog.version.setCurrentIndex(dialog.version.findData("2"))
    dialog.send.click()
    qtbot.waitUntil(lambda: dialog.answer is not None, timeout=5000)
    assert fake.sent == [({"inputs": [[0.0, 0.0]]}, "2")]
    assert "HTTP 200 · 12 ms · v2" in dialog.status.text()
    assert '"version": "2"' in dialog.left.toPlainText()

    assert dialog.compare.isEnabled()
    dialog.compare.click()
    qtbot.waitUntil(lambda: dialog.compared is not None, timeout=5000)
    assert not dialog.right.isHidden()
    assert "answers differ" in dialog.status.text()
    assert len(dialog.left.extraSelections()) == 2  # the prediction and the version
    assert len(dialog.right.extraSelections()) == 2

    dialog.body.setPlainText("{not json")
    dialog.send.click()
    assert "not JSON" in dialog.status.text()
