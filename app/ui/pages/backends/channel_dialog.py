"""The add-channel dialog (``ChannelDialog.ask``) and the one-time signing-secret dialog
(``SecretDialog.ask``).

The URL is a secret (a Slack incoming-webhook URL lets anyone post): it is typed into a
password field, handed to the service (which keeps it in the OS keyring) and never shown
again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.backends import check_name, check_url, is_loopback_host
from app.domain.health import HealthStatus
from app.domain.notify import DEFAULT_EVENTS, ChannelKind, EventKind, parse_events
from app.ui import icons
from app.ui.kit.styles import rgba
from app.ui.kit.widgets import named
from app.ui.pages.backends.style import (
    CHANNEL_KIND_STYLE,
    EVENT_COLUMNS,
    EVENT_LABEL,
    esc,
    mono_font,
)
from app.ui.theme import Tokens, current_tokens

URL_PLACEHOLDER = {
    ChannelKind.SLACK: "https://hooks.slack.com/services/T000/B000/XXXX",
    ChannelKind.WEBHOOK: "https://alerts.example.com/modeldeck",
}
KIND_HINT = {
    ChannelKind.SLACK: "Posts to the Slack channel the incoming-webhook URL belongs to.",
    ChannelKind.WEBHOOK: "Signed JSON POST (HMAC-SHA256); its secret is shown once after adding.",
}


@dataclass(frozen=True)
class ChannelDraft:
    """What the dialog gives back (the URL goes straight on to the service)."""

    name: str
    kind: ChannelKind
    url: str
    events: tuple[str, ...]
    min_status: HealthStatus


def _dialog_qss(t: Tokens) -> str:
    return (
        f"QLabel#fieldError {{ color: {t.failing}; }}"
        f"QLabel#dialogTitle {{ font-size: 13pt; font-weight: 600; }}"
        f"QLabel#groupTitle {{ color: {t.muted}; font-weight: 600; font-size: 9pt; }}"
        f"QLabel#hint {{ color: {t.muted}; font-size: 9pt; }}"
        f"QLabel#dialogSection {{ font-weight: 600; }}"
        f"QLabel#secretNote {{ background: {rgba(t.degraded, 0x1C)}; color: {t.text};"
        f" border: 1px solid {rgba(t.degraded, 0x99)}; border-radius: 6px; padding: 8px 10px; }}"
    )


def _outline_from(check: QCheckBox, t: Tokens) -> None:
    """Fusion outlines a checkbox in a darker shade of the Window colour: invisible on a
    dark window. Give it the muted tone to darken instead."""
    if t.dark:
        pal = check.palette()
        pal.setColor(QPalette.ColorRole.Window, QColor(t.muted))
        check.setPalette(pal)


class ChannelDialog(QDialog):
    """Name, kind, URL (a password field), events and the minimum status."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        taken: Sequence[str] = (),
        tokens: Tokens | None = None,
    ) -> None:
        super().__init__(parent)
        self.tokens = t = tokens or current_tokens()
        self.taken = set(taken)
        self.setWindowTitle("Add notification channel")
        self.setObjectName("channelDialog")
        self.setFixedWidth(660)
        self.setStyleSheet(_dialog_qss(t))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 20, 20, 16)
        outer.setSpacing(12)
        outer.addWidget(named(QLabel(self.windowTitle()), "dialogTitle"))
        sub = named(
            QLabel(
                "Modeldeck tells this channel when a deployment's health changes or someone "
                "deploys, rolls back or moves an alias (while <code>modeldeck watch</code> runs)."
            ),
            "muted",
        )
        sub.setWordWrap(True)
        outer.addWidget(sub)

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.name_edit = QLineEdit(placeholderText="e.g. team-slack")
        self.name_edit.setAccessibleName("Name")
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Kind")
        for kind, (_glyph, label, what) in CHANNEL_KIND_STYLE.items():
            self.kind_combo.addItem(f"{label}  ·  {what}", kind.value)
        self.kind_hint = named(QLabel(), "hint")
        self.url_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.url_edit.setFont(mono_font())
        self.url_edit.setAccessibleName("URL")
        self.url_edit.setToolTip("Kept in the OS keyring only; never shown again")
        url_hint = named(
            QLabel("A secret: saved to the OS keyring, never to a file, never shown again."),
            "hint",
        )
        self.min_combo = QComboBox()
        self.min_combo.setAccessibleName("Minimum status")
        self.min_combo.addItem(
            "Degraded or worse (degraded problems are sent too)", HealthStatus.DEGRADED.value
        )
        self.min_combo.addItem(
            "Failing only (degraded problems are not sent)", HealthStatus.FAILING.value
        )

        form.addRow("Name", self.name_edit)
        form.addRow("Kind", self.kind_combo)
        form.addRow("", self.kind_hint)
        form.addRow("URL", self.url_edit)
        form.addRow("", url_hint)
        form.addRow("Health alerts", self.min_combo)
        outer.addLayout(form)

        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(4)
        defaults = parse_events(DEFAULT_EVENTS)
        self.event_checks: dict[EventKind, QCheckBox] = {}
        for col, (title, kinds) in enumerate(EVENT_COLUMNS):
            grid.addWidget(named(QLabel(title.upper()), "groupTitle"), 0, col)
            for row, event in enumerate(kinds, start=1):
                check = QCheckBox(EVENT_LABEL[event])
                check.setAccessibleName(f"Event {event.value}")
                check.setToolTip(event.value)
                check.setChecked(event in defaults)
                _outline_from(check, t)
                grid.addWidget(check, row, col, Qt.AlignmentFlag.AlignTop)
                self.event_checks[event] = check
        grid.setRowStretch(len(max((k for _t, k in EVENT_COLUMNS), key=len)) + 1, 1)
        events_box = QVBoxLayout()
        events_box.setSpacing(6)
        events_box.addWidget(named(QLabel("Events"), "dialogSection"))
        events_box.addLayout(grid)
        outer.addLayout(events_box)

        self.error = named(QLabel(), "fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        outer.addWidget(self.error)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = named(QPushButton("Add channel"), "primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self._accept)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        outer.addLayout(buttons)

        self.name_edit.textChanged.connect(self.validate)
        self.url_edit.textChanged.connect(self.validate)
        for check in self.event_checks.values():
            check.toggled.connect(self.validate)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.resize(self.width(), self.heightForWidth(self.width()))

    @classmethod
    def ask(
        cls,
        parent: QWidget | None = None,
        *,
        taken: Sequence[str] = (),
        tokens: Tokens | None = None,
    ) -> ChannelDraft | None:
        dialog = cls(parent, taken=taken, tokens=tokens)
        return dialog.draft() if dialog.exec() == QDialog.DialogCode.Accepted else None

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind(self.kind_combo.currentData())

    def _kind_changed(self) -> None:
        self.url_edit.setPlaceholderText(URL_PLACEHOLDER[self.kind])
        self.kind_hint.setText(KIND_HINT[self.kind])
        self.validate()

    def events(self) -> tuple[str, ...]:
        return tuple(k.value for k, c in self.event_checks.items() if c.isChecked())

    def problems(self) -> list[str]:
        """What stops the form from being saved, in field order (empty when valid)."""
        out = []
        name = self.name_edit.text().strip()
        why = check_name(name)
        if why:
            out.append(f"Name: {why}")
        elif name in self.taken:
            out.append(f"Name: a channel named {name!r} already exists")
        url = self.url_edit.text().strip()
        why = check_url(url)
        if why:
            out.append(f"URL: {why}")
        elif self.kind is ChannelKind.SLACK:
            parts = urlsplit(url)
            if parts.scheme != "https" and not is_loopback_host(parts.hostname or ""):
                out.append("URL: a Slack webhook URL starts with https://")
        if not self.events():
            out.append("Events: pick at least one")
        return out

    def validate(self) -> bool:
        problems = self.problems()
        touched = {"Name": self.name_edit.text(), "URL": self.url_edit.text(), "Events": "x"}
        shown = [p for p in problems if touched.get(p.split(":", 1)[0], "x")]
        # the URL is never echoed back, not even in an error
        self.error.setText("<br>".join(esc(p) for p in shown))
        self.error.setVisible(bool(shown))
        self.ok_button.setEnabled(not problems)
        return not problems

    def draft(self) -> ChannelDraft:
        return ChannelDraft(
            self.name_edit.text().strip(),
            self.kind,
            self.url_edit.text().strip(),
            self.events(),
            HealthStatus(self.min_combo.currentData()),
        )

    def _accept(self) -> None:
        if self.validate():
            self.accept()


