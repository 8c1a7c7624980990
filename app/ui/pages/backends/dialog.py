"""The add / edit backend dialog, validated as you type (``BackendDialog.ask``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.backends import check_name, check_url, is_loopback_host, is_plain_http
from app.domain.kinds import is_demo
from app.domain.models import Backend, BackendKind, Credential
from app.services.backends import kinds as backend_kinds
from app.ui import icons
from app.ui.kit.styles import rgba
from app.ui.kit.widgets import named
from app.ui.pages.backends.style import KIND_STYLE, URL_HINT, mono_font
from app.ui.theme import Tokens, current_tokens


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
            f"QLabel#warning {{ background: {rgba(t.degraded, 0x22)}; color: {t.text};"
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
            if is_demo(kind) and not (existing is not None and existing.kind is kind):
                continue  # the demo's simulated kinds are never offered
            self.kind_combo.addItem(
                icons.icon(icon, color=t.muted), f"{label}  ·  {role}", kind.value
            )
        self._disable_unsupported_kinds(existing)
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

    def _disable_unsupported_kinds(self, existing: Backend | None) -> None:
        """A kind Modeldeck has no adapter for is listed, greyed, with the reason as its
        tooltip — except the kind of an entry being edited, which stays selectable."""
        reasons = {info.kind: info.unsupported_reason for info in backend_kinds()}
        model = self.kind_combo.model()
        for row in range(self.kind_combo.count()):
            kind = BackendKind(self.kind_combo.itemData(row))
            why = reasons.get(kind)
            if why is None or (existing is not None and existing.kind is kind):
                continue
            item = model.item(row) if isinstance(model, QStandardItemModel) else None
            if item is not None:
                item.setEnabled(False)
            self.kind_combo.setItemData(row, why, Qt.ItemDataRole.ToolTipRole)
            self.kind_combo.setItemText(
                row, f"{self.kind_combo.itemText(row)}  (not supported yet)"
            )

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
