"""Backends page: every configured registry, cluster and metrics source as a card
(kind icon, name, URL, last contact, the doctor's verdict), with add / edit /
remove dialogs and "Test connection" inline.

Nothing is contacted when the page opens (lazy connect): it shows the last
verdict the doctor kept. Every service call runs through the ``tasks`` runner,
so the UI thread never waits on the keyring, the disk or the network.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.domain.doctor import Verdict
from app.domain.errors import KeyringUnavailable, ModeldeckError
from app.domain.models import Backend
from app.ui import icons
from app.ui.kit.styles import rgba
from app.ui.kit.widgets import EmptyState, PageHeader, named
from app.ui.pages.backends.card import BackendCard
from app.ui.pages.backends.channels import NotifySection
from app.ui.pages.backends.dialog import BackendDialog, BackendDraft
from app.ui.pages.backends.protocols import BackendsApi, DoctorApi, NotifyApi, TasksApi
from app.ui.pages.backends.style import esc
from app.ui.theme import Tokens, current_tokens


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
        *,
        notify: NotifyApi | None = None,
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
            f"QLabel#problems {{ background: {rgba(t.degraded, 0x1C)};"
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
        self.list_layout.addWidget(self.empty)
        #: notification channels and alert history, under the backends (issue 19)
        self.notify_section: NotifySection | None = None
        if notify is not None:
            self.notify_section = NotifySection(notify, tasks, self.tokens)
            self.list_layout.addWidget(self.notify_section)
        self.list_layout.addStretch(1)
        self.reload()
        if self.notify_section is not None:
            self.notify_section.reload()

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
            self.list_layout.insertWidget(len(self.cards), card)
            self.cards[b.name] = card
        if problems:
            lines = "".join(f"<br>• {esc(str(p))}" for p in problems)
            self.banner.setText(
                f"<b>{len(problems)} settings entr{'y was' if len(problems) == 1 else 'ies were'}"
                f" skipped</b> — fix them in the settings file:{lines}"
            )
        self.banner.setVisible(bool(problems))
        self.empty.setVisible(not items)
        self.test_all_button.setEnabled(bool(items))
        self.header.subtitle.setText(
            f"{len(items)} configured · registries, clusters and metrics sources · "
            "secrets live in the OS keyring"
            if items
            else "Registries, clusters and metrics sources. Secrets live in the OS keyring."
        )
        self.loaded = True

    def _load_failed(self, exc: BaseException) -> None:
        self.banner.setText(f"<b>Cannot read the backends</b> — {esc(str(exc))}")
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
