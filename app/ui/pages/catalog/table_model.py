"""The catalog's table model: a view of ``CatalogIndex`` rows (no per-row Python work
in a reset; the view asks ``data`` only for the rows it paints), its columns and roles."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.domain.models import RegisteredModel, utc_from_ms
from app.services.browse import CatalogIndex
from app.ui.kit.table_model import Index, TableModel
from app.ui.kit.widgets import exact_time, relative_time

if TYPE_CHECKING:
    from app.services.browse import IntArray

    #: index rows in view order: a list for the first screen, then the search's array
    Rows = Sequence[int] | IntArray

#: key, header, default width, shown by default
COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("name", "Name", 300, True),
    ("latest", "Latest", 64, True),
    ("aliases", "Aliases", 210, True),
    ("owner", "Owner", 124, True),
    ("flavor", "Flavor", 96, True),
    ("tags", "Tags", 230, True),
    ("updated", "Updated", 92, True),
    ("source", "Registry", 128, True),
    ("deployed", "Deployed", 110, True),
)
COLUMN_KEYS = tuple(c[0] for c in COLUMNS)
NAME_COL = 0
ALIASES_COL = COLUMN_KEYS.index("aliases")
ALIASES_ROLE = Qt.ItemDataRole.UserRole + 1
MODEL_ROLE = Qt.ItemDataRole.UserRole + 2
TERMS_ROLE = Qt.ItemDataRole.UserRole + 3
HEALTH_ROLE = Qt.ItemDataRole.UserRole + 4
#: the roles ``CatalogTableModel.data`` answers, as ints: a view asks for ten or so
#: roles per cell per paint, so the others are turned away before any other work
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIASES, _MODEL, _TERMS, _HEALTH = (
    int(ALIASES_ROLE),
    int(MODEL_ROLE),
    int(TERMS_ROLE),
    int(HEALTH_ROLE),
)
_ROLES = frozenset((_DISPLAY, _TOOLTIP, _ALIASES, _MODEL, _TERMS, _HEALTH))
#: the direction a column sorts in when first clicked (newest first for times)
DEFAULT_DESCENDING = {"updated": True, "latest": True}
ROW_HEIGHT = 30


class CatalogTableModel(TableModel):
    """A view of ``CatalogIndex`` rows: ``rows[r]`` is the index row shown at ``r``.

    Replaced whole (one model reset) per keystroke, facet click or sort. ``rows`` is
    the search's numpy array as is (or a list for the first screen): nothing per row
    happens in a reset, and the view asks ``data`` only for the rows it paints.
    """

    headers = tuple(c[1] for c in COLUMNS)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._index: CatalogIndex | None = None
        self._rows: Rows = []
        self._terms: tuple[str, ...] = ()
        self._substring = False
        self._health: Mapping[tuple[str, str], str] = {}
        self.description_of: Callable[[int], str] | None = None

    def set_view(
        self,
        index: CatalogIndex,
        rows: Rows,
        terms: tuple[str, ...] = (),
        substring: bool = False,
    ) -> None:
        self.beginResetModel()
        self._index, self._rows = index, rows
        self._terms, self._substring = terms, substring
        self.endResetModel()

    def set_health(self, health: Mapping[tuple[str, str], str]) -> None:
        """Health per ``(source, name)`` — from the health issue; rows without one show no dot."""
        had_dots = bool(self._health)
        self._health = health
        if had_dots != bool(health):  # the name column's gutter comes or goes
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, NAME_COL, NAME_COL)
        if len(self._rows):
            self.dataChanged.emit(
                self.index(0, NAME_COL), self.index(len(self._rows) - 1, NAME_COL), [HEALTH_ROLE]
            )

    @property
    def health_known(self) -> bool:
        """Some model has a health dot (the name column keeps room for one in every row)."""
        return bool(self._health)

    @property
    def index_rows(self) -> Rows:
        return self._rows

    def key_at(self, row: int) -> tuple[str, str]:
        assert self._index is not None
        i = int(self._rows[row])
        return self._index.source[i], self._index.name[i]

    def model_at(self, row: int) -> RegisteredModel:
        """The row as a (display-level) ``RegisteredModel``; descriptions are not in memory."""
        assert self._index is not None
        ix, i = self._index, int(self._rows[row])
        return RegisteredModel(
            source=ix.source[i],
            name=ix.name[i],
            tags=json.loads(ix.tags_json[i]),
            aliases=dict(ix.aliases[i]),
            owner=ix.owner[i],
            flavor=ix.flavor[i],
            updated_at=utc_from_ms(ix.updated_ms[i]),
            latest_version=ix.latest[i],
            version_count=ix.version_count[i],
        )

    def row_of(self, source: str, name: str) -> int | None:
        ix = self._index
        i = ix.row(source, name) if ix is not None else None
        if i is None:
            return None
        rows = self._rows
        if isinstance(rows, list):
            return rows.index(i) if i in rows else None
        import numpy as np  # loaded with the index

        at = np.flatnonzero(np.asarray(rows) == i)
        return int(at[0]) if len(at) else None

    # ------------------------------------------------------------------- Qt
    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES:
            return None
        r = index.row()
        ix = self._index
        if ix is None or r < 0 or r >= len(self._rows):
            return None
        if role == _TERMS:
            return (self._terms, self._substring)
        i = int(self._rows[r])
        if role == _DISPLAY:
            return self._display(ix, i, COLUMN_KEYS[index.column()])
        if role == _HEALTH:
            return self._health.get((ix.source[i], ix.name[i])) if self._health else None
        if role == _ALIASES:
            return ix.aliases[i]
        if role == _TOOLTIP:
            return self._tooltip(ix, i, COLUMN_KEYS[index.column()])
        return self.model_at(r)  # MODEL_ROLE

    @staticmethod
    def _display(ix: CatalogIndex, i: int, key: str) -> str:
        if key == "name":
            return ix.name[i]
        if key == "latest":
            v = ix.latest[i]
            return f"v{v}" if v else "—"
        if key == "aliases":
            return " ".join(f"{a}@v{v}" for a, v in ix.aliases[i])
        if key == "owner":
            return ix.owner[i] or "—"
        if key == "flavor":
            return ix.flavor[i] or "—"
        if key == "tags":
            return ix.tags_text[i]
        if key == "updated":
            return relative_time(utc_from_ms(ix.updated_ms[i]))
        if key == "source":
            return ix.source[i]
        if key == "deployed":
            return ix.deployed_on[i]
        return ""

    def _tooltip(self, ix: CatalogIndex, i: int, key: str) -> str | None:
        if key == "updated":
            return exact_time(utc_from_ms(ix.updated_ms[i]))
        if key == "name":
            text = self.description_of(ix.ids[i]) if self.description_of else ""
            first = next((ln for ln in text.splitlines() if ln.strip()), "")
            tip = f"{ix.name[i]}\n{first.replace('**', '').replace('`', '')}".strip()
            health = self._health.get((ix.source[i], ix.name[i])) if self._health else None
            return f"{tip}\nDeployment health: {health}" if health else tip
        if key == "tags":
            tags = json.loads(ix.tags_json[i])
            return "\n".join(f"{k} = {v}" for k, v in sorted(tags.items())) or None
        if key == "aliases" and ix.aliases[i]:
            return "\n".join(f"{a} → version {v}" for a, v in ix.aliases[i])
        if key == "deployed" and ix.deployed_on[i]:
            return f"Deployed on {ix.deployed_on[i]}"
        return None
