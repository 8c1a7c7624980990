"""Table models over rows of objects: the Qt plumbing written once.

``TableModel`` answers ``rowCount``, ``columnCount`` and ``headerData`` from its
``headers`` and ``row_count()``: the base of the models that answer ``data`` their own
way (the catalog's lazy 100k rows, the fleet's per-poll display cache).
``RowTableModel`` adds ``data`` from a column spec (``Column``: title, alignment,
display / tooltip / sort value), over a list replaced whole by ``set_rows``.
Both pass ``qtmodeltester.check``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")

#: the row object itself (delegates paint from it)
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
#: the column's sort key (a proxy's ``sortRole``); the display text when it has none
SORT_ROLE = Qt.ItemDataRole.UserRole + 99

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_ROW = int(ROW_ROLE)
_SORT = int(SORT_ROLE)


class TableModel(QAbstractTableModel):
    """``rowCount`` / ``columnCount`` / ``headerData`` once: subclasses set ``headers``
    and give ``row_count()``."""

    headers: Sequence[str] = ()

    def row_count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """One column of a ``RowTableModel``: its title and how a row shows in it."""

    title: str
    display: Callable[[R], str] | None = None
    tooltip: Callable[[R], str | None] | None = None
    sort: Callable[[R], Any] | None = None
    align: Qt.AlignmentFlag | None = None


class RowTableModel(TableModel, Generic[R]):
    """A table of ``rows`` (any objects), one ``Column`` per column.

    ``data`` answers DisplayRole, ToolTipRole, TextAlignmentRole, ``ROW_ROLE`` (the row
    object) and ``SORT_ROLE``; every other role reads None.
    """

    def __init__(self, columns: Sequence[Column[R]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.headers = tuple(c.title for c in self.columns)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        """Show ``rows`` (one model reset)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    @property
    def rows(self) -> list[R]:
        return self._rows

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, c = index.row(), index.column()
        if not index.isValid() or r >= len(self._rows) or c >= len(self.columns):
            return None
        row, col = self._rows[r], self.columns[c]
        if role == _ROW:
            return row
        if role == _DISPLAY:
            return col.display(row) if col.display is not None else None
        if role == _TOOLTIP:
            return col.tooltip(row) if col.tooltip is not None else None
        if role == _ALIGN:
            return int(col.align) if col.align is not None else None
        if role == _SORT:
            if col.sort is not None:
                return col.sort(row)
            return col.display(row) if col.display is not None else None
        return None
