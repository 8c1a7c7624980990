"""The catalog's facet sidebar: owner, flavor, tag, alias, stage, registry, deployed.

A two-level item model (facet → values) with check boxes, painted by a delegate
as dense rows: value on the left, count on the right in tabular figures.
Counts change on every keystroke through ``dataChanged`` only — the tree keeps
its expansion and scroll position, and values keep their place (ordered by
their count over the whole cache), so the sidebar never jumps under the mouse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from app.ui.theme import Tokens

_Index = QModelIndex | QPersistentModelIndex
COUNT_ROLE = Qt.ItemDataRole.UserRole + 10
IS_FACET_ROLE = Qt.ItemDataRole.UserRole + 11
_NO_PARENT = 0xFFFFFFFF  # internalId of top-level rows

#: at most this many values of one facet are listed (the biggest); tags have ~70
MAX_VALUES = 40


class FacetModel(QAbstractItemModel):
    """Facets and their values; value rows are checkable."""

    sig_selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._facets: list[tuple[str, str]] = []  # (id, title)
        self._values: list[list[str]] = []  # per facet, display order
        self._codes: list[list[int]] = []  # per facet, code of each listed value
        self._counts: list[list[int]] = []  # per facet, count per listed value
        self._checked: list[set[str]] = []

    # ----------------------------------------------------------------- data in
    def set_facets(
        self,
        facets: Mapping[str, str],
        values: Mapping[str, Sequence[str]],
        global_counts: Mapping[str, Sequence[int]],
        keep: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        """Lay the sidebar out for a freshly loaded cache (a reset)."""
        self.beginResetModel()
        self._facets = [(f, t) for f, t in facets.items() if values.get(f)]
        self._values, self._codes, self._counts, self._checked = [], [], [], []
        for facet, _title in self._facets:
            labels = list(values[facet])
            counts = list(global_counts.get(facet, [0] * len(labels)))
            if facet == "deployed":
                order = sorted(range(len(labels)), key=lambda i: labels[i] != "yes")
            else:
                order = sorted(range(len(labels)), key=lambda i: (-counts[i], labels[i]))
            order = order[:MAX_VALUES]
            self._values.append([labels[i] for i in order])
            self._codes.append(order)
            self._counts.append([counts[i] for i in order])
            wanted = (keep or {}).get(facet, frozenset())
            self._checked.append({v for v in wanted if v in labels})
        self.endResetModel()

    def set_counts(self, counts: Mapping[str, Sequence[int]]) -> None:
        """New counts for the current search, in place (no reset)."""
        for f, (facet, _title) in enumerate(self._facets):
            per_code = counts.get(facet)
            if per_code is None or not self._codes[f]:
                continue
            new = [per_code[c] if c < len(per_code) else 0 for c in self._codes[f]]
            if new != self._counts[f]:
                self._counts[f] = new
                parent = self.index(f, 0)
                self.dataChanged.emit(
                    self.index(0, 0, parent),
                    self.index(len(new) - 1, 0, parent),
                    [COUNT_ROLE, Qt.ItemDataRole.DisplayRole],
                )

    def selections(self) -> dict[str, frozenset[str]]:
        return {
            facet: frozenset(self._checked[f])
            for f, (facet, _t) in enumerate(self._facets)
            if self._checked[f]
        }

    def clear_selection(self) -> None:
        for f in range(len(self._facets)):
            self._checked[f].clear()
        if self._facets:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._facets) - 1, 0))
            for f in range(len(self._facets)):
                parent = self.index(f, 0)
                if self._values[f]:
                    self.dataChanged.emit(
                        self.index(0, 0, parent), self.index(len(self._values[f]) - 1, 0, parent)
                    )
        self.sig_selection_changed.emit()

    def toggle(self, facet: str, value: str) -> None:
        f = next(i for i, (fid, _t) in enumerate(self._facets) if fid == facet)
        row = self._values[f].index(value)
        idx = self.index(row, 0, self.index(f, 0))
        current = self.data(idx, Qt.ItemDataRole.CheckStateRole)
        new = Qt.CheckState.Unchecked if current == Qt.CheckState.Checked else Qt.CheckState.Checked
        self.setData(idx, new, Qt.ItemDataRole.CheckStateRole)

    def facet_ids(self) -> list[str]:
        return [f for f, _t in self._facets]

    def values_of(self, facet: str) -> list[str]:
        f = self.facet_ids().index(facet)
        return list(self._values[f])

    def count_of(self, facet: str, value: str) -> int:
        f = self.facet_ids().index(facet)
        return self._counts[f][self._values[f].index(value)]

    # ------------------------------------------------------------------- Qt
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row >= len(self._facets):
                return QModelIndex()
            return self.createIndex(row, 0, _NO_PARENT)
        if parent.internalId() != _NO_PARENT:
            return QModelIndex()
        f = parent.row()
        if row >= len(self._values[f]):
            return QModelIndex()
        return self.createIndex(row, 0, f)

    def parent(self, child: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid() or child.internalId() == _NO_PARENT:
            return QModelIndex()
        return self.createIndex(int(child.internalId()), 0, _NO_PARENT)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._facets)
        if parent.internalId() == _NO_PARENT and parent.column() == 0:
            return len(self._values[parent.row()])
        return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 1

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.internalId() == _NO_PARENT:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == _NO_PARENT:
            f = index.row()
            if role == Qt.ItemDataRole.DisplayRole:
                return self._facets[f][1]
            if role == IS_FACET_ROLE:
                return True
            if role == COUNT_ROLE:
                return len(self._checked[f]) or None
            return None
        f = int(index.internalId())
        value = self._values[f][index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return value
        if role == COUNT_ROLE:
            return self._counts[f][index.row()]
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if value in self._checked[f] else Qt.CheckState.Unchecked
        if role == IS_FACET_ROLE:
            return False
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self._facets[f][1]}: {value} — {self._counts[f][index.row()]:,} models"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{value}, {self._counts[f][index.row()]} models"
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            not index.isValid()
            or index.internalId() == _NO_PARENT
            or role != Qt.ItemDataRole.CheckStateRole
        ):
            return False
        f = int(index.internalId())
        label = self._values[f][index.row()]
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        if checked:
            self._checked[f].add(label)
        else:
            self._checked[f].discard(label)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        parent = self.index(f, 0)
        self.dataChanged.emit(parent, parent, [COUNT_ROLE])
        self.sig_selection_changed.emit()
        return True


class FacetDelegate(QStyledItemDelegate):
    """Section titles small and muted; value rows with a check, the value and its count."""

    ROW_H = 26

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(180, 32 if index.data(IS_FACET_ROLE) else self.ROW_H)

    def editorEvent(self, event: Any, model: Any, option: Any, index: _Index) -> bool:
        return False  # the panel toggles on click; the style's check box would toggle twice

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        t = self.tokens
        rect = option.rect
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(option.font)
        if index.data(IS_FACET_ROLE):
            font.setPointSizeF(max(7.5, font.pointSizeF() - 1.5))
            font.setWeight(QFont.Weight.DemiBold)
            font.setCapitalization(QFont.Capitalization.AllUppercase)
            font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 0.6)
            painter.setFont(font)
            painter.setPen(QColor(t.muted))
            painter.drawText(
                rect.adjusted(4, 8, -8, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                str(index.data()),
            )
            selected = index.data(COUNT_ROLE)
            if selected:
                painter.setPen(QColor(t.accent))
                painter.drawText(
                    rect.adjusted(0, 8, -8, 0),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    f"{selected} selected",
                )
            painter.restore()
            return
        checked = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        count = int(index.data(COUNT_ROLE) or 0)
        row = QRect(rect.left(), rect.top() + 1, rect.width() - 4, rect.height() - 2)
        if checked or hovered:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(t.accent_soft if checked else t.hover))
            painter.drawRoundedRect(row, 6, 6)
        box = QRect(row.left() + 6, row.center().y() - 6, 12, 12)
        painter.setPen(QColor(t.accent if checked else t.border))
        painter.setBrush(QColor(t.accent) if checked else QColor(t.surface))
        painter.drawRoundedRect(box, 3, 3)
        if checked:
            painter.setPen(QColor(t.accent_text))
            painter.drawLine(box.left() + 3, box.center().y(), box.left() + 5, box.bottom() - 3)
            painter.drawLine(box.left() + 5, box.bottom() - 3, box.right() - 2, box.top() + 3)
        painter.setFont(font)
        fm = QFontMetrics(font)
        count_text = f"{count:,}"
        cw = fm.horizontalAdvance(count_text) + 8
        text_rect = row.adjusted(box.width() + 14, 0, -cw - 6, 0)
        painter.setPen(QColor(t.text if count or checked else t.muted))
        label = fm.elidedText(str(index.data()), Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label
        )
        num_font = QFont(font)
        num_font.setFeature(QFont.Tag("tnum"), 1)
        painter.setFont(num_font)
        painter.setPen(QColor(t.muted))
        painter.drawText(
            row.adjusted(0, 0, -8, 0),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            count_text,
        )
        painter.restore()


class FacetPanel(QTreeView):
    """The sidebar view: click (or Space) on a value toggles it."""

    sig_selection_changed = Signal()

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("facets")
        self.facets = FacetModel(self)
        self.setModel(self.facets)
        self.setItemDelegate(FacetDelegate(tokens, self))
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(0)
        self.setUniformRowHeights(False)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAccessibleName("Filters")
        self.setMinimumWidth(200)
        self.facets.modelReset.connect(self.expandAll)
        self.facets.sig_selection_changed.connect(self.sig_selection_changed.emit)
        self.clicked.connect(self._toggle)

    def _toggle(self, index: QModelIndex) -> None:
        if not index.isValid() or index.data(IS_FACET_ROLE):
            return
        checked = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
        self.facets.setData(
            index,
            Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked,
            Qt.ItemDataRole.CheckStateRole,
        )

    def keyPressEvent(self, event: Any) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._toggle(self.currentIndex())
            return
        super().keyPressEvent(event)
