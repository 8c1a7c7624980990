"""Model page: header (name, registry, aliases, tags, owner, Deploy…), Overview (the
description as Markdown), Versions (multi-select → Compare) and Deployments.

Everything comes from the local cache (``CatalogService.show`` on a worker);
nothing here waits on the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QFontDatabase,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.models import Deployment, ModelDetail, ModelVersion, VersionStatus
from app.services.browse import BrowseService
from app.services.catalog import CatalogService
from app.ui import icons
from app.ui.kit.status import deployment_label
from app.ui.kit.table_model import Column, Index, RowTableModel
from app.ui.kit.widgets import counted, exact_time, named, relative_time
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

_STATUS_TEXT = {
    VersionStatus.READY: "Ready",
    VersionStatus.PENDING_REGISTRATION: "Pending",
    VersionStatus.FAILED_REGISTRATION: "Failed",
    VersionStatus.UNKNOWN: "Unknown",
}


def _tags(v: ModelVersion, sep: str, eq: str) -> str:
    return sep.join(f"{k}{eq}{val}" for k, val in sorted(v.tags.items()))


#: Source and Run, in the fixed-width font
_MONO_COLUMNS = (5, 6)
VERSION_COLUMNS: tuple[Column[ModelVersion], ...] = (
    Column("Version", display=lambda v: f"v{v.version}"),
    Column("Status", display=lambda v: _STATUS_TEXT[v.status]),
    Column("Stage", display=lambda v: v.stage or "—"),
    Column("Aliases", display=lambda v: ", ".join(v.aliases)),
    Column(
        "Created",
        display=lambda v: relative_time(v.created_at),
        tooltip=lambda v: exact_time(v.created_at),
    ),
    Column("Source", display=lambda v: v.source_uri or "—", tooltip=lambda v: v.source_uri),
    Column(
        "Run",
        display=lambda v: (v.run_id or "")[:8] or "—",
        tooltip=lambda v: v.run_link or v.run_id,
    ),
    Column("Description", display=lambda v: v.description),
    Column(
        "Tags",
        display=lambda v: _tags(v, ", ", "="),
        tooltip=lambda v: _tags(v, "\n", " = ") or None,
    ),
)
DEPLOY_COLUMNS: tuple[Column[Deployment], ...] = (
    Column("Target", display=lambda d: d.target),
    Column("App", display=lambda d: d.app),
    Column(
        "Status",
        display=lambda d: deployment_label(d.status),
        tooltip=lambda d: d.message or None,
    ),
    Column("Traffic", display=lambda d: "  ".join(f"v{v} {p}%" for v, p in d.traffic.items())),
    Column("Replicas", display=lambda d: str(d.replicas)),
    Column("Route", display=lambda d: d.route or "—"),
    Column(
        "Changed",
        display=lambda d: relative_time(d.updated_at),
        tooltip=lambda d: exact_time(d.updated_at),
    ),
)


class VersionsModel(RowTableModel[ModelVersion]):
    """The model's versions (``ROW_ROLE``: the ``ModelVersion``); URIs and run ids in a
    fixed-width font."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(VERSION_COLUMNS, parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.FontRole:
            if (
                index.isValid()
                and index.row() < self.row_count()
                and index.column() in _MONO_COLUMNS
            ):
                return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
            return None
        return super().data(index, role)


