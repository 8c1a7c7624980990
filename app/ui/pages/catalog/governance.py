"""A version's approvals, for the aliases the team's policy gates with approvals.

Read from the cached version tags (``modeldeck.approval.<alias>.<actor>``; another
desktop's appear after a sync): who, when, verified by the registry or only an OS
login, and the note. *Approve…* (with an optional note) and *Revoke* (your own
approval only) are asked for by signal; the page plans, confirms and applies them.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.domain.models import ModelVersion
from app.domain.policy import AliasRule, Approval, approvals_in
from app.domain.registry import Capability
from app.ui.kit.widgets import counted, exact_time, named, relative_time
from app.ui.pages.catalog.writes import CHECKING, WriteAccess
from app.ui.theme import Tokens


def counting(rule: AliasRule, approvals: Iterable[Approval], requester: str) -> list[Approval]:
    """The approvals the gate would count when ``requester`` moves the alias."""
    return [
        a
        for a in approvals
        if not (rule.four_eyes and a.actor == requester)
        and not (rule.verified_only and not a.verified_by)
    ]


def rule_terms(rule: AliasRule) -> str:
    parts = [f"needs {counted(rule.approvals, 'approval')}"]
    if rule.four_eyes:
        parts.append("four eyes")
    if rule.verified_only:
        parts.append("verified only")
    return " · ".join(parts)


class ApprovalsPanel(QWidget):
    """Approvals of one version, one group per gated alias."""

    #: (version, alias)
    sig_approve_requested = Signal(str, str)
    sig_revoke_requested = Signal(str, str)

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tokens = tokens
        self.setAccessibleName("Approvals")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(named(QLabel("Approvals"), "sectionTitle"))
        self._content: QWidget | None = None
        self.approve_buttons: dict[str, QPushButton] = {}
        self.revoke_buttons: dict[str, QPushButton] = {}
        self.rows: list[Approval] = []

    def set_version(
        self, version: ModelVersion | None, access: WriteAccess, aliases: Iterable[str]
    ) -> None:
        lay = self.layout()
        assert lay is not None
        if self._content is not None:
            lay.removeWidget(self._content)
            self._content.deleteLater()
        self._content = content = QWidget()
        cl = QVBoxLayout(content)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(8)
        lay.addWidget(content)
        self.approve_buttons, self.revoke_buttons, self.rows = {}, {}, []
        if version is None:
            return
        if access.blocked == CHECKING:
            cl.addWidget(self._note("Reading the policy…"))
            return
        if access.policy_problem:
            cl.addWidget(self._note(f"The policy cannot be read: {access.policy_problem}", True))
            return
        gated = access.gated(aliases)
        if not gated:
            text = (
                "No alias of this model needs approvals under the installed policy."
                if access.policy.rules
                else "No policy is installed: every alias moves freely "
                "(install one with: modeldeck policy set FILE)."
            )
            cl.addWidget(self._note(text))
            return
        found, problems = approvals_in(version.tags)
        why = access.why_not(Capability.VERSION_TAG)
        for alias, rule in gated:
            mine = [a for a in found if a.alias == alias]
            self.rows += mine
            cl.addWidget(
                self._group(
                    version=version, alias=alias, rule=rule, approvals=mine, access=access, why=why
                )
            )
        if problems:
            cl.addWidget(
                self._note(
                    f"{counted(len(problems), 'malformed approval tag')} ignored: "
                    + "; ".join(problems),
                    True,
                )
            )

    def _note(self, text: str, failed: bool = False) -> QLabel:
        label = named(QLabel(text), "checkFailed" if failed else "muted")
        label.setWordWrap(True)
        return label

    def _group(
        self,
        *,
        version: ModelVersion,
        alias: str,
        rule: AliasRule,
        approvals: list[Approval],
        access: WriteAccess,
        why: str,
    ) -> QFrame:
        t = self._tokens
        box = named(QFrame(), "section")
        bl = QVBoxLayout(box)
        bl.setContentsMargins(12, 10, 12, 10)
        bl.setSpacing(8)
        head = QHBoxLayout()
        head.setSpacing(8)
        name = named(QLabel(alias), "chipAccent" if alias == "champion" else "chip")
        head.addWidget(name)
        counted_ = counting(rule, approvals, access.actor)
        met = len(counted_) >= rule.approvals
        mark, color = ("✓", t.healthy) if met else ("✗", t.failing)
        tally = QLabel(
            f"<span style='color:{color}; font-weight:700'>{mark}</span> "
            f"{len(counted_)} of {rule.approvals} counted"
        )
        tally.setTextFormat(Qt.TextFormat.RichText)
        tally.setToolTip(
            "Approvals the gate counts when you move the alias"
            + (" (your own does not count: four eyes)" if rule.four_eyes else "")
        )
        head.addWidget(tally)
        head.addStretch(1)
        mine = next((a for a in approvals if a.actor == access.actor), None)
        approve = named(QPushButton("Approve…"), "small")
        approve.setAccessibleName(f"Approve v{version.version} for {alias}")
        if why:
            approve.setEnabled(False)
            approve.setToolTip(why)
        elif mine is not None:
            approve.setEnabled(False)
            approve.setToolTip(f"You approved v{version.version} for {alias} already")
        else:
            approve.setToolTip(
                f"Approve v{version.version} for {alias} as {access.actor} "
                "(a version tag in the registry; a note is optional)"
            )
        approve.clicked.connect(lambda: self.sig_approve_requested.emit(version.version, alias))
        self.approve_buttons[alias] = approve
        head.addWidget(approve)
        bl.addLayout(head)
        terms = named(QLabel(rule_terms(rule)), "muted")
        terms.setWordWrap(True)
        bl.addWidget(terms)
        if not approvals:
            bl.addWidget(self._note(f"No approval of v{version.version} for {alias} yet."))
        for a in approvals:
            bl.addWidget(self._row(version=version, alias=alias, a=a, access=access, why=why, t=t))
        return box

    def _row(
        self,
        *,
        version: ModelVersion,
        alias: str,
        a: Approval,
        access: WriteAccess,
        why: str,
        t: Tokens,
    ) -> QWidget:
        row = QWidget()
        outer = QVBoxLayout(row)
        outer.setContentsMargins(0, 2, 0, 2)
        outer.setSpacing(2)
        rl = QHBoxLayout()
        rl.setSpacing(8)
        outer.addLayout(rl)
        who = QLabel(f"<b>{a.actor}</b>")
        who.setTextFormat(Qt.TextFormat.RichText)
        rl.addWidget(who)
        badge = named(
            QLabel("verified" if a.verified_by else "unverified"),
            "verified" if a.verified_by else "unverified",
        )
        badge.setToolTip(
            f"Verified by {a.verified_by}"
            if a.verified_by
            else "An OS login: the registry did not authenticate this name"
        )
        rl.addWidget(badge)
        when = named(QLabel(relative_time(a.at)), "muted")
        when.setToolTip(exact_time(a.at))
        rl.addWidget(when)
        rl.addStretch(1)
        if a.note:
            note = QLabel(f"“{a.note}”")
            note.setWordWrap(True)
            note.setStyleSheet(f"color: {t.text};")
            note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            outer.addWidget(note)
        if a.actor == access.actor:
            revoke = named(QPushButton("Revoke"), "small")
            revoke.setAccessibleName(f"Revoke my approval for {alias}")
            revoke.setEnabled(not why)
            revoke.setToolTip(why or f"Withdraw your approval of v{version.version} for {alias}")
            revoke.clicked.connect(lambda: self.sig_revoke_requested.emit(version.version, alias))
            self.revoke_buttons[alias] = revoke
            rl.addWidget(revoke)
        return row
