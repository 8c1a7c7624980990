"""Backends page: every configured registry, cluster and metrics source as a card
(kind icon, name, URL, last contact, the doctor's verdict), with add / edit /
remove dialogs and "Test connection" inline.

Nothing is contacted when the page opens (lazy connect): it shows the last
verdict the doctor kept. Every service call runs through the ``tasks`` runner,
so the UI thread never waits on the keyring, the disk or the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.domain.backends import check_name, check_url, is_loopback_host, is_plain_http
from app.domain.doctor import Health, Verdict, VerdictCode
from app.domain.errors import KeyringUnavailable, ModeldeckError
from app.domain.models import Backend, BackendKind, Credential
from app.ui import icons
from app.ui.theme import Tokens, current_tokens
from app.ui.widgets import EmptyState, PageHeader, exact_time, named, relative_time


# ---------------------------------------------------------------- what the page needs
class BackendsApi(Protocol):
    """The part of ``app.services.backends.BackendService`` this page uses."""

    def list(self) -> list[Backend]: ...
    @property
    def problems(self) -> Sequence[Any]: ...
    def add(
        self,
        backend: Backend,
        credential: Credential | None = None,
        *,
        save_secret: bool = True,
        replace: bool = False,
    ) -> Backend: ...
    def remove(self, name: str) -> str | None: ...
    def is_session_only(self, name: str) -> bool: ...


class DoctorApi(Protocol):
    """The part of ``app.services.doctor.DoctorService`` this page uses."""

    def test(self, name: str) -> Verdict: ...
    def all_last(self) -> dict[str, Verdict]: ...
    def forget(self, name: str) -> None: ...


class TasksApi(Protocol):
    """``app.ui.tasks.TaskRunner.run``: fn on a worker, callbacks on the UI thread."""

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        **kwargs: Any,
    ) -> Any: ...


KIND_STYLE: dict[BackendKind, tuple[str, str, str]] = {
    # kind → (icon, label, role)
    BackendKind.MLFLOW: ("database-outline", "MLflow", "Registry"),
    BackendKind.RAY_SERVE: ("server-network", "Ray Serve", "Cluster"),
    BackendKind.PROMETHEUS: ("chart-line", "Prometheus", "Metrics"),
    BackendKind.KSERVE: ("kubernetes", "KServe", "Cluster"),
}
URL_HINT = {
    BackendKind.MLFLOW: "https://mlflow.example.com",
    BackendKind.RAY_SERVE: "https://ray-dashboard.example.com:8265",
    BackendKind.PROMETHEUS: "https://prometheus.example.com",
    BackendKind.KSERVE: "https://k8s-api.example.com:6443",
}
HEALTH_STYLE = {
    Health.HEALTHY: ("check-circle", "healthy", "Connected"),
    Health.FAILING: ("close-circle", "failing", "Failing"),
    Health.UNKNOWN: ("help-circle", "unknown", "Not probed"),
}


#: short pill words per verdict (the card's text says the rest)
CODE_WORD = {
    VerdictCode.DNS: "DNS failure",
    VerdictCode.REFUSED: "Refused",
    VerdictCode.TIMEOUT: "Timed out",
    VerdictCode.TLS_UNTRUSTED: "Untrusted TLS",
    VerdictCode.TLS_HOSTNAME: "TLS host mismatch",
    VerdictCode.TLS: "TLS error",
    VerdictCode.UNREACHABLE: "Unreachable",
    VerdictCode.UNAUTHORIZED: "Unauthorized",
    VerdictCode.FORBIDDEN: "Forbidden",
    VerdictCode.WRONG_KIND: "Wrong kind",
    VerdictCode.HTTP_ERROR: "HTTP error",
    VerdictCode.BAD_CONFIG: "Config error",
    VerdictCode.NOT_PROBED: "Not probed",
}


def mono_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(9.5)
    return font


# ---------------------------------------------------------------- the dialog
@dataclass(frozen=True)
class BackendDraft:
    """What the dialog gives back: the backend and, when typed, its secret."""

    backend: Backend
    credential: Credential | None = None


class BackendDialog(QDialog):
    """Add or edit a backend, validated as you type. ``ask`` is the way to use it."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        existing: Backend | None = None,
        taken: Sequence[str] = (),
        tokens: Tokens | None = None,
    ) -> None:
        super().__init__(parent)
        self.tokens = tokens or current_tokens()
        self.existing = existing
        self.taken = {n for n in taken if existing is None or n != existing.name}
        self.setWindowTitle("Edit backend" if existing else "Add backend")
        self.setMinimumWidth(560)
        self.setObjectName("backendDialog")
        t = self.tokens
        self.setStyleSheet(
            f"QLabel#fieldError {{ color: {t.failing}; }}"
            f"QLabel#warning {{ background: {_rgba(t.degraded, 0x22)}; color: {t.text};"
            f" border: 1px solid {t.degraded}; border-radius: 6px; padding: 6px 8px; }}"
            f"QLabel#dialogTitle {{ font-size: 13pt; font-weight: 600; }}"
        )
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 20, 20, 16)
        outer.setSpacing(12)
        title = named(QLabel(self.windowTitle()), "dialogTitle")
        outer.addWidget(title)
        sub = named(QLabel("Tokens and passwords go to the OS keyring, never to a file."), "muted")
        outer.addWidget(sub)

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.name_edit = QLineEdit(placeholderText="e.g. prod-mlflow")
        self.name_edit.setAccessibleName("Name")
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Kind")
        for kind, (icon, label, role) in KIND_STYLE.items():
            self.kind_combo.addItem(
                icons.icon(icon, color=t.muted), f"{label}  ·  {role}", kind.value
            )
        self.url_edit = QLineEdit()
        self.url_edit.setFont(mono_font())
        self.url_edit.setAccessibleName("URL")
        self.token_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.token_edit.setAccessibleName("Token or password")
        self.token_edit.setPlaceholderText(
            "leave empty to keep the saved secret" if existing else "optional — bearer token"
        )
        self.user_edit = QLineEdit(placeholderText="optional — for basic auth")
        self.user_edit.setAccessibleName("User name")
        ca_row = QHBoxLayout()
        self.ca_edit = QLineEdit(placeholderText="system certificates")
        self.ca_edit.setAccessibleName("CA bundle")
        browse = QPushButton(icons.icon("folder-open-outline", color=t.muted), "")
        browse.setToolTip("Choose a PEM file")
        browse.setAccessibleName("Choose CA bundle")
        browse.clicked.connect(self._browse)
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(browse)
        self.verify_check = QCheckBox("Verify the server's TLS certificate")
        self.verify_check.setChecked(True)
        self.http_check = QCheckBox("Allow plain HTTP to a remote host")
        self.http_check.setAccessibleName("Allow plain HTTP")
        self.timeout_spin = QDoubleSpinBox(minimum=0.5, maximum=600, value=10.0, suffix=" s")
        self.timeout_spin.setDecimals(1)
        self.timeout_spin.setAccessibleName("Timeout")

        form.addRow("Name", self.name_edit)
        form.addRow("Kind", self.kind_combo)
        form.addRow("URL", self.url_edit)
        form.addRow("Token", self.token_edit)
        form.addRow("User", self.user_edit)
        form.addRow("CA bundle", ca_row)
        form.addRow("", self.verify_check)
        form.addRow("", self.http_check)
        form.addRow("Timeout", self.timeout_spin)
        outer.addLayout(form)

        self.warning = named(QLabel(), "warning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        outer.addWidget(self.warning)
        self.error = named(QLabel(), "fieldError")
        self.error.setWordWrap(True)
        outer.addWidget(self.error)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = named(QPushButton("Save" if existing else "Add backend"), "primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self._accept)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        outer.addLayout(buttons)

        if existing is not None:
            self.name_edit.setText(existing.name)
            self.name_edit.setReadOnly(True)
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(existing.kind.value))
            self.url_edit.setText(existing.url)
            self.ca_edit.setText(existing.ca_bundle or "")
            self.verify_check.setChecked(existing.verify_tls)
            self.http_check.setChecked(existing.insecure_http)
            self.timeout_spin.setValue(existing.timeout_s)
        for edit in (self.name_edit, self.url_edit, self.ca_edit, self.user_edit, self.token_edit):
            edit.textChanged.connect(self.validate)
        for check in (self.verify_check, self.http_check):
            check.toggled.connect(self.validate)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    @classmethod
    def ask(
        cls,
        parent: QWidget | None = None,
        *,
        existing: Backend | None = None,
        taken: Sequence[str] = (),
        tokens: Tokens | None = None,
    ) -> BackendDraft | None:
        dialog = cls(parent, existing=existing, taken=taken, tokens=tokens)
        return dialog.draft() if dialog.exec() == QDialog.DialogCode.Accepted else None

    # ------------------------------------------------------------ validation
    @property
    def kind(self) -> BackendKind:
        return BackendKind(self.kind_combo.currentData())

    def _kind_changed(self) -> None:
        self.url_edit.setPlaceholderText(URL_HINT[self.kind])
        self.validate()

    def problems(self) -> list[str]:
        """What stops the form from being saved, in field order (empty when valid)."""
        out = []
        name = self.name_edit.text().strip()
        why = check_name(name)
        if why:
            out.append(f"Name: {why}")
        elif name in self.taken:
            out.append(f"Name: a backend named {name!r} already exists")
        why = check_url(self.url_edit.text().strip(), insecure_http=self.http_check.isChecked())
        if why:
            out.append(f"URL: {why}")
        ca = self.ca_edit.text().strip()
        if ca and not Path(ca).expanduser().is_file():
            out.append("CA bundle: no such file")
        if self.user_edit.text().strip() and not self.token_edit.text() and self.existing is None:
            out.append("Token: a user name needs a password")
        return out

    def validate(self) -> bool:
        problems = self.problems()
        # only nag about fields the user has started on
        shown = [p for p in problems if self._touched(p)]
        self.error.setText("\n".join(shown))
        self.error.setVisible(bool(shown))
        self.ok_button.setEnabled(not problems)
        warnings = []
        url = self.url_edit.text().strip()
        from urllib.parse import urlsplit

        host = urlsplit(url).hostname or ""
        if self.http_check.isChecked() and is_plain_http(url) and not is_loopback_host(host):
            warnings.append(
                f"Plain HTTP: traffic to {host} — including the token — is not encrypted. "
                "Anyone on the network path can read or change it."
            )
        if not self.verify_check.isChecked():
            warnings.append(
                "TLS verification is off: any certificate is accepted. Prefer a CA bundle."
            )
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))
        return not problems

    def _touched(self, problem: str) -> bool:
        field = problem.split(":", 1)[0]
        edit = {
            "Name": self.name_edit,
            "URL": self.url_edit,
            "CA bundle": self.ca_edit,
            "Token": self.user_edit,
        }.get(field)
        return edit is None or bool(edit.text())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "CA bundle", "", "PEM files (*.pem *.crt);;All files (*)"
        )
        if path:
            self.ca_edit.setText(path)

    def draft(self) -> BackendDraft:
        url = self.url_edit.text().strip().rstrip("/")
        ca = self.ca_edit.text().strip()
        backend = Backend(
            name=self.name_edit.text().strip(),
            kind=self.kind,
            url=url,
            ca_bundle=str(Path(ca).expanduser().resolve()) if ca else None,
            verify_tls=self.verify_check.isChecked(),
            insecure_http=self.http_check.isChecked() and is_plain_http(url),
            timeout_s=float(self.timeout_spin.value()),
            options=dict(self.existing.options) if self.existing else {},
        )
        secret = self.token_edit.text()
        user = self.user_edit.text().strip()
        credential = None
        if secret:
            credential = (
                Credential(username=user, password=secret) if user else Credential(token=secret)
            )
        return BackendDraft(backend, credential)

    def _accept(self) -> None:
        if self.validate():
            self.accept()


