"""Confirming a registry write: the plan read from the registry, then one write on a
worker, progress and the result (or the one-line error) in place.

``PlanDialog`` is the shell every write dialog shares (title, body, status line, busy
bar, Cancel and a confirm button that says what it will do). ``WriteDialog`` is the
plain case — a tag, a description, an alias removal, an approval: optional form fields
on the left (re-planned as you type), what changes on the right. The promotion dialog
(``promotion_dialog.py``) adds the policy gate. Nothing is written before the confirm
button is pressed; an expected error (``Conflict``, ``Unreachable``, ``NotSupported``)
is one line under the body, and the confirm button offers to read the registry again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import Unreachable
from app.domain.registry import ChangeKind, WriteOutcome, WritePlan
from app.ui.kit.widgets import named
from app.ui.pages.catalog.writes import write_stylesheet
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens


def write_plan_of(planned: Any) -> WritePlan:
    """The registry write of a plan (an ``ApprovalPlan`` or a ``Promotion`` carries one)."""
    return planned if isinstance(planned, WritePlan) else planned.write


def done_line(outcome: WriteOutcome) -> str:
    who = outcome.actor + (f" ({outcome.verified_by})" if outcome.verified_by else "")
    if not outcome.written:
        return f"✓ {outcome.message}"
    return f"✓ {outcome.message} — written to {outcome.plan.change.source} as {who}"


class PlanDialog(QDialog):
    """Title, a body the subclass fills, a status line with a busy bar, and the buttons."""

    #: the write went through (carries the ``WriteOutcome``); the page re-reads the cache
    sig_applied = Signal(object)
    #: a plan or the write failed because the registry could not be reached
    sig_unreachable = Signal(str)

    def __init__(
        self,
        tasks: TaskRunner,
        tokens: Tokens,
        title: str,
        subtitle: str = "",
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setStyleSheet(write_stylesheet(tokens))
        self._tasks, self._tokens = tasks, tokens
        self.outcome: WriteOutcome | None = None
        self.error: BaseException | None = None
        self.planned: Any = None
        self._generation = 0
        self._on_confirm: Callable[[], None] = self.apply

        root = QVBoxLayout(self)
        root.setContentsMargins(24, 20, 24, 18)
        root.setSpacing(12)
        heading = QVBoxLayout()
        heading.setSpacing(2)
        self.title = named(QLabel(title), "pageTitle")
        heading.addWidget(self.title)
        self.subtitle = named(QLabel(subtitle), "pageSubtitle")
        self.subtitle.setVisible(bool(subtitle))
        heading.addWidget(self.subtitle)
        root.addLayout(heading)
        self.body = QWidget()
        root.addWidget(self.body, 1)

        status_row = QHBoxLayout()
        status_row.setSpacing(10)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedWidth(90)
        self.busy.setTextVisible(False)
        self.busy.hide()
        status_row.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignVCenter)
        self.status = named(QLabel(""), "statusBusy")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Result")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status_row.addWidget(self.status, 1)
        root.addLayout(status_row)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.extra_buttons = QHBoxLayout()
        buttons.addLayout(self.extra_buttons)
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.confirm = named(QPushButton("Confirm"), "primary")
        self.confirm.setEnabled(False)
        self.confirm.setDefault(True)
        self.confirm.clicked.connect(self._confirm_clicked)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm)
        root.addLayout(buttons)

    def _confirm_clicked(self) -> None:
        self._on_confirm()  # apply, or (after an error) read the registry again

    @classmethod
    def ask(cls, *args: Any, **kwargs: Any) -> Self:
        dialog = cls(*args, **kwargs)
        dialog.open()
        return dialog

    # ------------------------------------------------------------ status
    def set_status(self, text: str, kind: str = "busy") -> None:
        """``kind``: busy (muted, with the bar), ok, error, or note (muted, no bar)."""
        names = {"busy": "statusBusy", "ok": "statusOk", "error": "statusError"}
        self.status.setObjectName(names.get(kind, "statusBusy"))
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.setText(text)
        self.busy.setVisible(kind == "busy" and bool(text))

    def set_confirm(self, text: str, enabled: bool, why: str = "") -> None:
        self.confirm.setText(text)
        self.confirm.setEnabled(enabled)
        self.confirm.setToolTip(why)
        self.confirm.updateGeometry()
        layout = self.layout()
        if layout is not None:
            layout.activate()

    # ------------------------------------------------------------ plan
    def replan(self) -> None:
        """Read the registry (again) and show the plan; nothing is written."""
        self._generation += 1
        gen = self._generation
        self.planned = None
        self._on_confirm = self.apply
        self.confirm.setEnabled(False)
        call = self.plan_call()
        if call is None:
            return
        fn, args = call
        self.set_status(self.reading_text())
        self._tasks.run(
            fn,
            *args,
            name="plan a registry write",
            on_done=lambda planned: self._planned(gen, planned),
            on_error=lambda exc: self._plan_failed(gen, exc),
        )

    def reading_text(self) -> str:
        return "Reading the registry…"

    def plan_call(self) -> tuple[Callable[..., Any], tuple[Any, ...]] | None:
        """The planning call and its arguments (None: the form is not complete)."""
        raise NotImplementedError

    def _planned(self, gen: int, planned: Any) -> None:
        if gen != self._generation:
            return  # an older plan arrived after a newer edit
        self.planned = planned
        self.set_status("")
        self.show_plan(planned)

    def show_plan(self, planned: Any) -> None:
        raise NotImplementedError

    def _plan_failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._generation:
            return
        self.error = exc
        self.set_status(f"✗ {exc}", "error")
        self.set_confirm(self.confirm.text(), False, f"Nothing can be written: {exc}")
        if isinstance(exc, Unreachable):
            self.sig_unreachable.emit(str(exc))

    # ------------------------------------------------------------ apply
    def apply(self) -> None:
        planned = self.planned
        if planned is None:
            return
        call = self.apply_call(planned)
        fn, args = call
        self._generation += 1
        self.confirm.setEnabled(False)
        self.body.setEnabled(False)
        self.set_status(self.writing_text(planned))
        self._tasks.run(
            fn,
            *args,
            name=write_plan_of(planned).summary,
            exclusive=True,  # it writes the cache too: one writer at a time
            on_done=self._applied,
            on_error=self._apply_failed,
        )

    def writing_text(self, planned: Any) -> str:
        return f"Writing to {write_plan_of(planned).change.source}…"

    def apply_call(self, planned: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        raise NotImplementedError

    def _applied(self, outcome: WriteOutcome) -> None:
        self.outcome = outcome
        self.body.setEnabled(True)
        self.set_status(done_line(outcome), "ok")
        self.confirm.hide()
        self.cancel_button.setText("Close")
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()
        self.sig_applied.emit(outcome)

    def _apply_failed(self, exc: BaseException) -> None:
        self.error = exc
        self.body.setEnabled(True)
        self.set_status(f"✗ {exc}", "error")
        self._on_confirm = self.replan
        self.set_confirm("Read the registry again", True, "Plan again from the registry's state")
        if isinstance(exc, Unreachable):
            self.sig_unreachable.emit(str(exc))


# ------------------------------------------------------------------ the plain case
@dataclass(frozen=True)
class Field:
    """A form field of a write dialog: ``key`` names it in the planner's arguments."""

    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    read_only: bool = False
    #: the plan needs a non-blank value
    required: bool = False


