"""The fleet table's model: every deployment's health, worst first, filtered in place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import (
    QColor,
)

from app.domain.health import (
    ERROR_RATE,
    LATENCY_P95,
    REPLICAS,
    RPS,
    DeploymentHealth,
    HealthStatus,
    format_value,
)
from app.ui.kit.status import STATUS_LABEL
from app.ui.kit.table_model import ROW_ROLE, TableModel
from app.ui.pages.health.spark import Spark, spark_for
from app.ui.theme import Tokens

_Index = QModelIndex | QPersistentModelIndex

HEADERS = ("Status", "Deployment", "Target", "p95 latency", "Error rate", "RPS", "Replicas", "Why")
STATUS_COL, NAME_COL, TARGET_COL, P95_COL, ERR_COL, RPS_COL, REPLICAS_COL, WHY_COL = range(8)
HEALTH_ROLE = ROW_ROLE
SPARK_ROLE = Qt.ItemDataRole.UserRole + 2


class FleetModel(TableModel):
    """Every deployment's health, worst first; filtering happens here, not in a proxy.

    ``data`` is its own: it answers from the display texts formatted once per poll.
    """

    headers = HEADERS

    def __init__(self, tokens: Tokens, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens
        self._all: list[DeploymentHealth] = []
        self._sparks: list[tuple[Spark | None, Spark | None]] = []
        self._display: list[tuple[str | None, ...]] = []
        self._muted = QColor(tokens.muted)
        self._rows: list[int] = []
        self._statuses: set[HealthStatus] = set()
        self._target = ""
        self._text = ""

    def set_report(self, rows: Sequence[DeploymentHealth]) -> None:
        self.beginResetModel()
        self._all = list(rows)
        self._sparks = [(spark_for(h, LATENCY_P95), spark_for(h, ERROR_RATE)) for h in rows]
        self._display = [_display_row(h) for h in rows]
        self._rows = self._filtered()
        self.endResetModel()

    def set_filter(
        self, *, statuses: set[HealthStatus] | None = None, target: str = "", text: str = ""
    ) -> None:
        self.beginResetModel()
        self._statuses = set(statuses or ())
        self._target = target
        self._text = text.strip().lower()
        self._rows = self._filtered()
        self.endResetModel()

    def _filtered(self) -> list[int]:
        out = []
        words = self._text.split()
        for i, h in enumerate(self._all):
            d = h.deployment
            if self._statuses and h.status not in self._statuses:
                continue
            if self._target and d.target != self._target:
                continue
            if words:
                hay = f"{d.app} {d.model_name} {d.target} {h.verdict.why}".lower()
                if not all(w in hay for w in words):
                    continue
            out.append(i)
        return out

    def health_at(self, row: int) -> DeploymentHealth:
        return self._all[self._rows[row]]

    @property
    def all_rows(self) -> list[DeploymentHealth]:
        return self._all

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # called ~8 times per painted cell, mostly for roles this model never sets
        if role not in _ROLES:
            return None
        row = index.row()
        if row < 0 or row >= len(self._rows):  # an invalid index has row -1
            return None
        i = self._rows[row]
        col = index.column()
        if role == HEALTH_ROLE:
            return self._all[i]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display[i][col]
        if role == SPARK_ROLE:
            if col == P95_COL:
                return self._sparks[i][0]
            if col == ERR_COL:
                return self._sparks[i][1]
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._muted if col in (TARGET_COL, WHY_COL) else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if col in (RPS_COL, REPLICAS_COL) else None
        h = self._all[i]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col in (WHY_COL, STATUS_COL):
                lines = [f"{STATUS_LABEL[h.status]}: " + "\n".join(h.verdict.reasons)]
                if h.stale:
                    lines.append("(from the local cache: the metrics source is unreachable)")
                return "\n".join(lines)
            if col == NAME_COL:
                versions = "  ".join(f"v{v} {p}%" for v, p in h.deployment.traffic.items())
                return f"{h.deployment.model_name}  {versions}".strip()
            if col in (P95_COL, ERR_COL):
                key = LATENCY_P95 if col == P95_COL else ERROR_RATE
                data = h.signals.get(key)
                return data.promql if data else None
            return None
        # AccessibleTextRole
        return f"{h.deployment.app}: {STATUS_LABEL[h.status]}, {h.verdict.why}"


def _display_row(h: DeploymentHealth) -> tuple[str | None, ...]:
    """The DisplayRole text of every column, formatted once per poll, not per paint."""
    f = h.verdict.figures
    rps = h.signals.get(RPS)
    replicas = f.get(REPLICAS)
    return (
        STATUS_LABEL[h.status],
        h.deployment.app,
        h.deployment.target,
        None,  # p95: a sparkline
        None,  # error rate: a sparkline
        format_value(f.get(RPS), rps.spec.unit) if rps else "—",
        "—" if replicas is None else f"{replicas:.0f} / {h.deployment.replicas}",
        h.verdict.why,
    )


_ROLES = frozenset(
    int(r)
    for r in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.AccessibleTextRole,
        HEALTH_ROLE,
        SPARK_ROLE,
    )
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
