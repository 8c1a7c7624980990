"""Deploy dialog: left the form (defaults from the last target), right the live plan —
the pre-flight checklist (✓/✗) and the diff of the whole target config. The confirm
button says what it will do; on confirm the body becomes a step list with the
cluster's messages. Every service call runs through ``TaskRunner``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.deploy import Plan, app_name_for
from app.services.deploy import DeployService, Outcome
from app.ui.kit.widgets import named
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

_LAST_TARGET = "deploy/last_target"


class DeployDialog(QDialog):
    #: a deploy finished (ok or not); the deployments page refreshes
    sig_applied = Signal(object)

    def __init__(
        self,
        deploy: DeployService,
        tasks: TaskRunner,
        tokens: Tokens,
        model: str,
        versions: Sequence[str],
        *,
        parent: QWidget | None = None,
        version: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Deploy {model}")
        self.resize(980, 600)
        self._deploy, self._tasks, self._tokens = deploy, tasks, tokens
        self.model_name = model
        self.plan: Plan | None = None
        self.outcome: Outcome | None = None
        self._generation = 0
        self._settings = QSettings()

        root = QVBoxLayout(self)
        root.setContentsMargins(24, 20, 24, 20)
        root.setSpacing(14)
        title = named(QLabel(f"Deploy {model}"), "pageTitle")
        root.addWidget(title)
        self.body = QStackedWidget()
        root.addWidget(self.body, 1)

        # ---- form + plan
        form_page = QWidget()
        cols = QHBoxLayout(form_page)
        cols.setContentsMargins(0, 0, 0, 0)
        cols.setSpacing(20)
        left = QWidget()
        left.setFixedWidth(320)
        form = QFormLayout(left)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(10)
        self.target = QComboBox()
        self.target.setAccessibleName("Target cluster")
        self.version = QComboBox()
        self.version.setAccessibleName("Version")
        self.version.addItems(list(versions))
        if version and version in versions:
            self.version.setCurrentText(version)
        self.app = QLineEdit(app_name_for(model))
        self.app.setAccessibleName("App name")
        self.replicas = QSpinBox()
        self.replicas.setRange(1, 64)
        self.replicas.setAccessibleName("Replicas")
        form.addRow("Target", self.target)
        form.addRow("Version", self.version)
        form.addRow("App", self.app)
        form.addRow("Replicas", self.replicas)
        hint = named(
            QLabel("The plan on the right is re-read from the cluster as you edit."),
            "pageSubtitle",
        )
        hint.setWordWrap(True)
        form.addRow(hint)
        cols.addWidget(left)

        right = QVBoxLayout()
        right.setSpacing(8)
        right.addWidget(named(QLabel("Pre-flight"), "sectionTitle"))
        self.checks = QLabel("Reading the cluster…")
        self.checks.setTextFormat(Qt.TextFormat.RichText)
        self.checks.setWordWrap(True)
        self.checks.setAccessibleName("Pre-flight checks")
        right.addWidget(self.checks)
        right.addWidget(named(QLabel("Changes to the cluster's config"), "sectionTitle"))
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setAccessibleName("Diff")
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        right.addWidget(self.diff, 1)
        cols.addLayout(right, 1)
        self.body.addWidget(form_page)

        # ---- progress
        progress_page = QWidget()
        pl = QVBoxLayout(progress_page)
        pl.setContentsMargins(0, 0, 0, 0)
        self.steps = QLabel()
        self.steps.setTextFormat(Qt.TextFormat.RichText)
        self.steps.setAccessibleName("Progress")
        pl.addWidget(self.steps)
        self.messages = QPlainTextEdit()
        self.messages.setReadOnly(True)
        self.messages.setAccessibleName("Cluster messages")
        self.messages.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        pl.addWidget(self.messages, 1)
        self.body.addWidget(progress_page)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.confirm = named(QPushButton("Deploy"), "primary")
        self.confirm.setEnabled(False)
        self.confirm.clicked.connect(self._apply)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm)
        root.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self._replan)
        self.target.currentTextChanged.connect(self._schedule)
        self.version.currentTextChanged.connect(self._schedule)
        self.app.textChanged.connect(self._schedule)
        self.replicas.valueChanged.connect(self._schedule)
        self._tasks.run(self._deploy.targets, name="deploy targets", on_done=self._targets)

    @classmethod
    def ask(cls, *args: Any, **kwargs: Any) -> DeployDialog:
        dialog = cls(*args, **kwargs)
        dialog.open()
        return dialog

    # ------------------------------------------------------------- planning
    def _targets(self, names: list[str]) -> None:
        last = str(self._settings.value(_LAST_TARGET, "") or "")
        self.target.blockSignals(True)
        self.target.addItems(names)
        if last in names:
            self.target.setCurrentText(last)
        self.target.blockSignals(False)
        if not names:
            self.checks.setText(
                f"<span style='color:{self._tokens.failing}'>✗</span> no Ray Serve cluster is "
                "configured — add one under Backends"
            )
            return
        self._schedule()

    def _schedule(self) -> None:
        self.confirm.setEnabled(False)
        self._timer.start()

    def _replan(self) -> None:
        self._generation += 1
        gen = self._generation
        target, version = self.target.currentText(), self.version.currentText()
        if not target or not version:
            return
        self.checks.setText("Reading the cluster…")
        self._tasks.run(
            self._deploy.plan_deploy,
            target,
            self.model_name,
            version,
            app=self.app.text().strip(),
            replicas=self.replicas.value(),
            name="deploy plan",
            on_done=lambda plan: self._show_plan(gen, plan),
            on_error=lambda exc: self._plan_failed(gen, exc),
        )

    def _show_plan(self, gen: int, plan: Plan) -> None:
        if gen != self._generation:
            return  # an older plan arrived after a newer edit
        self.plan = plan
        t = self._tokens
        rows = []
        for c in plan.checks:
            mark = (
                f"<span style='color:{t.healthy}'>✓</span>"
                if c.ok
                else f"<span style='color:{t.failing}'>✗</span>"
            )
            detail = f" <span style='color:{t.muted}'>— {c.detail}</span>" if c.detail else ""
            rows.append(f"{mark} {c.name}{detail}")
        rows.extend(f"<span style='color:{t.degraded}'>⚠ {w}</span>" for w in plan.warnings())
        self.checks.setText("<br>".join(rows))
        lines = []
        for ch in plan.changes:
            lines.append(f"{ch.kind} app {ch.app}")
            lines.extend(f"    {line}" for line in ch.lines)
        self.diff.setPlainText("\n".join(lines) or "no change")
        self.confirm.setText(
            f"Deploy {plan_model(plan)} v{self.version.currentText()} to {plan.target}"
        )
        self.confirm.setEnabled(plan.ok and bool(plan.changes))
        # the label grew: lay the button row out now, not on some later event
        self.confirm.updateGeometry()
        layout = self.layout()
        if layout is not None:
            layout.activate()

    def _plan_failed(self, gen: int, exc: BaseException) -> None:
        if gen == self._generation:
            self.checks.setText(f"<span style='color:{self._tokens.failing}'>✗</span> {exc}")

    # ------------------------------------------------------------- applying
    def _apply(self) -> None:
        plan = self.plan
        if plan is None:
            return
        self._settings.setValue(_LAST_TARGET, plan.target)
        self.body.setCurrentIndex(1)
        self.confirm.setEnabled(False)
        self.confirm.hide()
        self.cancel_button.setText("Close")
        self._step_texts = ["Write the new config", "Wait for the cluster", "Read the real state"]
        self._set_step(0)
        self._tasks.run(
            self._deploy.apply,
            plan,
            name=plan.summary,
            on_progress=self._progress,
            on_done=self._done,
            on_error=self._failed,
        )

    def _set_step(self, current: int, failed: bool = False) -> None:
        t = self._tokens
        rows = []
        for i, text in enumerate(self._step_texts):
            if i < current:
                mark = f"<span style='color:{t.healthy}'>✓</span>"
            elif i == current:
                color, sign = (t.failing, "✗") if failed else (t.accent, "●")
                mark = f"<span style='color:{color}'>{sign}</span>"
            else:
                mark = f"<span style='color:{t.muted}'>○</span>"
            rows.append(f"{mark}&nbsp;&nbsp;{text}")
        self.steps.setText("<br>".join(rows))

    def _progress(self, done: int, _total: int, text: str) -> None:
        self._set_step(done)
        if text:
            self.messages.appendPlainText(text)

    def _done(self, outcome: Outcome) -> None:
        self.outcome = outcome
        if outcome.ok:
            self._set_step(3)
            self.messages.appendPlainText(f"✓ {outcome.plan.summary}: {outcome.status}")
        else:
            self._set_step(1, failed=True)
            self.messages.appendPlainText(f"✗ {outcome.status}\n{outcome.message}")
        self.sig_applied.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        self._set_step(0, failed=True)
        self.messages.appendPlainText(f"✗ {exc}")


def plan_model(plan: Plan) -> str:
    app = plan.after.app(plan.app) or {}
    args = app.get("args") if isinstance(app, dict) else None
    if isinstance(args, dict) and "model_name" in args:
        return str(args["model_name"])
    return plan.app