def change_box(tokens: Tokens) -> tuple[QFrame, QLabel, QLabel, QLabel]:
    """The "what changes" box: summary in large type, then before and after."""
    box = named(QFrame(), "changeBox")
    lay = QGridLayout(box)
    lay.setContentsMargins(16, 14, 16, 14)
    lay.setHorizontalSpacing(14)
    lay.setVerticalSpacing(8)
    summary = named(QLabel("…"), "changeSummary")
    summary.setWordWrap(True)
    summary.setAccessibleName("What changes")
    summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lay.addWidget(summary, 0, 0, 1, 2)
    before, after = QLabel("—"), QLabel("—")
    for row, (name, label) in enumerate((("Before", before), ("After", after)), start=1):
        lay.addWidget(named(QLabel(name.upper()), "fieldLabel"), row, 0)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(label, row, 1)
    lay.setColumnStretch(1, 1)
    return box, summary, before, after


class WriteDialog(PlanDialog):
    """A tag, a description, an alias removal or an approval: plan → confirm → apply."""

    def __init__(
        self,
        tasks: TaskRunner,
        tokens: Tokens,
        title: str,
        *,
        planner: Callable[..., Any],
        applier: Callable[[Any], WriteOutcome],
        confirm_text: Callable[[Any, Mapping[str, str]], str],
        fields: Sequence[Field] = (),
        subtitle: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, tokens, title, subtitle, parent=parent)
        self._planner, self._applier, self._confirm_text = planner, applier, confirm_text
        self.fields: dict[str, QLineEdit] = {}
        self._required = {f.key for f in fields if f.required}
        self.resize(800 if fields else 640, 360)
        cols = QHBoxLayout(self.body)
        cols.setContentsMargins(0, 0, 0, 0)
        cols.setSpacing(20)
        if fields:
            form = QVBoxLayout()
            form.setSpacing(6)
            for f in fields:
                form.addWidget(named(QLabel(f.label.upper()), "fieldLabel"))
                edit = QLineEdit(f.value)
                edit.setPlaceholderText(f.placeholder)
                edit.setAccessibleName(f.label)
                edit.setReadOnly(f.read_only)
                edit.setMinimumWidth(300)
                edit.textChanged.connect(self._schedule)
                self.fields[f.key] = edit
                form.addWidget(edit)
                form.addSpacing(6)
            form.addStretch(1)
            cols.addLayout(form)
        right = QVBoxLayout()
        right.setSpacing(8)
        box, self.summary, self.before, self.after = change_box(tokens)
        right.addWidget(box)
        self.text_title = named(QLabel("New text"), "sectionTitle")
        self.new_text = QPlainTextEdit()
        self.new_text.setReadOnly(True)
        self.new_text.setAccessibleName("New text")
        self.new_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text_title.hide()
        self.new_text.hide()
        right.addWidget(self.text_title)
        right.addWidget(self.new_text, 1)
        right.addStretch(0)  # the new text, when shown, takes the room
        cols.addLayout(right, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.replan)
        for edit in self.fields.values():
            if not edit.isReadOnly():
                edit.setFocus()
                break
        self.replan()

    def values(self) -> dict[str, str]:
        return {k: e.text() for k, e in self.fields.items()}

    def _schedule(self) -> None:
        self._generation += 1  # a plan still in flight is for the old text: drop it
        self.planned = None
        self.confirm.setEnabled(False)
        self._timer.start()

    def plan_call(self) -> tuple[Callable[..., Any], tuple[Any, ...]] | None:
        values = self.values()
        missing = [k for k in self._required if not values[k].strip()]
        if missing:
            label = next(e.accessibleName() for k, e in self.fields.items() if k in missing)
            self.set_status(f"Type a {label.lower()} to see the change", "note")
            self.summary.setText("…")
            return None
        return (lambda: self._planner(**values)), ()

    def show_plan(self, planned: Any) -> None:
        write = write_plan_of(planned)
        approval = getattr(planned, "approval", None)
        if approval is not None:
            # an approval is a version tag; say what it means, not its JSON
            revoke = bool(getattr(planned, "revoke", False))
            who = f"{approval.actor} ({approval.identity})"
            verb = "Revoke the approval of" if revoke else "Approve"
            self.summary.setText(f"{verb} v{approval.version} for {approval.alias}")
            mine = f"approved by {who}"
            self.before.setText(mine if revoke else f"no approval by {approval.actor}")
            note = f" — “{approval.note}”" if approval.note and not revoke else ""
            self.after.setText("(removed)" if revoke else mine + note)
        else:
            self.summary.setText(write.summary)
            self.before.setText(write.before)
            self.after.setText(write.after)
        describes = write.change.what is ChangeKind.DESCRIBE
        self.text_title.setVisible(describes and not write.no_op)
        self.new_text.setVisible(describes and not write.no_op)
        if describes:
            self.new_text.setPlainText(write.change.value or "(empty: the description is cleared)")
        label = self._confirm_text(planned, self.values())
        if write.no_op:
            self.set_status("Nothing to write: the registry already holds this.", "note")
            self.set_confirm(label, False, "The registry already holds this")
        else:
            self.set_confirm(label, True)

    def apply_call(self, planned: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return self._applier, (planned,)