# ---------------------------------------------------------------- one card
class Pill(QFrame):
    """A status pill: icon + word + colour (never colour alone)."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens
        self.setObjectName("pill")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 10, 2)
        lay.setSpacing(5)
        self.icon = QLabel()
        self.label = QLabel()
        lay.addWidget(self.icon)
        lay.addWidget(self.label)

    def text(self) -> str:
        return self.label.text()

    def show_state(self, icon: str, tone: str, text: str) -> None:
        color = getattr(self.tokens, tone)
        self.icon.setPixmap(icons.icon(icon, color=color).pixmap(QSize(14, 14)))
        self.label.setText(text)
        self.setStyleSheet(
            f"QFrame#pill {{ background: {_rgba(color, 0x1F)}; border: 1px solid "
            f"{_rgba(color, 0x66)}; border-radius: 11px; }}"
            f"QFrame#pill QLabel {{ color: {color}; font-weight: 600; background: transparent;"
            " border: none; }"
        )
        self.setAccessibleName(f"Status: {text}")


class BackendCard(QFrame):
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
        top = QHBoxLayout()
        top.setSpacing(8)
        self.name_label = QLabel(backend.name)
        self.name_label.setStyleSheet("font-weight: 600; font-size: 11pt;")
        top.addWidget(self.name_label)
        chip = QLabel(f"{label} · {role}")
        chip.setStyleSheet(
            f"color: {t.muted}; border: 1px solid {t.border}; border-radius: 8px;"
            " padding: 0px 7px; font-size: 8.5pt;"
        )
        top.addWidget(chip)
        for text, tone, tip in self._flags(backend):
            flag = QLabel(text)
            flag.setToolTip(tip)
            color = getattr(t, tone)
            flag.setStyleSheet(
                f"color: {color}; border: 1px solid {_rgba(color, 0x66)}; border-radius: 8px;"
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
            f"QFrame#verdictBox {{ background: {_rgba(color, 0x14)};"
            f" border-left: 3px solid {color}; border-radius: 4px; }}"
        )
        if verdict.ok:
            self.cause_label.setText(verdict.cause)
            self.next_label.hide()
        else:
            self.cause_label.setText(f"<b>{_esc(verdict.summary)}</b> — {_esc(verdict.cause)}")
            self.next_label.setText(f"Next: {verdict.next_step}" if verdict.next_step else "")
            self.next_label.setVisible(bool(verdict.next_step))
        self.verdict_box.show()

    def show_error(self, message: str) -> None:
        self.show_verdict(self.verdict) if getattr(self, "verdict", None) else None
        self.test_button.setEnabled(True)
        self.pill.show_state("close-circle", "failing", "Error")
        self.cause_label.setText(_esc(message))
        self.next_label.hide()
        self.verdict_box.show()


def _rgba(hex_color: str, alpha: int) -> str:
    """``#rrggbb`` + alpha 0-255 → ``rgba(...)`` (Qt reads ``#aarrggbb``, not CSS's order)."""
    h = hex_color.lstrip("#")
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    return f"rgba({r}, {g}, {b}, {alpha})"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- the page
class BackendsPage(QWidget):
    """Lists backends; add, edit, remove, test. All service calls go through ``tasks``."""

    #: the set of backends changed (added, edited, removed)
    sig_backends_changed = Signal()
    #: a verdict arrived (the status bar may show reachability)
    sig_verdict_changed = Signal(object)

    def __init__(
        self,
        backends: BackendsApi,
        doctor: DoctorApi,
        tasks: TasksApi,
        tokens: Tokens | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.backends = backends
        self.doctor = doctor
        self.tasks = tasks
        self.tokens = tokens or current_tokens()
        self.cards: dict[str, BackendCard] = {}
        self._backends: list[Backend] = []
        self.loaded = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = PageHeader(
            "Backends",
            "Registries, clusters and metrics sources. Secrets live in the OS keyring.",
        )
        self.test_all_button = QPushButton(
            icons.icon("lan-connect", color=self.tokens.text), " Test all"
        )
        self.test_all_button.clicked.connect(self.test_all)
        self.add_button = named(
            QPushButton(icons.icon("plus", color=self.tokens.accent_text), " Add backend"),
            "primary",
        )
        self.add_button.setAccessibleName("Add backend")
        self.add_button.clicked.connect(self.add_backend)
        self.header.action_bar.addWidget(self.test_all_button)
        self.header.action_bar.addWidget(self.add_button)
        lay.addWidget(self.header)

        self.banner = named(QLabel(), "problems")
        self.banner.setWordWrap(True)
        t = self.tokens
        self.banner.setStyleSheet(
            f"QLabel#problems {{ background: {_rgba(t.degraded, 0x1C)};"
            f" border: 1px solid {t.degraded};"
            f" border-radius: 8px; padding: 8px 12px; color: {t.text}; }}"
        )
        self.banner.hide()
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(24, 0, 24, 8)
        banner_row.addWidget(self.banner)
        lay.addLayout(banner_row)

        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setStyleSheet("QScrollArea { background: transparent; }")
        self.list_widget = QWidget()
        self.list_widget.setObjectName("page")
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.setContentsMargins(24, 4, 24, 24)
        self.list_layout.setSpacing(10)
        self.list_layout.addStretch(1)
        self.scroll_area.setWidget(self.list_widget)
        lay.addWidget(self.scroll_area, 1)

        self.empty = EmptyState(
            "lan-connect",
            "No backends yet",
            "Add a registry (MLflow), a serving cluster (Ray Serve, KServe) or a metrics "
            "source (Prometheus). Test the connection before you rely on it.",
            [("Add a backend", self.add_backend, True)],
        )
        self.empty.hide()
        lay.addWidget(self.empty, 1)
        self.reload()

    # ------------------------------------------------------------ loading
    def reload(self) -> None:
        """Read the configuration (settings file, last verdicts) off the UI thread."""

        def load() -> tuple[list[Backend], list[Any], dict[str, Verdict], set[str]]:
            items = self.backends.list()
            session = {b.name for b in items if self.backends.is_session_only(b.name)}
            return items, list(self.backends.problems), self.doctor.all_last(), session

        self.tasks.run(load, on_done=self._show, on_error=self._load_failed, name="backends")

    def _show(self, result: tuple[list[Backend], list[Any], dict[str, Verdict], set[str]]) -> None:
        items, problems, verdicts, session = result
        self._backends = items
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards.clear()
        for b in items:
            card = BackendCard(b, self.tokens)
            card.sig_test_requested.connect(self.test_backend)
            card.sig_edit_requested.connect(self.edit_backend)
            card.sig_remove_requested.connect(self.remove_backend)
            card.show_verdict(verdicts.get(b.name))
            card.set_session_only(b.name in session)
            self.list_layout.insertWidget(self.list_layout.count() - 1, card)
            self.cards[b.name] = card
        if problems:
            lines = "".join(f"<br>• {_esc(str(p))}" for p in problems)
            self.banner.setText(
                f"<b>{len(problems)} settings entr{'y was' if len(problems) == 1 else 'ies were'}"
                f" skipped</b> — fix them in the settings file:{lines}"
            )
        self.banner.setVisible(bool(problems))
        self.empty.setVisible(not items)
        self.scroll_area.setVisible(bool(items))
        self.test_all_button.setEnabled(bool(items))
        self.header.subtitle.setText(
            f"{len(items)} configured · registries, clusters and metrics sources · "
            "secrets live in the OS keyring"
            if items
            else "Registries, clusters and metrics sources. Secrets live in the OS keyring."
        )
        self.loaded = True

    def _load_failed(self, exc: BaseException) -> None:
        self.banner.setText(f"<b>Cannot read the backends</b> — {_esc(str(exc))}")
        self.banner.show()
        self.loaded = True

    # ------------------------------------------------------------ actions
    def names(self) -> list[str]:
        return [b.name for b in self._backends]

    def add_backend(self) -> None:
        draft = BackendDialog.ask(self, taken=self.names(), tokens=self.tokens)
        if draft is not None:
            self._save(draft, replace=False)

    def edit_backend(self, name: str) -> None:
        existing = next((b for b in self._backends if b.name == name), None)
        if existing is None:
            return
        draft = BackendDialog.ask(self, existing=existing, taken=self.names(), tokens=self.tokens)
        if draft is not None:
            self._save(draft, replace=True)

    def _save(self, draft: BackendDraft, *, replace: bool, save_secret: bool = True) -> None:
        def failed(exc: BaseException) -> None:
            if isinstance(exc, KeyringUnavailable) and draft.credential is not None:
                if self.confirm_session_only(str(exc)):
                    self._save(draft, replace=replace, save_secret=False)
                return
            self.show_message("Could not save the backend", str(exc))

        self.tasks.run(
            self.backends.add,
            draft.backend,
            draft.credential,
            save_secret=save_secret,
            replace=replace,
            on_done=lambda _b: self._changed(),
            on_error=failed,
            name="save backend",
        )

    def remove_backend(self, name: str) -> None:
        if not self.confirm_remove(name):
            return

        def remove() -> str | None:
            warning = self.backends.remove(name)
            self.doctor.forget(name)
            return warning

        def done(warning: str | None) -> None:
            if warning:
                self.show_message("Backend removed", warning)
            self._changed()

        self.tasks.run(
            remove,
            on_done=done,
            on_error=lambda e: self.show_message("Could not remove", str(e)),
            name="remove backend",
        )

    def test_backend(self, name: str) -> None:
        card = self.cards.get(name)
        if card is None:
            return
        card.show_testing()

        def done(verdict: Verdict) -> None:
            target = self.cards.get(name)
            if target is not None:
                target.show_verdict(verdict)
            self.sig_verdict_changed.emit(verdict)

        def failed(exc: BaseException) -> None:
            target = self.cards.get(name)
            if target is not None:
                target.show_error(
                    str(exc) if isinstance(exc, ModeldeckError) else f"{type(exc).__name__}: {exc}"
                )

        self.tasks.run(self.doctor.test, name, on_done=done, on_error=failed, name=f"test {name}")

    def test_all(self) -> None:
        for name in list(self.cards):
            self.test_backend(name)

    def _changed(self) -> None:
        self.reload()
        self.sig_backends_changed.emit()

    # ------------------------------------------------------------ questions (tests replace)
    def confirm_session_only(self, reason: str) -> bool:
        answer = QMessageBox.question(
            self,
            "No usable keyring",
            f"{reason}.\n\nThe secret was not saved anywhere. Use this backend with the "
            "secret for this session only? You will have to enter it again after a restart.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def confirm_remove(self, name: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove backend",
            f"Remove {name}? Its saved secret is deleted from the OS keyring too.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def show_message(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)


__all__ = ["BackendCard", "BackendDialog", "BackendDraft", "BackendsPage"]
