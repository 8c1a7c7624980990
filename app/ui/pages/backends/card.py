"""One backend as a card: kind badge, name, URL, last contact, the doctor's verdict,
and its Test / Edit / Remove buttons."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.domain.doctor import Verdict
from app.domain.kinds import is_demo
from app.domain.models import Backend
from app.ui import icons
from app.ui.kit.pills import Pill
from app.ui.kit.styles import rgba
from app.ui.kit.widgets import exact_time, relative_time
from app.ui.pages.backends.style import (
    CODE_WORD,
    HEALTH_STYLE,
    KIND_STYLE,
    esc,
    mono_font,
    title_row,
)
from app.ui.theme import Tokens


class BackendCard(QFrame):
    """One backend and the doctor's last verdict; its buttons ask the page (by name)."""

    sig_test_requested = Signal(str)
    sig_edit_requested = Signal(str)
    sig_remove_requested = Signal(str)

    def __init__(self, backend: Backend, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.tokens = tokens
        self.setObjectName("card")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        t = tokens
        icon_name, label, role = KIND_STYLE[backend.kind]
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(14)

        badge = QLabel()
        badge.setFixedSize(40, 40)
        badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        badge.setPixmap(icons.icon(icon_name, color=t.accent).pixmap(QSize(22, 22)))
        badge.setStyleSheet(f"background: {t.accent_soft}; border-radius: 10px;")
        badge.setAccessibleName(label)
        lay.addWidget(badge, 0, Qt.AlignmentFlag.AlignTop)

        body = QVBoxLayout()
        body.setSpacing(3)
        top, self.name_label = title_row(backend.name, f"{label} · {role}", t)
        for text, tone, tip in self._flags(backend):
            flag = QLabel(text)
            flag.setToolTip(tip)
            color = getattr(t, tone)
            flag.setStyleSheet(
                f"color: {color}; border: 1px solid {rgba(color, 0x66)}; border-radius: 8px;"
                " padding: 0px 7px; font-size: 8.5pt;"
            )
            top.addWidget(flag)
        top.addStretch(1)
        self.pill = Pill(tokens)
        top.addWidget(self.pill)
        body.addLayout(top)

        self.url_label = QLabel(backend.url)
        self.url_label.setFont(mono_font())
        self.url_label.setStyleSheet(f"color: {t.muted};")
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body.addWidget(self.url_label)

        self.contact_label = QLabel()
        self.contact_label.setStyleSheet(f"color: {t.muted}; font-size: 9pt;")
        body.addWidget(self.contact_label)

        self.verdict_box = QFrame()
        self.verdict_box.setObjectName("verdictBox")
        vb = QVBoxLayout(self.verdict_box)
        vb.setContentsMargins(10, 6, 10, 6)
        vb.setSpacing(2)
        self.cause_label = QLabel()
        self.cause_label.setWordWrap(True)
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)
        self.next_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        vb.addWidget(self.cause_label)
        vb.addWidget(self.next_label)
        self.verdict_box.hide()
        body.addWidget(self.verdict_box)
        lay.addLayout(body, 1)

        actions = QVBoxLayout()
        actions.setSpacing(6)
        self.test_button = QPushButton(icons.icon("lan-connect", color=t.text), " Test connection")
        self.test_button.setAccessibleName(f"Test connection to {backend.name}")
        self.test_button.clicked.connect(lambda: self.sig_test_requested.emit(backend.name))
        actions.addWidget(self.test_button)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.edit_button = QPushButton(icons.icon("pencil-outline", color=t.muted), "")
        self.edit_button.setToolTip("Edit")
        self.edit_button.setAccessibleName(f"Edit {backend.name}")
        self.edit_button.clicked.connect(lambda: self.sig_edit_requested.emit(backend.name))
        self.remove_button = QPushButton(icons.icon("delete-outline", color=t.failing), "")
        self.remove_button.setToolTip("Remove (also deletes its saved secret)")
        self.remove_button.setAccessibleName(f"Remove {backend.name}")
        self.remove_button.clicked.connect(lambda: self.sig_remove_requested.emit(backend.name))
        row.addStretch(1)
        row.addWidget(self.edit_button)
        row.addWidget(self.remove_button)
        actions.addLayout(row)
        actions.addStretch(1)
        lay.addLayout(actions)
        self.show_verdict(None)

    @staticmethod
    def _flags(b: Backend) -> list[tuple[str, str, str]]:
        flags = []
        if is_demo(b.kind):
            flags.append(
                ("demo", "accent", "simulated by the demo workspace: generated data, no server")
            )
        if not b.verify_tls:
            flags.append(("TLS unverified", "degraded", "certificates are not verified"))
        elif b.ca_bundle:
            flags.append(("custom CA", "unknown", f"trusts {b.ca_bundle}"))
        if b.insecure_http:
            flags.append(("plain HTTP", "degraded", "traffic to this host is not encrypted"))
        return flags

    def set_session_only(self, yes: bool) -> None:
        if yes:
            self.contact_label.setText(
                self.contact_label.text() + "  ·  secret kept for this session only"
            )

    def show_testing(self) -> None:
        self.pill.show_state("progress-clock", "unknown", "Testing…")
        self.test_button.setEnabled(False)

    def show_verdict(self, verdict: Verdict | None) -> None:
        self.test_button.setEnabled(True)
        self.verdict = verdict
        t = self.tokens
        if verdict is None:
            self.pill.show_state("help-circle", "unknown", "Not tested")
            self.contact_label.setText("Never contacted — Test connection to check it")
            self.verdict_box.hide()
            return
        icon, tone, word = HEALTH_STYLE[verdict.health]
        text = verdict.summary if verdict.ok else CODE_WORD.get(verdict.code, word)
        self.pill.show_state(icon, tone, text if len(text) < 40 else word)
        self.pill.setToolTip(verdict.summary)
        self.contact_label.setText(f"Last contact {relative_time(verdict.checked_at)}")
        self.contact_label.setToolTip(exact_time(verdict.checked_at))
        color = getattr(t, tone)
        self.verdict_box.setStyleSheet(
            f"QFrame#verdictBox {{ background: {rgba(color, 0x14)};"
            f" border-left: 3px solid {color}; border-radius: 4px; }}"
        )
        if verdict.ok:
            self.cause_label.setText(verdict.cause)
            self.next_label.hide()
        else:
            self.cause_label.setText(f"<b>{esc(verdict.summary)}</b> — {esc(verdict.cause)}")
            self.next_label.setText(f"Next: {verdict.next_step}" if verdict.next_step else "")
            self.next_label.setVisible(bool(verdict.next_step))
        self.verdict_box.show()

    def show_error(self, message: str) -> None:
        self.show_verdict(self.verdict) if getattr(self, "verdict", None) else None
        self.test_button.setEnabled(True)
        self.pill.show_state("close-circle", "failing", "Error")
        self.cause_label.setText(esc(message))
        self.next_label.hide()
        self.verdict_box.show()