class SecretDialog(QDialog):
    """A webhook's signing secret, shown once, with a Copy button."""

    def __init__(
        self, name: str, secret: str, parent: QWidget | None = None, tokens: Tokens | None = None
    ) -> None:
        super().__init__(parent)
        t = tokens or current_tokens()
        self.setWindowTitle("Signing secret")
        self.setFixedWidth(720)
        self.setStyleSheet(_dialog_qss(t))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 20, 20, 16)
        lay.setSpacing(10)
        lay.addWidget(named(QLabel(f"Channel {name} added"), "dialogTitle"))
        intro = named(
            QLabel(
                "Give this secret to the receiver: every request carries "
                "<code>X-Modeldeck-Signature: sha256=HMAC(secret, body)</code> so it can "
                "check the request came from Modeldeck."
            ),
            "muted",
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        row = QHBoxLayout()
        self.secret_edit = QLineEdit(secret)
        self.secret_edit.setReadOnly(True)
        self.secret_edit.setFont(mono_font())
        self.secret_edit.setAccessibleName("Signing secret")
        self.secret_edit.setCursorPosition(0)
        self.copy_button = QPushButton(icons.icon("content-copy", color=t.text), " Copy")
        self.copy_button.setAccessibleName("Copy the signing secret")
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.secret_edit, 1)
        row.addWidget(self.copy_button)
        lay.addLayout(row)
        note = named(
            QLabel(
                "Shown once here. It stays in the OS keyring; show it again with "
                f"<code>modeldeck notify show-secret {esc(name)}</code>."
            ),
            "secretNote",
        )
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(note)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.done_button = named(QPushButton("Done"), "primary")
        self.done_button.setDefault(True)
        self.done_button.clicked.connect(self.accept)
        buttons.addWidget(self.done_button)
        lay.addLayout(buttons)
        # word-wrapped labels: the height that fits the fixed width, not the size hint's
        self.resize(self.width(), self.heightForWidth(self.width()))

    @classmethod
    def ask(
        cls, parent: QWidget | None, name: str, secret: str, tokens: Tokens | None = None
    ) -> None:
        cls(name, secret, parent, tokens).exec()

    def copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self.secret_edit.text())
        self.copy_button.setText(" Copied")
