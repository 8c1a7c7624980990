"""Model page: header (name, registry, alias pills, tag chips, owner, Deploy…), Overview
(the model card as Markdown, editable), Versions (multi-select → Compare; the selected
version's description, tags and approvals below) and Deployments.

Everything shown comes from the local cache (``CatalogService.show`` on a worker);
nothing here waits on the network. Registry writes (aliases through the policy gate,
tags, descriptions, approvals) go through ``ModelWrites``: plan → confirm → apply on
workers, then the model is re-read from the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Signal
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
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.models import Deployment, ModelDetail, ModelVersion, VersionStatus
from app.domain.registry import Capability
from app.services.browse import BrowseService
from app.services.catalog import CatalogService
from app.ui import icons
from app.ui.kit.status import deployment_label
from app.ui.kit.table_model import Column, Index, RowTableModel
from app.ui.kit.widgets import counted, exact_time, named, relative_time
from app.ui.pages.catalog.editors import (
    ChipFlow,
    MarkdownCard,
    add_chip,
    alias_pill,
    fill_menu,
    tag_chip,
)
from app.ui.pages.catalog.version_panel import VersionPanel
from app.ui.pages.catalog.write_actions import ModelWrites
from app.ui.pages.catalog.writes import WriteServices, is_approval_tag, write_stylesheet
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

_STATUS_TEXT = {
    VersionStatus.READY: "Ready",
    VersionStatus.PENDING_REGISTRATION: "Pending",
    VersionStatus.FAILED_REGISTRATION: "Failed",
    VersionStatus.UNKNOWN: "Unknown",
}


def _tags(v: ModelVersion, sep: str, eq: str) -> str:
    return sep.join(f"{k}{eq}{val}" for k, val in sorted(v.tags.items()) if not is_approval_tag(k))


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


class ModelPage(QWidget):
    """One model, from the cache. ``show_model`` loads it on a worker."""

    sig_close_requested = Signal()
    sig_layout_toggle_requested = Signal()
    #: the user asked to deploy the shown model (carries its ``ModelDetail``)
    sig_deploy_requested = Signal(object)
    #: the detail of the requested model is on screen
    sig_loaded = Signal()
    #: a registry write took effect and the model was re-read from the cache
    sig_written = Signal(object)

    def __init__(
        self,
        catalog: CatalogService,
        browse: BrowseService,
        tasks: TaskRunner,
        tokens: Tokens,
        parent: QWidget | None = None,
        *,
        run_fetcher: Callable[[str, str], Any] | None = None,
        writes: WriteServices | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("modelPage")
        self.setStyleSheet(write_stylesheet(tokens))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._catalog, self._browse, self._tasks, self.tokens = catalog, browse, tasks, tokens
        self._run_fetcher = run_fetcher
        self._generation = 0
        self.key: tuple[str, str] | None = None
        self.detail: ModelDetail | None = None
        self.compare_view: Any = None
        self.add_tag: QToolButton | None = None
        self.writes = ModelWrites(writes, catalog, tasks, tokens, self)
        self.writes.sig_access_changed.connect(self._refresh_write_actions)
        self.writes.sig_written.connect(self._written)

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
        # alias pills and tag chips wrap onto more lines rather than being cut
        self.chips = ChipFlow()
        self.chips.setAccessibleName("Aliases and tags")
        self.title.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.meta.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.chips)
        lay.addLayout(actions)

        self.inner = QStackedWidget()  # tabs | compare
        lay.addWidget(self.inner, 1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.inner.addWidget(self.tabs)

        overview_tab = QWidget()
        ol = QVBoxLayout(overview_tab)
        ol.setContentsMargins(0, 10, 0, 0)
        self.card_editor = MarkdownCard(
            "Model card", tokens, empty="*No description in the registry.*"
        )
        self.card_editor.sig_save_requested.connect(
            lambda text: self.writes.save_description(None, text, self.card_editor)
        )
        ol.addWidget(self.card_editor)
        self.overview = self.card_editor.view
        self.tabs.addTab(overview_tab, "Overview")

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
        self.versions_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.versions_table.customContextMenuRequested.connect(self._version_context_menu)
        self.version_menu: QMenu | None = None
        self.version_panel = VersionPanel(self.writes, tokens)
        self.versions_split = QSplitter(Qt.Orientation.Vertical)
        self.versions_split.setChildrenCollapsible(False)
        self.versions_split.addWidget(self.versions_table)
        self.versions_split.addWidget(self.version_panel)
        self.versions_split.setStretchFactor(0, 1)
        self.versions_split.setStretchFactor(1, 1)
        self.versions_split.setSizes([260, 340])
        vl.addWidget(self.versions_split)
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

    def reload(self) -> None:
        """Re-read the shown model from the cache (after a write or a sync) and what its
        registry lets this desktop write."""
        if self.key is None:
            return
        source, name = self.key
        self._generation += 1
        generation = self._generation

        def done(detail: ModelDetail) -> None:
            if generation == self._generation:
                self.set_detail(detail, reprobe=True)

        self._tasks.run(
            self._catalog.show,
            name,
            source,
            name="re-read model",
            on_done=done,
            on_error=lambda exc: self.meta.setText(f"Cannot read this model from the cache: {exc}"),
        )

    def _written(self, outcome: object) -> None:
        if self.key is None:
            return
        source, name = self.key
        self._generation += 1
        generation = self._generation

        def done(detail: ModelDetail) -> None:
            if generation == self._generation:
                self.set_detail(detail)
                self.sig_written.emit(outcome)

        self._tasks.run(self._catalog.show, name, source, name="re-read model", on_done=done)

    def _deploy_clicked(self) -> None:
        if getattr(self, "detail", None) is not None:
            self.sig_deploy_requested.emit(self.detail)

    def set_detail(self, detail: ModelDetail, *, reprobe: bool = False) -> None:
        m = detail.model
        selected = {v.version for v in self.selected_versions()} if self.detail else set()
        if self.detail is not None and self.detail.model.name != m.name:
            selected = set()
            self.card_editor.finish_edit()
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
        self.open_registry.setVisible(bool(m.web_url))
        self.open_registry.setToolTip(m.web_url or "")
        self.card_editor.set_markdown(m.description)
        self.versions.set_rows(detail.versions)
        self._fit_versions_table(len(detail.versions))
        self._reselect(selected)
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
        self.writes.set_detail(detail, reprobe=reprobe)
        self._refresh_write_actions()
        self.sig_loaded.emit()

    # ----------------------------------------------------------------- writes
    def _fit_versions_table(self, rows: int) -> None:
        """Give the table the height of its rows (at most half), the version card the rest."""
        total = max(self.versions_split.height(), 500)
        header = self.versions_table.horizontalHeader().sizeHint().height()
        wanted = header + rows * 30 + 22  # a row is 30 px; room for the scroll bar
        table = max(120, min(wanted, total // 2))
        self.versions_split.setSizes([table, total - table])

    def _reselect(self, versions: set[str]) -> None:
        sm = self.versions_table.selectionModel()
        rows = [
            r
            for r in range(self.versions.rowCount())
            if self.versions.row_at(r).version in versions
        ]
        if not rows:
            self._show_version_panel()
            return
        for r in rows:
            sm.select(
                self.versions.index(r, 0),
                sm.SelectionFlag.Select | sm.SelectionFlag.Rows,
            )
        self._show_version_panel()

    def _refresh_write_actions(self) -> None:
        """Alias pills, tag chips and edit buttons as the write access allows."""
        detail = self.detail
        if detail is None:
            return
        m, w = detail.model, self.writes
        self.chips.clear()
        for alias, version in sorted(
            m.aliases.items(), key=lambda kv: (kv[0] != "champion", kv[0])
        ):
            menu = QMenu(self)
            fill_menu(menu, w.alias_menu(alias, version))
            self.chips.add(alias_pill(alias, version, menu))
        for k, v in sorted(m.tags.items()):
            menu = QMenu(self)
            fill_menu(menu, w.tag_menu(k, v, None))
            self.chips.add(tag_chip(k, v, menu))
        self.add_tag = add_chip(
            "Tag",
            w.why_not(Capability.MODEL_TAG),
            lambda: w.edit_tag(None),
            "Add a tag to the model",
        )
        self.chips.add(self.add_tag)
        self.card_editor.set_edit_allowed(
            w.why_not(Capability.MODEL_DESCRIPTION), "Edit the model card (Markdown)"
        )
        self.version_panel.refresh()

    def _show_version_panel(self) -> None:
        chosen = self.selected_versions()
        current = self.versions_table.currentIndex()
        if len(chosen) != 1 and current.isValid() and current.row() < self.versions.rowCount():
            chosen = [self.versions.row_at(current.row())] if not chosen else chosen[:1]
        self.version_panel.set_version(chosen[0] if chosen else None)

    def _version_context_menu(self, pos: QPoint) -> None:
        index = self.versions_table.indexAt(pos)
        if not index.isValid():
            return
        version = self.versions.row_at(index.row())
        menu = QMenu(self)
        fill_menu(menu, self.writes.version_menu(version))
        self.version_menu = menu
        menu.popup(self.versions_table.viewport().mapToGlobal(pos))

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
        self._show_version_panel()
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
