"""Catalog page: search box, the model table, and empty states.

Filtering and sorting happen in the cache (FTS5 + ORDER BY) on a worker
thread; the table model only holds the rows to show and is reset in one go —
never a ``QSortFilterProxyModel`` over 100k Python rows (PERFORMANCE.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import qtawesome as qta
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.models import RegisteredModel
from app.services.catalog import CatalogService
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens
from app.ui.widgets import EmptyState, PageHeader, exact_time, relative_time

_Index = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    # key, header, sort key in the cache (None: not sortable)
    ("name", "Name", "name"),
    ("latest", "Latest", "versions"),
    ("aliases", "Aliases", None),
    ("owner", "Owner", "owner"),
    ("flavor", "Flavor", "flavor"),
    ("tags", "Tags", None),
    ("updated", "Updated", "updated"),
    ("source", "Registry", "source"),
)
ALIASES_COL = 2
ALIASES_ROLE = Qt.ItemDataRole.UserRole + 1
MODEL_ROLE = Qt.ItemDataRole.UserRole + 2


class CatalogTableModel(QAbstractTableModel):
    """Read-only rows of ``RegisteredModel``, replaced whole on each search."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RegisteredModel] = []

    def set_models(self, models: Sequence[RegisteredModel]) -> None:
        self.beginResetModel()
        self._rows = list(models)
        self.endResetModel()

    def model_at(self, row: int) -> RegisteredModel:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        m = self._rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(m, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "updated":
                return exact_time(m.updated_at)
            if key == "name" and m.description:
                return m.description.splitlines()[0].replace("**", "")
            if key == "tags":
                return "\n".join(f"{k} = {v}" for k, v in sorted(m.tags.items()))
            return None
        if role == ALIASES_ROLE and key == "aliases":
            return sorted(m.aliases.items(), key=lambda kv: (kv[0] != "champion", kv[0]))
        if role == MODEL_ROLE:
            return m
        return None

    @staticmethod
    def _display(m: RegisteredModel, key: str) -> str:
        if key == "name":
            return m.name
        if key == "latest":
            return f"v{m.latest_version}" if m.latest_version else "—"
        if key == "aliases":
            return " ".join(f"{a}@v{v}" for a, v in sorted(m.aliases.items()))
        if key == "owner":
            return m.owner or "—"
        if key == "flavor":
            return m.flavor or "—"
        if key == "tags":
            shown = [
                f"{k}={v}" for k, v in sorted(m.tags.items()) if k not in ("framework", "task")
            ]
            return ", ".join(shown)
        if key == "updated":
            return relative_time(m.updated_at)
        if key == "source":
            return m.source
        return ""


class AliasPillDelegate(QStyledItemDelegate):
    """Paints aliases as small pills; ``champion`` in the accent colour."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        aliases = index.data(ALIASES_ROLE) or []
        font = QFont(opt.font)
        font.setPointSizeF(max(7.5, font.pointSizeF() - 1))
        fm = QFontMetrics(font)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        x = opt.rect.left() + 8
        h = fm.height() + 4
        y = opt.rect.top() + (opt.rect.height() - h) // 2
        t = self.tokens
        for alias, version in aliases:
            label = f"{alias} v{version}"
            w = fm.horizontalAdvance(label) + 14
            if x + w > opt.rect.right() - 4:
                painter.setPen(QColor(t.muted))
                painter.drawText(QRect(x, y, 20, h), Qt.AlignmentFlag.AlignVCenter, "…")
                break
            champion = alias == "champion"
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(t.accent if champion else t.hover))
            painter.drawRoundedRect(QRect(x, y, w, h), h / 2, h / 2)
            painter.setPen(QColor(t.accent_text if champion else t.text))
            painter.drawText(QRect(x, y, w, h), Qt.AlignmentFlag.AlignCenter, label)
            x += w + 4
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(180, 30)


class CatalogPage(QWidget):
    """Search and browse every cached model."""

    sig_model_activated = Signal(object)  # RegisteredModel
    sig_add_registry_requested = Signal()
    sig_demo_requested = Signal()
    sig_count_changed = Signal(int, int)  # shown, total

    SEARCH_DELAY_MS = 120

    def __init__(
        self,
        catalog: CatalogService,
        tasks: TaskRunner,
        tokens: Tokens,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self._catalog = catalog
        self._tasks = tasks
        self._sort = ("updated", True)  # recently changed first
        self._generation = 0
        self.total = 0

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = PageHeader("Catalog", "Loading the cache…")
        lay.addWidget(self.header)

        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "Search models…   e.g.  fraud  tag:team=nlp  alias:champion  owner:ana  flavor:sklearn"
        )
        self.search.setClearButtonEnabled(True)
        self.search.addAction(
            qta.icon("mdi6.magnify", color=tokens.muted), QLineEdit.ActionPosition.LeadingPosition
        )
        self.search.setAccessibleName("Search models")
        self.search.setMinimumHeight(36)
        wrap = QVBoxLayout()
        wrap.setContentsMargins(24, 0, 24, 12)
        wrap.addWidget(self.search)
        lay.addLayout(wrap)

        self.model = CatalogTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Models")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh = self.table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.setSortIndicator(6, Qt.SortOrder.DescendingOrder)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.sectionClicked.connect(self._on_header_clicked)
        for col, width in enumerate((290, 64, 250, 124, 96, 200, 96, 120)):
            self.table.setColumnWidth(col, width)
        hh.setStretchLastSection(True)
        self.table.setItemDelegateForColumn(ALIASES_COL, AliasPillDelegate(tokens, self.table))
        self.table.doubleClicked.connect(self._on_activated)
        self.table.activated.connect(self._on_activated)

        self.empty = EmptyState(
            "mdi6.database-search-outline",
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
            "mdi6.magnify-close",
            "No models match",
            "Try fewer words, or remove a filter such as tag: or owner:.",
        )
        self.stack = QStackedWidget()
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(24, 0, 24, 16)
        bl.addWidget(self.table)
        self.stack.addWidget(body)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.no_match)
        lay.addWidget(self.stack, 1)

        self._timer = QTimer(self, singleShot=True, interval=self.SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        for seq in (QKeySequence.StandardKey.Find, QKeySequence("/")):
            sc = QShortcut(seq, self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(self.focus_search)
        self.search.returnPressed.connect(self._focus_table)

    # ---------------------------------------------------------------- actions
    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _focus_table(self) -> None:
        if self.model.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)

    def refresh(self, on_loaded: Callable[[], None] | None = None) -> None:
        """Re-run the current search in the background; stale answers are dropped."""
        self._generation += 1
        generation = self._generation
        text = self.search.text()
        sort, desc = self._sort

        def load() -> tuple[list[RegisteredModel], int]:
            found = self._catalog.search(text, sort=sort, descending=desc)
            total = self._catalog.count() if text else len(found)
            return found, total

        def done(result: tuple[list[RegisteredModel], int]) -> None:
            if generation != self._generation:
                return
            found, total = result
            self.total = total
            self.model.set_models(found)
            self._update_state(text)
            self.sig_count_changed.emit(len(found), total)
            if on_loaded is not None:
                on_loaded()

        self._tasks.run(load, name="catalog search", on_done=done, on_error=self._on_error)

    def _on_error(self, exc: BaseException) -> None:
        self.header.subtitle.setText(f"Cannot read the cache: {exc}")

    def _update_state(self, text: str) -> None:
        shown = self.model.rowCount()
        if self.total == 0:
            self.stack.setCurrentWidget(self.empty)
            self.header.subtitle.setText("The cache is empty")
        elif shown == 0:
            self.stack.setCurrentWidget(self.no_match)
            self.header.subtitle.setText(f"No match for “{text}” among {self.total:,} models")
        else:
            self.stack.setCurrentIndex(0)
            if text:
                self.header.subtitle.setText(f"{shown:,} of {self.total:,} models match")
            else:
                self.header.subtitle.setText(f"{self.total:,} models")

    def _on_header_clicked(self, section: int) -> None:
        key = COLUMNS[section][2]
        hh = self.table.horizontalHeader()
        if key is None:
            col = next(i for i, c in enumerate(COLUMNS) if c[2] == self._sort[0])
            hh.setSortIndicator(
                col, Qt.SortOrder.DescendingOrder if self._sort[1] else Qt.SortOrder.AscendingOrder
            )
            return
        desc = hh.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        self._sort = (key, desc)
        self.refresh()

    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.sig_model_activated.emit(self.model.model_at(index.row()))
