"""Catalog page: search as you type, facets, a virtualized table of every cached model,
and the model page beside it (split) or instead of it (full page).

How it stays fast at 100,000 models (docs/performance.md; bench/catalog_ui.py):

* First paint: one screenful read through plain ``sqlite3`` (≈17 ms at 100k),
  then every model's display columns load on a worker (≈1.4 s) and replace it.
* A keystroke: ``BrowseService.search`` inline on the UI thread — one FTS5
  lookup (1.5-25 ms at 100k) mapped into in-memory columns plus numpy masks;
  a model reset of the table over the result's numpy array (no per-row Python
  work; the view asks only for the rows it paints). Inline because a round trip
  through the thread pool would only add latency to a few-ms call. The slow
  substring fallback (≈70 ms, when FTS finds nothing) runs on a worker.
* The facet counts (≈5 ms with the sidebar's repaint) come one event-loop turn
  later, after the table has painted (``sig_counts_updated``).
* A sort: a cached permutation per column (computed ahead on a worker).
* Never a ``QSortFilterProxyModel`` over 100k Python rows (0.2-3.6 s a keystroke).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ModeldeckError
from app.domain.models import CacheInfo
from app.services.browse import (
    FACETS,
    BrowseRequest,
    BrowseResult,
    BrowseService,
    CatalogIndex,
    model_health,
)
from app.services.catalog import CatalogService
from app.ui import icons
from app.ui.kit.styles import catalog_stylesheet
from app.ui.kit.widgets import EmptyState, PageHeader, exact_time, named, relative_time
from app.ui.pages.catalog.delegates import AliasPillDelegate, ModelNameDelegate
from app.ui.pages.catalog.facets import FacetPanel
from app.ui.pages.catalog.settings import CatalogSettings
from app.ui.pages.catalog.table_model import (
    ALIASES_COL,
    COLUMN_KEYS,
    COLUMNS,
    DEFAULT_DESCENDING,
    NAME_COL,
    ROW_HEIGHT,
    CatalogTableModel,
)
from app.ui.pages.catalog.views import ModelTable, PaintWatcher, SearchBox
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

if TYPE_CHECKING:
    from app.domain.health import FleetReport, HealthStatus
    from app.services.governance import GovernanceService
    from app.services.registry import RegistryWriteService
    from app.ui.pages.catalog.model_page import ModelPage

log = logging.getLogger(__name__)


class CatalogPage(QWidget):
    """Search, filter and browse every cached model; open one beside the list or full page."""

    sig_model_activated = Signal(object)  # RegisteredModel
    sig_add_registry_requested = Signal()
    sig_demo_requested = Signal()
    #: the model page's Deploy… (carries the ``ModelDetail``)
    sig_deploy_requested = Signal(object)
    sig_count_changed = Signal(int, int)  # shown, total
    #: the complete index is in memory (searches, facets and sorts are live)
    sig_loaded = Signal()
    #: the table shows the answer to the current search/facets/sort
    sig_view_updated = Signal()
    #: the facet counts match the view (they follow the table by one event-loop turn)
    sig_counts_updated = Signal()

    def __init__(
        self,
        catalog: CatalogService,
        tasks: TaskRunner,
        tokens: Tokens,
        parent: QWidget | None = None,
        *,
        browse: BrowseService | None = None,
        settings: QSettings | None = None,
        run_fetcher: Callable[[str, str], Any] | None = None,
        health_statuses: Callable[[], Mapping[tuple[str, str], HealthStatus]] | None = None,
        registry: Callable[[], RegistryWriteService] | None = None,
        governance: Callable[[], GovernanceService] | None = None,
    ) -> None:
        """``health_statuses`` reads the last known status of every deployment
        (``HealthService.known_statuses``, on a worker) for the name column's dots
        until the health poll reports (``show_fleet_report``). ``registry`` and
        ``governance`` build the write services (on a worker) for the model page's
        edits; without them its write actions are disabled."""
        super().__init__(parent)
        self.setObjectName("page")
        self.setStyleSheet(catalog_stylesheet(tokens))
        self._catalog = catalog
        self._tasks = tasks
        self.tokens = tokens
        self.browse = browse or BrowseService(catalog.cache.path)
        self._settings = CatalogSettings(settings)
        self._run_fetcher = run_fetcher
        self._health_statuses = health_statuses
        self._registry, self._governance = registry, governance
        #: (target, app) → status; None until the cache or a poll said
        self._deployment_health: Mapping[tuple[str, str], HealthStatus] | None = None
        self._health_reported = False
        sort = str(self._settings.get("sort", "updated"))
        self._sort: tuple[str, bool] = (
            sort if sort in COLUMN_KEYS else "updated",
            self._settings.get("descending", True),
        )
        self._index: CatalogIndex | None = None
        self._generation = 0
        self._loading = False
        self.total = 0
        self.last_result: BrowseResult | None = None
        self.model_page: ModelPage | None = None
        self._layout_mode = str(self._settings.get("layout", "split"))

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = PageHeader("Catalog", "Loading the cache…")
        lay.addWidget(self.header)
        self.freshness = named(QLabel(""), "muted")
        self.freshness.setAccessibleName("Catalog freshness")
        self.header.action_bar.addWidget(self.freshness)

        self.search = SearchBox()
        self.search.setPlaceholderText(
            "Search models…   fraud  tag:team=nlp  alias:champion  owner:ana  flavor:sklearn"
            "  deployed:yes"
        )
        self.search.setClearButtonEnabled(True)
        self.search.addAction(
            icons.icon("magnify", color=tokens.muted), QLineEdit.ActionPosition.LeadingPosition
        )
        self.search.setAccessibleName("Search models")
        self.search.setMinimumHeight(36)
        self.clear_filters = QPushButton("Clear filters")
        self.clear_filters.setObjectName("flat")
        self.clear_filters.hide()
        self.clear_filters.clicked.connect(self._clear_filters)
        row = QHBoxLayout()
        row.setContentsMargins(24, 0, 24, 12)
        row.setSpacing(8)
        row.addWidget(self.search, 1)
        row.addWidget(self.clear_filters)
        lay.addLayout(row)

        # table
        self.model = CatalogTableModel(self)
        self.model.description_of = self._description
        self.table = ModelTable()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Models")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setMouseTracking(True)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionsClickable(True)
        hh.setSectionsMovable(False)
        hh.setSortIndicatorShown(True)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setStretchLastSection(True)
        self.model.headerDataChanged.connect(self._align_name_header)
        hh.sectionClicked.connect(self._on_header_clicked)
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._column_menu)
        for col, (_k, _h, width, _shown) in enumerate(COLUMNS):
            self.table.setColumnWidth(col, width)
        hidden = set(self._settings.get("hidden", []))
        for col, (key, _h, _w, shown) in enumerate(COLUMNS):
            self.table.setColumnHidden(col, key in hidden if hidden else not shown)
        self._show_sort_indicator()
        self.table.setItemDelegateForColumn(NAME_COL, ModelNameDelegate(tokens, self.table))
        self.table.setItemDelegateForColumn(ALIASES_COL, AliasPillDelegate(tokens, self.table))
        self.table.doubleClicked.connect(lambda ix: self._open_row(ix.row(), focus=True))
        self.table.sig_open_requested.connect(lambda r: self._open_row(r, focus=True))
        self.table.sig_search_requested.connect(self.focus_search)

        self.facet_panel = FacetPanel(tokens)
        self.facet_panel.sig_selection_changed.connect(self._on_facets_changed)

        self.empty = EmptyState(
            "database-search-outline",
            "No models in the cache yet",
            "Modeldeck keeps a local copy of your registries so you can search them "
            "instantly, even offline. Add an MLflow registry and sync it, or explore the "
            "demo workspace first.",
            [
                ("Open demo workspace", self.sig_demo_requested.emit, True),
                ("Add a registry", self.sig_add_registry_requested.emit, False),
            ],
        )
        self.no_match = EmptyState(
            "magnify-close",
            "No models match",
            "Try fewer words, or remove a filter such as tag: or owner:, or clear the "
            "filters on the left.",
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.no_match)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(8)
        self.splitter.addWidget(self.facet_panel)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(16, 0, 24, 16)
        bl.addWidget(self.splitter)
        self.body = body
        self.pages = QStackedWidget()  # browse | full-page model
        self.pages.addWidget(body)
        lay.addWidget(self.pages, 1)

        self._pending = QTimer(self, singleShot=True, interval=0)
        self._pending.timeout.connect(self._apply)
        # facet counts after the table's repaint: the paint is posted before this
        # zero-timer fires, so the rows show first and the sidebar a moment later
        self._counts_for: tuple[CatalogIndex, BrowseResult] | None = None
        self._counts_pending = QTimer(self, singleShot=True, interval=0)
        self._counts_pending.timeout.connect(self._show_counts)
        self.search.textChanged.connect(lambda _t: self._pending.start())
        self.search.returnPressed.connect(self._focus_table)
        self.search.sig_leave_requested.connect(self._focus_table)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        slash = QShortcut(QKeySequence("/"), self)
        slash.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        slash.activated.connect(self.focus_search)

    # ---------------------------------------------------------------- loading
    def refresh(self, on_loaded: Callable[[], None] | None = None) -> None:
        """(Re)load the cache into memory: a first screen now, every model on a worker."""
        self._generation += 1
        generation = self._generation
        if self._index is None:
            # One screenful through plain sqlite3, inline: ≈17 ms at 100k models,
            # so the window paints rows before numpy and the full load.
            try:
                preview = self.browse.first_screen(*self._sort)
            except ModeldeckError as exc:
                self._on_error(exc)
            else:
                if preview.total:
                    self.model.set_view(preview, list(range(len(preview))))
                    self.total = preview.total
                    self._update_state()
        self._loading = True
        sort = self._sort
        first_screen_pending = self._index is None and self.model.rowCount() > 0

        def load() -> CatalogIndex:
            index = self.browse.load()
            self.browse.order(index, *sort)
            return index

        def done(index: CatalogIndex) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._set_index(index)
            if self.model_page is not None and self.model_page.detail is not None:
                self.model_page.reload()  # a sync may bring its approvals, tags, aliases
            if on_loaded is not None:
                on_loaded()
            self._tasks.run(self.browse.warm_orders, index, name="catalog search")
            if self._health_statuses is not None and not self._health_reported:
                self._tasks.run(
                    self._health_statuses,
                    name="cache info",
                    on_done=self._show_cached_health,
                    on_error=lambda exc: log.warning("known health statuses: %s", exc),
                )

        def start() -> None:
            if generation != self._generation:
                return
            self._tasks.run(load, name="catalog search", on_done=done, on_error=self._on_error)
            self._tasks.run(self._catalog.info, name="cache info", on_done=self._show_freshness)

        if first_screen_pending:
            # The full load holds the GIL for most of a second; started now, it
            # made the first frame wait 200–600 ms for the GIL. Start it once the
            # first screen has painted (or soon, if the catalog is not on screen).
            self._after_first_paint(start)
        else:
            start()

    def _after_first_paint(self, run: Callable[[], None]) -> None:
        """``run`` one event-loop turn after the table first paints, or after 250 ms."""
        fired = False

        def once() -> None:
            nonlocal fired
            if not fired:
                fired = True
                self.table.viewport().removeEventFilter(watcher)
                watcher.deleteLater()
                run()

        watcher = PaintWatcher(lambda: QTimer.singleShot(0, self, once), self)
        self.table.viewport().installEventFilter(watcher)
        QTimer.singleShot(250, self, once)  # tied to the page: no call after it is gone

    def is_loaded(self) -> bool:
        return self._index is not None and self._index.complete and not self._loading

    def _set_index(self, index: CatalogIndex) -> None:
        self._index = index
        self.total = index.total
        if self._deployment_health is not None:
            self.model.set_health(model_health(index, self._deployment_health))
        self.facet_panel.facets.set_facets(
            FACETS, index.values, index.global_counts, keep=self.facet_panel.facets.selections()
        )
        self._apply()
        self.sig_loaded.emit()

    def _on_error(self, exc: BaseException) -> None:
        self.header.subtitle.setText(f"Cannot read the cache: {exc}")

    def _show_freshness(self, info: CacheInfo) -> None:
        synced = [s for s in info.sources if s.last_sync_at is not None]
        if not info.sources:
            self.freshness.setText("Never synced")
            self.freshness.setToolTip(f"Cache: {info.path}")
            return
        newest = max(synced, key=lambda s: s.last_sync_at or 0, default=None)
        failed = [s.name for s in info.sources if s.last_error]
        text = (
            f"Synced {relative_time(newest.last_sync_at)} from "
            + ", ".join(s.name for s in info.sources)
            if newest
            else "Never synced"
        )
        if failed:
            text += f"  ·  {', '.join(failed)} unreachable at last sync"
        self.freshness.setText(text)
        tips = [f"Offline copy: {info.path}"]
        tips += [
            f"{s.name}: {s.models:,} models, synced {relative_time(s.last_sync_at)} "
            f"({exact_time(s.last_sync_at)})"
            + (f" — last error: {s.last_error}" if s.last_error else "")
            for s in info.sources
        ]
        self.freshness.setToolTip("\n".join(tips))

    def _description(self, model_id: int) -> str:
        return (
            self.browse.description(self._index, self._row_of_id(model_id)) if self._index else ""
        )

    def _row_of_id(self, model_id: int) -> int:
        assert self._index is not None
        if self._index.row_of_id is not None:
            return int(self._index.row_of_id[model_id])
        return self._index.ids.index(model_id)

    # ----------------------------------------------------------------- search
    def request(self) -> BrowseRequest:
        return BrowseRequest(
            self.search.text(),
            self.facet_panel.facets.selections(),
            self._sort[0],
            self._sort[1],
        )

    def _apply(self) -> None:
        """Show the answer to the current text, facets and sort (inline; see module doc)."""
        index = self._index
        if index is None or not index.complete:
            self._update_state()  # says it is still indexing
            return  # the load's completion applies whatever was typed meanwhile
        self._generation += 1
        generation = self._generation
        request = self.request()
        result = self.browse.search(index, request, fallback=False, counts=False)
        if not result.pending:
            self._show(index, result)
            return

        def done(found: BrowseResult) -> None:
            if generation == self._generation:
                self._show(index, found)

        self._tasks.run(
            self.browse.search,
            index,
            request,
            name="catalog search",
            on_done=done,
            on_error=self._on_error,
        )

    def _show(self, index: CatalogIndex, result: BrowseResult) -> None:
        current = self._current_key()
        self.last_result = result
        self.model.set_view(index, result.rows, result.terms, result.substring)
        self._counts_for = (index, result)
        self._counts_pending.start()
        self._update_state()
        if current is not None:
            row = self.model.row_of(*current) if len(result.rows) < 5000 else None
            if row is not None:
                self.table.selectionModel().blockSignals(True)
                self.table.selectRow(row)
                self.table.selectionModel().blockSignals(False)
        self.sig_count_changed.emit(len(result.rows), self.total)
        self.sig_view_updated.emit()

    def _show_counts(self) -> None:
        """The facet counts of the last result shown (a zero-timer after ``_show``)."""
        pending, self._counts_for = self._counts_for, None
        if pending is None or pending[0] is not self._index:
            return
        index, result = pending
        self.facet_panel.facets.set_counts(self.browse.facet_counts(index, result))
        self.sig_counts_updated.emit()

    def _current_key(self) -> tuple[str, str] | None:
        page = self.model_page
        if page is None or page.key is None:
            return None
        return page.key

    def _update_state(self) -> None:
        shown = self.model.rowCount()
        text = self.search.text()
        filtered = bool(text.strip()) or bool(self.facet_panel.facets.selections())
        self.clear_filters.setVisible(bool(self.facet_panel.facets.selections()))
        self.facet_panel.setVisible(self.total > 0)
        if self.total == 0:
            self.stack.setCurrentWidget(self.empty)
            self.header.subtitle.setText("The cache is empty")
        elif shown == 0 and self.is_loaded():
            self.stack.setCurrentWidget(self.no_match)
            what = f"“{text}”" if text.strip() else "these filters"
            self.header.subtitle.setText(f"No match for {what} among {self.total:,} models")
        else:
            self.stack.setCurrentWidget(self.table)
            if filtered and self.is_loaded():
                self.header.subtitle.setText(f"{shown:,} of {self.total:,} models match")
            elif filtered:
                self.header.subtitle.setText(
                    f"Indexing {self.total:,} models for search — results in a moment"
                )
            else:
                self.header.subtitle.setText(f"{self.total:,} models")

    def _on_facets_changed(self) -> None:
        self._apply()

    def _clear_filters(self) -> None:
        self.facet_panel.facets.clear_selection()

    # -------------------------------------------------------------------- sort
    def sort_by(self, key: str, descending: bool | None = None) -> None:
        if key not in COLUMN_KEYS:
            return
        if descending is None:
            if key == self._sort[0]:
                descending = not self._sort[1]
            else:
                descending = DEFAULT_DESCENDING.get(key, False)
        self._sort = (key, descending)
        self._settings.set("sort", key)
        self._settings.set("descending", descending)
        self._show_sort_indicator()
        self._apply()

    def _on_header_clicked(self, section: int) -> None:
        self.sort_by(COLUMN_KEYS[section])

    def _show_sort_indicator(self) -> None:
        key, desc = self._sort
        self.table.horizontalHeader().setSortIndicator(
            COLUMN_KEYS.index(key),
            Qt.SortOrder.DescendingOrder if desc else Qt.SortOrder.AscendingOrder,
        )

    # ----------------------------------------------------------------- columns
    def _column_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        for col, (key, title, _w, _s) in enumerate(COLUMNS):
            act = menu.addAction(title)
            act.setCheckable(True)
            act.setChecked(not self.table.isColumnHidden(col))
            act.setEnabled(key != "name")
            act.toggled.connect(lambda on, c=col: self.set_column_visible(c, on))
        menu.popup(self.table.horizontalHeader().mapToGlobal(pos))

    def set_column_visible(self, column: int, visible: bool) -> None:
        if COLUMN_KEYS[column] == "name":
            return
        self.table.setColumnHidden(column, not visible)
        hidden = [k for c, k in enumerate(COLUMN_KEYS) if self.table.isColumnHidden(c)]
        self._settings.set("hidden", hidden or [""])

    # ------------------------------------------------------------- model page
    def focus_search(self) -> None:
        if self.pages.currentWidget() is not self.body:
            self.pages.setCurrentWidget(self.body)
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _focus_table(self) -> None:
        if self.model.rowCount():
            self.table.setFocus()
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        # in split mode the page beside the list follows the selection
        if (
            current.isValid()
            and self._layout_mode == "split"
            and self.model_page is not None
            and self.model_page.isVisible()
        ):
            self._open_row(current.row(), focus=False)

    def _open_row(self, row: int, *, focus: bool) -> None:
        if 0 <= row < self.model.rowCount():
            source, name = self.model.key_at(row)
            self.open_model(source, name, focus=focus)
            self.sig_model_activated.emit(self.model.model_at(row))

    def ensure_model_page(self) -> ModelPage:
        if self.model_page is None:
            from app.ui.pages.catalog.model_page import ModelPage  # not needed for the first paint
            from app.ui.pages.catalog.writes import WriteServices

            writes = (
                WriteServices(self._registry, self._governance)
                if self._registry is not None and self._governance is not None
                else None
            )
            page = ModelPage(
                self._catalog,
                self.browse,
                self._tasks,
                self.tokens,
                run_fetcher=self._run_fetcher,
                writes=writes,
            )
            page.sig_close_requested.connect(self.close_model)
            page.sig_layout_toggle_requested.connect(self.toggle_layout)
            page.sig_deploy_requested.connect(self.sig_deploy_requested.emit)
            # a write changed one model in the cache: the list's aliases and tags follow
            page.sig_written.connect(lambda _outcome: self.refresh())
            self.model_page = page
            self._place_model_page()
        return self.model_page

    def open_model(self, source: str, name: str, *, focus: bool = True) -> ModelPage:
        page = self.ensure_model_page()
        page.show_model(source, name)
        page.show()
        if self._layout_mode == "full":
            self.pages.setCurrentWidget(page)
        elif self.pages.currentWidget() is not self.body:
            self.pages.setCurrentWidget(self.body)
        if focus:
            page.setFocus(Qt.FocusReason.OtherFocusReason)
            page.focus_first()
        return page

    def close_model(self) -> None:
        if self.model_page is None:
            return
        if self._layout_mode == "full":
            self.pages.setCurrentWidget(self.body)
        else:
            self.model_page.hide()
        self.table.setFocus()

    @property
    def layout_mode(self) -> str:
        return self._layout_mode

    def toggle_layout(self) -> None:
        self.set_layout_mode("full" if self._layout_mode == "split" else "split")

    def set_layout_mode(self, mode: str) -> None:
        if mode not in ("split", "full") or mode == self._layout_mode:
            return
        self._layout_mode = mode
        self._settings.set("layout", mode)
        if self.model_page is not None:
            visible = self.model_page.isVisible() or self.pages.currentWidget() is self.model_page
            self._place_model_page()
            if visible:
                self.model_page.show()
                if mode == "full":
                    self.pages.setCurrentWidget(self.model_page)

    def _place_model_page(self) -> None:
        page = self.model_page
        assert page is not None
        page.set_layout_mode(self._layout_mode)
        if self._layout_mode == "split":
            self.pages.setCurrentWidget(self.body)
            self.pages.removeWidget(page)
            self.splitter.addWidget(page)
            self.splitter.setStretchFactor(2, 1)
            total = max(self.splitter.width(), 1200)
            self.splitter.setSizes([210, int((total - 210) * 0.5), int((total - 210) * 0.5)])
        else:
            self.pages.addWidget(page)

    def _align_name_header(self) -> None:
        """The "Name" header over the names: indented by the health dots' gutter when it is shown
        (NameDelegate), as the stylesheet's 8 px section padding matches the cells'."""
        header = self.table.horizontalHeader()
        gutter = "QHeaderView::section:first { padding-left: 22px; }"
        header.setStyleSheet(gutter if self.model.health_known else "")

    def set_health(self, health: Mapping[tuple[str, str], str]) -> None:
        """Health dots by ``(source, name)`` as they are (see ``show_fleet_report``)."""
        self.model.set_health(health)

    def show_fleet_report(self, report: FleetReport) -> None:
        """A health poll's statuses: every deployment's, so they replace the last ones."""
        self._health_reported = True
        self._set_deployment_health({h.key: h.status for h in report.deployments})

    def _show_cached_health(self, statuses: Mapping[tuple[str, str], HealthStatus]) -> None:
        if not self._health_reported:  # a poll's report is newer than the cache's
            self._set_deployment_health(statuses)

    def _set_deployment_health(self, statuses: Mapping[tuple[str, str], HealthStatus]) -> None:
        self._deployment_health = statuses
        if self._index is not None and self._index.complete:
            self.model.set_health(model_health(self._index, statuses))
