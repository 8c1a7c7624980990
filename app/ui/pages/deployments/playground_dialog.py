"""The playground of a Deployments row: an editable JSON body (pre-filled from the
version's MLflow input example), Send — the answer with its HTTP status, latency and the
version that answered — and Compare: the same body to the stable version and to the
canary, side by side, the lines that differ highlighted. Every request runs on a worker
(``DeployService.example_body`` / ``predict`` / ``compare``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QColor, QFontDatabase, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain import diagnose as dx
from app.domain.errors import ModeldeckError
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.services.deploy import DeployService

#: the placeholder body when the version has no example (the serving app's shape)
PLACEHOLDER = '{\n  "inputs": [[0.0]]\n}'
DIFF_COLOUR = "#f59e0b"


def _mono(edit: QPlainTextEdit) -> None:
    edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)


def _highlight(edit: QPlainTextEdit, lines: Iterable[int]) -> None:
    colour = QColor(DIFF_COLOUR)
    colour.setAlpha(70)
    marks = []
    for n in sorted(lines):
        block = edit.document().findBlockByNumber(n)
        if not block.isValid():
            continue
        sel = QTextEdit.ExtraSelection()
        sel.format.setBackground(colour)
        sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        cursor = QTextCursor(block)
        sel.cursor = cursor
        marks.append(sel)
    edit.setExtraSelections(marks)


class PlaygroundDialog(QDialog):
    def __init__(
        self,
        deploy: Callable[[], DeployService],
        tasks: TaskRunner,
        target: str,
        app: str,
        traffic: dict[str, int],
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._deploy, self._tasks = deploy, tasks
        self.target, self.app = target, app
        self.answer: dx.PredictResult | None = None
        self.compared: tuple[dx.PredictResult, dx.PredictResult] | None = None
        self.setWindowTitle(f"Playground: {app} on {target}")
        self.resize(1000, 680)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Request body (JSON)"))
        self.body = QPlainTextEdit(PLACEHOLDER)
        self.body.setAccessibleName("Request body")
        _mono(self.body)
        lay.addWidget(self.body, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel("Version"))
        self.version = QComboBox()
        self.version.addItem("as routed (the traffic split)", None)
        for v, pct in traffic.items():
            self.version.addItem(f"v{v} only ({pct} % of traffic)", v)
        row.addWidget(self.version)
        self.send = QPushButton("Send")
        self.send.setObjectName("primary")
        self.send.clicked.connect(self.send_request)
        row.addWidget(self.send)
        self.compare = QPushButton("Compare stable and canary")
        self.compare.setEnabled(len(traffic) > 1)
        self.compare.setToolTip(
            "" if len(traffic) > 1 else "no canary runs: only one version answers"
        )
        self.compare.clicked.connect(self.compare_versions)
        row.addWidget(self.compare)
        row.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        row.addWidget(close)
        lay.addLayout(row)
        self.status = QLabel("Reading an example body from the registry…")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.split = QSplitter()
        self.left = QPlainTextEdit()
        self.right = QPlainTextEdit()
        for edit, name in ((self.left, "Answer"), (self.right, "Canary's answer")):
            edit.setReadOnly(True)
            edit.setAccessibleName(name)
            _mono(edit)
            self.split.addWidget(edit)
        self.right.hide()
        lay.addWidget(self.split, 3)

    # ------------------------------------------------------------ example
    def load_example(self) -> None:
        svc = self._deploy()
        self._tasks.run(
            svc.example_body,
            self.target,
            self.app,
            name=f"example body for {self.app}",
            on_done=self._example,
            on_error=lambda exc: self.status.setText(
                f"No example body: {exc}. Edit the body above."
            ),
        )

    def _example(self, example: dx.ExampleBody) -> None:
        self.body.setPlainText(json.dumps(example.body, indent=2))
        self.status.setText(
            f"Body from the version's {example.origin}." + "".join(f" {n}" for n in example.notes)
        )

    # ------------------------------------------------------------ send
    def _parsed(self) -> Any:
        try:
            return json.loads(self.body.toPlainText())
        except ValueError as exc:
            self.status.setText(f"✗ the body is not JSON: {exc}")
            return None

    def _busy(self, busy: bool, text: str = "") -> None:
        self.send.setEnabled(not busy)
        self.compare.setEnabled(not busy and self.version.count() > 2)
        if text:
            self.status.setText(text)

    def send_request(self) -> None:
        body = self._parsed()
        if body is None:
            return
        self._busy(True, "Sending…")
        svc = self._deploy()
        self._tasks.run(
            svc.predict,
            self.target,
            self.app,
            body,
            version=self.version.currentData(),
            name=f"predict {self.app}",
            on_done=self._answered,
            on_error=self._failed,
        )

    def _answered(self, result: dx.PredictResult) -> None:
        self._busy(False)
        self.answer = result
        self.right.hide()
        self.left.setExtraSelections([])
        self.status.setText(_summary(result))
        self.left.setPlainText(dx.answer_text(result) if not result.timed_out else "")

    def compare_versions(self) -> None:
        body = self._parsed()
        if body is None:
            return
        self._busy(True, "Sending to both versions…")
        svc = self._deploy()
        self._tasks.run(
            svc.compare,
            self.target,
            self.app,
            body,
            name=f"compare {self.app}",
            on_done=self._compared,
            on_error=self._failed,
        )

    def _compared(self, pair: tuple[dx.PredictResult, dx.PredictResult]) -> None:
        self._busy(False)
        self.compared = pair
        stable, canary = pair
        a, b = dx.answer_text(stable), dx.answer_text(canary)
        self.left.setPlainText(a)
        self.right.setPlainText(b)
        self.right.show()
        only_a, only_b = dx.differing_lines(a, b)
        _highlight(self.left, only_a)
        _highlight(self.right, only_b)
        same = "the same answer" if not only_a and not only_b else "answers differ"
        self.status.setText(f"{_summary(stable)}   |   {_summary(canary)}   — {same}")

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.status.setText(
            f"✗ {exc}" if isinstance(exc, ModeldeckError) else f"✗ could not send: {exc}"
        )


def _summary(r: dx.PredictResult) -> str:
    if r.timed_out:
        return f"✗ {r.note}"
    who = f"v{r.version}" if r.version else "version unknown"
    text = f"HTTP {r.status} · {r.latency_ms:.0f} ms · {who}"
    return f"{text} · {r.note}" if r.note else text