class DeploymentsTableModel(RowTableModel[Deployment]):
    """Where the model is deployed: one row per serving app."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(DEPLOY_COLUMNS, parent)


def _table(name: str) -> QTableView:
    t = QTableView()
    t.setAccessibleName(name)
    t.setShowGrid(False)
    t.setWordWrap(False)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(30)
    t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    hh = t.horizontalHeader()
    hh.setHighlightSections(False)
    hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    hh.setStretchLastSection(True)
    return t


def _chip(text: str, accent: bool = False) -> QLabel:
    return named(QLabel(text), "chipAccent" if accent else "chip")


class ModelPage(QWidget):
    """One model, from the cache. ``show_model`` loads it on a worker."""

    sig_close_requested = Signal()
    sig_layout_toggle_requested = Signal()
    #: the user asked to deploy the shown model (carries its ``ModelDetail``)
    sig_deploy_requested = Signal(object)
    #: the detail of the requested model is on screen
    sig_loaded = Signal()

    def __init__(
        self,
        catalog: CatalogService,
        browse: BrowseService,
        tasks: TaskRunner,
        tokens: Tokens,
        parent: QWidget | None = None,
        *,
        run_fetcher: Callable[[str, str], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("modelPage")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._catalog, self._browse, self._tasks, self.tokens = catalog, browse, tasks, tokens
        self._run_fetcher = run_fetcher
        self._generation = 0
        self.key: tuple[str, str] | None = None
        self.detail: ModelDetail | None = None
        self.compare_view: Any = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.card = named(QFrame(), "card")
        outer.addWidget(self.card)
        lay = QVBoxLayout(self.card)
        lay.setContentsMargins(20, 16, 20, 12)
        lay.setSpacing(8)

        top = QHBoxLayout()
        top.setSpacing(8)
        # long names wrap (at hyphens) in the narrow split view rather than being cut
        self.title = named(QLabel("—"), "modelTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.title, 1)
        self.copy_uri = QToolButton()
        self.copy_uri.setIcon(icons.icon("content-copy", color=tokens.muted))
        self.copy_uri.setToolTip("Copy the model URI (models:/NAME)")
        self.copy_uri.setAccessibleName("Copy model URI")
        self.copy_uri.clicked.connect(self._copy_model_uri)
        top.addWidget(self.copy_uri, 0, Qt.AlignmentFlag.AlignTop)
        # the page's actions sit on their own row under the name, so a long name has
        # the whole width of the (narrow) split view
        actions = QHBoxLayout()
        actions.setSpacing(8)
        self.open_registry = QPushButton("Open in registry")
        self.open_registry.setIcon(icons.icon("open-in-new", color=tokens.text))
        self.open_registry.clicked.connect(self._open_registry)
        self.deploy = named(QPushButton("Deploy…"), "primary")
        self.deploy.setToolTip("Deploy a version of this model to a serving cluster")
        self.deploy.clicked.connect(self._deploy_clicked)
        actions.addWidget(self.deploy)
        actions.addWidget(self.open_registry)
        actions.addStretch(1)
        self.layout_button = QToolButton()
        self.layout_button.setAccessibleName("Toggle split or full page")
        self.layout_button.clicked.connect(self.sig_layout_toggle_requested.emit)
        top.addWidget(self.layout_button, 0, Qt.AlignmentFlag.AlignTop)
        close = QToolButton()
        close.setIcon(icons.icon("close", color=tokens.muted))
        close.setToolTip("Close (Esc)")
        close.setAccessibleName("Close model page")
        close.clicked.connect(self.sig_close_requested.emit)
        top.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)

        self.meta = named(QLabel(""), "muted")
        self.meta.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.meta)
        self.chips = QHBoxLayout()
        self.chips.setSpacing(4)
        chips_wrap = QWidget()
        chips_wrap.setLayout(self.chips)
        chips_wrap.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.meta.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.chips.setContentsMargins(0, 0, 0, 4)
        lay.addWidget(chips_wrap)
        lay.addLayout(actions)

        self.inner = QStackedWidget()  # tabs | compare
        lay.addWidget(self.inner, 1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.inner.addWidget(self.tabs)

        self.overview = QTextBrowser()
        self.overview.setOpenExternalLinks(True)
        self.overview.setAccessibleName("Description")
        self.overview.setObjectName("markdown")
        self.tabs.addTab(self.overview, "Overview")

        versions_tab = QWidget()
        vl = QVBoxLayout(versions_tab)
        vl.setContentsMargins(0, 8, 0, 0)
        vl.setSpacing(8)
        bar = QHBoxLayout()
        self.versions_hint = named(QLabel("Select versions to compare"), "muted")
        self.versions_hint.setToolTip(
            "Select two or more versions (Ctrl+click, Shift+click) to compare them side by side"
        )
        self.versions_hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.versions_hint, 1)
        self.copy_source = QPushButton("Copy source URI")
        self.copy_source.setIcon(icons.icon("content-copy", color=tokens.text))
        self.copy_source.clicked.connect(self.copy_selected_uris)
        bar.addWidget(self.copy_source)
        self.compare_button = named(QPushButton("Compare"), "primary")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(self.compare_selected)
        bar.addWidget(self.compare_button)
        vl.addLayout(bar)
        self.versions = VersionsModel(self)
        self.versions_table = _table("Versions")
        self.versions_table.setModel(self.versions)
        self.versions_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for col, w in enumerate((76, 72, 80, 120, 90, 230, 80, 220)):
            self.versions_table.setColumnWidth(col, w)
        self.versions_table.selectionModel().selectionChanged.connect(self._on_versions_selected)
        vl.addWidget(self.versions_table)
        self.tabs.addTab(versions_tab, "Versions")

        self.deployments = DeploymentsTableModel(self)
        self.deployments_table = _table("Deployments of this model")
        self.deployments_table.setModel(self.deployments)
        for col, w in enumerate((110, 180, 90, 120, 70, 160)):
            self.deployments_table.setColumnWidth(col, w)
        self.tabs.addTab(self.deployments_table, "Deployments")

        esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        esc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        esc.activated.connect(self._escape)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.versions_table)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(self.copy_selected_uris)
        self.set_layout_mode("split")

    # ------------------------------------------------------------------ load
    def show_model(self, source: str, name: str) -> None:
        if self.key == (source, name) and self.detail is not None:
            self.inner.setCurrentWidget(self.tabs)
            self.sig_loaded.emit()
            return
        self._generation += 1
        generation = self._generation
        self.key = (source, name)
        self.title.setText(name)
        self.title.setToolTip(name)

        def done(detail: ModelDetail) -> None:
            if generation == self._generation:
                self.set_detail(detail)

        self._tasks.run(
            self._catalog.show,
            name,
            source,
            name="open model",
            on_done=done,
            on_error=lambda exc: self.meta.setText(f"Cannot read this model from the cache: {exc}"),
        )

    def _deploy_clicked(self) -> None:
        if getattr(self, "detail", None) is not None:
            self.sig_deploy_requested.emit(self.detail)

    def set_detail(self, detail: ModelDetail) -> None:
        m = detail.model
        self.detail = detail
        self.key = (m.source, m.name)
        self.inner.setCurrentWidget(self.tabs)
        self.title.setText(m.name)
        self.title.setToolTip(m.name)
        owner = m.owner or "no owner"
        parts = [
            f"<b>{m.source}</b>",
            owner,
            m.flavor or "",
            counted(len(detail.versions), "version"),
            f"updated {relative_time(m.updated_at)}",
        ]
        self.meta.setText("  ·  ".join(p for p in parts if p))
        self.meta.setToolTip(
            f"Updated {exact_time(m.updated_at)}; created {exact_time(m.created_at)}"
        )
        while self.chips.count():
            item = self.chips.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for alias, version in sorted(
            m.aliases.items(), key=lambda kv: (kv[0] != "champion", kv[0])
        ):
            self.chips.addWidget(_chip(f"{alias} v{version}", accent=alias == "champion"))
        for k, v in sorted(m.tags.items()):
            self.chips.addWidget(_chip(f"{k}={v}"))
        self.chips.addStretch(1)
        self.open_registry.setVisible(bool(m.web_url))
        self.open_registry.setToolTip(m.web_url or "")
        self.overview.setMarkdown(m.description or "*No description in the registry.*")
        self.versions.set_rows(detail.versions)
        self.deployments.set_rows(detail.deployments)
        self.tabs.setTabText(1, f"Versions  {len(detail.versions):,}")
        self.tabs.setTabText(2, f"Deployments  {len(detail.deployments)}")
        self.deploy.setToolTip(
            "Deploy a version of this model to a serving cluster"
            + (
                f"; it runs as {counted(len(detail.deployments), 'app')} now"
                if detail.deployments
                else " (add one under Backends first)"
            )
        )
        self.sig_loaded.emit()

    # --------------------------------------------------------------- actions
    def focus_first(self) -> None:
        self.tabs.setCurrentIndex(1)
        self.versions_table.setFocus()
        if self.versions.rowCount() and not self.versions_table.currentIndex().isValid():
            self.versions_table.selectRow(0)

    def set_layout_mode(self, mode: str) -> None:
        full = mode == "full"
        self.layout_button.setIcon(
            icons.icon("dock-right" if full else "arrow-expand", color=self.tokens.muted)
        )
        self.layout_button.setToolTip("Show beside the list" if full else "Open as a full page")

    def _escape(self) -> None:
        if self.inner.currentWidget() is not self.tabs:
            self.inner.setCurrentWidget(self.tabs)
            self.versions_table.setFocus()
        else:
            self.sig_close_requested.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self._escape()
            return
        super().keyPressEvent(event)

    def selected_versions(self) -> list[ModelVersion]:
        rows = sorted({ix.row() for ix in self.versions_table.selectionModel().selectedRows()})
        return [self.versions.row_at(r) for r in rows]

    def _on_versions_selected(self, *_args: object) -> None:
        n = len(self.selected_versions())
        self.compare_button.setEnabled(n >= 2)
        self.compare_button.setText(f"Compare {n}" if n >= 2 else "Compare")

    def copy_selected_uris(self) -> None:
        uris = [v.source_uri for v in self.selected_versions() if v.source_uri]
        if uris:
            QGuiApplication.clipboard().setText("\n".join(uris))

    def _copy_model_uri(self) -> None:
        if self.detail is not None:
            QGuiApplication.clipboard().setText(f"models:/{self.detail.model.name}")

    def _open_registry(self) -> None:
        if self.detail is not None and self.detail.model.web_url:
            QDesktopServices.openUrl(QUrl(self.detail.model.web_url))

    def compare_selected(self) -> None:
        versions = self.selected_versions()
        if len(versions) >= 2:
            self.compare(versions)

    def compare(self, versions: Sequence[ModelVersion]) -> Any:
        from app.ui.pages.catalog.compare import CompareView

        if self.compare_view is None:
            self.compare_view = CompareView(
                self._browse, self._tasks, self.tokens, run_fetcher=self._run_fetcher
            )
            self.compare_view.sig_back_requested.connect(self._escape)
            self.inner.addWidget(self.compare_view)
        self.compare_view.set_versions(list(versions))
        self.inner.setCurrentWidget(self.compare_view)
        self.compare_view.setFocus()
        return self.compare_view
