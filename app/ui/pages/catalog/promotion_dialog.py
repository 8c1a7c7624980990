"""Moving an alias through the policy gate, in the Deploy dialog's look: left what
changes (``champion: v3 → v4``), right the gate's checklist — a ✓/✗ row per rule with
its evidence — and a confirm button that says what it will do ("Move champion to v4").

An unmet rule disables the confirm button, and the line under the body names the rule
and what it misses. Where the rule allows ``override = "with-reason"``, *Override…*
opens a loudly marked box with a required reason; the move is then audited as
``alias-override``. On confirm the gate is judged again from the registry (an approval
may have been revoked meanwhile) and the plan's alias is checked against the registry
(``Conflict`` when it moved upstream): nothing is written unless both hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.policy import OverrideMode
from app.ui.kit.checklist import CheckItem, Checklist
from app.ui.kit.widgets import named
from app.ui.pages.catalog.write_dialog import PlanDialog, change_box
from app.ui.pages.catalog.writes import WriteServices
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

if TYPE_CHECKING:
    from app.services.governance import Promotion


def refusal_line(promotion: Promotion) -> str:
    gate = promotion.gate
    rule = f"policy rule '{gate.rule}'" if gate.rule else "the policy"
    return f"✗ Refused by the {rule}: {gate.reason()}"


class PromotionDialog(PlanDialog):
    """``PromotionDialog.ask(services, tasks, tokens, model=, source=, alias=, version=)``."""

    def __init__(
        self,
        services: WriteServices,
        tasks: TaskRunner,
        tokens: Tokens,
        *,
        model: str,
        source: str,
        alias: str,
        version: str,
        current: str | None = None,
        actor: str = "",
        parent: QWidget | None = None,
    ) -> None:
        who = f" · as {actor}" if actor else ""
        super().__init__(
            tasks, tokens, f"Move {alias} to v{version}", f"{model} · {source}{who}", parent=parent
        )
        self.resize(940, 480)
        self._services = services
        self.model_name, self.source, self.alias, self.version = model, source, alias, version
        self.overriding = False

        cols = QHBoxLayout(self.body)
        cols.setContentsMargins(0, 0, 0, 0)
        cols.setSpacing(24)
        left = QWidget()
        left.setFixedWidth(340)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(12)
        ll.addWidget(named(QLabel("What changes"), "sectionTitle"))
        box, self.summary, self.before, self.after = change_box(tokens)
        was = f"v{current}" if current else "(none)"
        self.summary.setText(f"{alias}: {was} → v{version}")
        self.before.setText(f"{was} (as cached; reading the registry…)")
        self.after.setText(f"v{version}")
        ll.addWidget(box)
        self.override_button = named(QPushButton("Override…"), "dangerOutline")
        self.override_button.setCheckable(True)
        self.override_button.hide()
        self.override_button.toggled.connect(self._toggle_override)
        ll.addWidget(self.override_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.override_box = named(QFrame(), "overrideBox")
        ob = QVBoxLayout(self.override_box)
        ob.setContentsMargins(14, 12, 14, 12)
        ob.setSpacing(6)
        ob.addWidget(named(QLabel("⚠  OVERRIDE THE POLICY GATE"), "overrideTitle"))
        self.override_text = QLabel("")
        self.override_text.setWordWrap(True)
        ob.addWidget(self.override_text)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why — kept in the audit trail (required)")
        self.reason.setAccessibleName("Override reason")
        self.reason.textChanged.connect(self._reason_changed)
        ob.addWidget(self.reason)
        self.override_box.hide()
        ll.addWidget(self.override_box)
        ll.addStretch(1)
        cols.addWidget(left)

        right = QVBoxLayout()
        right.setSpacing(8)
        right.addWidget(named(QLabel("Policy gate"), "sectionTitle"))
        self.headline = named(QLabel(""), "muted")
        self.headline.setWordWrap(True)
        right.addWidget(self.headline)
        self.checklist = Checklist(tokens)
        self.checklist.setAccessibleName("Policy gate checks")
        self.checklist.set_message("Reading the version, its approvals and its canary…")
        right.addWidget(self.checklist)
        right.addStretch(1)
        cols.addLayout(right, 1)
        self.set_confirm(f"Move {alias} to v{version}", False, "Reading the registry…")
        self.replan()

    # ------------------------------------------------------------ plan
    def reading_text(self) -> str:
        return f"Reading {self.source} and judging the gate…"

    def plan_call(self) -> tuple[Callable[..., Any], tuple[Any, ...]] | None:
        services, model, alias, version, source = (
            self._services,
            self.model_name,
            self.alias,
            self.version,
            self.source,
        )

        def plan() -> Promotion:
            write = services.registry().plan_alias_move(model, alias, version, source=source)
            return services.governance().plan_promotion(write)

        return plan, ()

    @property
    def promotion(self) -> Promotion | None:
        return self.planned  # type: ignore[no-any-return]

    def show_plan(self, planned: Any) -> None:
        promotion: Promotion = planned
        write, gate = promotion.write, promotion.gate
        self.summary.setText(write.summary)
        self.before.setText(write.before)
        self.after.setText(write.after)
        self.headline.setText(gate.headline())
        if gate.gated:
            self.checklist.set_items([CheckItem(r.check, r.ok, r.evidence) for r in gate.rows])
        else:
            self.checklist.set_message(
                f"No policy rule gates {self.alias!r}: it moves freely. The move is still "
                "audited, with who made it."
            )
        can_override = not gate.ok and gate.override is OverrideMode.WITH_REASON
        self.override_button.setVisible(can_override and not write.no_op)
        if not can_override and self.overriding:
            self.override_button.setChecked(False)
        label = f"Move {self.alias} to v{self.version}"
        if write.no_op:
            self.set_status(
                f"Nothing to write: {self.alias} is already at v{self.version}.", "note"
            )
            self.set_confirm(label, False, "The registry already holds this")
        elif promotion.allowed:
            self.set_status("")
            self.set_confirm(label, True)
        else:
            line = refusal_line(promotion)
            if gate.override is OverrideMode.FORBIDDEN:
                self.override_button.setToolTip("")
                line += f" (the policy forbids overrides for {self.alias})"
            self.set_status(line, "error")
            self.set_confirm(label, False, line.removeprefix("✗ "))
            if self.overriding:
                self._reason_changed()

    # ------------------------------------------------------------ override
    def _toggle_override(self, on: bool) -> None:
        self.overriding = on
        promotion = self.promotion
        if promotion is None:
            self.override_box.setVisible(on)
            return
        if on:
            unmet = len(promotion.gate.unmet)
            self.override_text.setText(
                f"Moves {self.alias} to v{self.version} although "
                f"{unmet} check{'s' if unmet != 1 else ''} of the policy "
                f"{'are' if unmet != 1 else 'is'} unmet. It is audited as an override, with "
                "your name, the gate table and this reason."
            )
            # the wrapped text's height is known for the box's width only once laid out
            self.override_text.setMinimumHeight(self.override_text.heightForWidth(310))
            self.override_box.setVisible(True)
            self.reason.setFocus()
            self._reason_changed()
        else:
            self.override_box.setVisible(False)
            self._set_danger(False)
            self.show_plan(promotion)

    def _set_danger(self, danger: bool) -> None:
        self.confirm.setObjectName("danger" if danger else "primary")
        self.confirm.style().unpolish(self.confirm)
        self.confirm.style().polish(self.confirm)

    def _reason_changed(self) -> None:
        if not self.overriding or self.promotion is None:
            return
        self._set_danger(True)
        ok = bool(self.reason.text().strip())
        self.set_confirm(
            f"Override the gate and move {self.alias} to v{self.version}",
            ok,
            "" if ok else "An override needs a reason",
        )

    # ------------------------------------------------------------ apply
    def writing_text(self, planned: Any) -> str:
        return f"Judging the gate again and moving {self.alias} in {self.source}…"

    def apply_call(self, planned: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        promotion: Promotion = planned
        services = self._services
        override = self.overriding
        reason = self.reason.text().strip() if override else None

        def promote() -> Any:
            gov = services.governance()
            # judged again now: an approval may have been revoked since the dialog opened
            again = gov.plan_promotion(promotion.write, override=override, reason=reason)
            return gov.promote(again)

        return promote, ()

    def _applied(self, outcome: Any) -> None:
        super()._applied(outcome)
        self.override_button.hide()
