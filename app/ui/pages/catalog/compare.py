"""Version compare: versions as columns, fields as rows, differing rows tinted, and a
small chart of one numeric field across the versions.

Run params and metrics come from the cache when a sync fetched them; otherwise
the view says "not fetched yet" and offers to fetch them in the background
(the sync service's run-data call). pyqtgraph is imported only when a compare
view is first shown, after its table is on screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ModeldeckError
from app.domain.models import ModelVersion
from app.services.browse import BrowseService
from app.ui.kit.table_model import Index, TableModel
from app.ui.kit.widgets import exact_time, named
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

DIFF_ROLE = Qt.ItemDataRole.UserRole + 1
NOT_FETCHED = "not fetched yet"


def compare_fields(
    versions: Sequence[ModelVersion],
    runs: dict[str, tuple[dict[str, str], dict[str, float]]],
) -> list[tuple[str, list[str]]]:
    """``(field, value per version)`` rows: fixed fields, then tags, params, metrics."""
    rows: list[tuple[str, list[str]]] = [
        ("Status", [str(v.status) for v in versions]),
        ("Stage", [v.stage or "—" for v in versions]),
        ("Aliases", [", ".join(v.aliases) or "—" for v in versions]),
        ("Created", [exact_time(v.created_at) for v in versions]),
        ("Flavor", [v.flavor or "—" for v in versions]),
        ("Source", [v.source_uri or "—" for v in versions]),
        ("Run", [v.run_id or "—" for v in versions]),
        ("Description", [v.description or "—" for v in versions]),
    ]
    for key in sorted({k for v in versions for k in v.tags}):
        rows.append((f"tag · {key}", [v.tags.get(key, "—") for v in versions]))
    have = [runs.get(v.run_id or "") for v in versions]
    if any(h is None for h in have) and any(v.run_id for v in versions):
        rows.append(("Run data", ["fetched" if h is not None else NOT_FETCHED for h in have]))
    for key in sorted({k for h in have if h for k in h[0]}):
        rows.append((f"param · {key}", [h[0].get(key, "—") if h else NOT_FETCHED for h in have]))
    for key in sorted({k for h in have if h for k in h[1]}):
        rows.append((f"metric · {key}", [_num(h[1].get(key)) if h else NOT_FETCHED for h in have]))
    return rows


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    return f"{value:.6g}"


class CompareModel(TableModel):
    """Fields as rows (the vertical header names them), versions as columns."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens
        self._versions: list[ModelVersion] = []
        self._rows: list[tuple[str, list[str]]] = []
        self._diff: list[bool] = []

    def set_rows(self, versions: Sequence[ModelVersion], rows: list[tuple[str, list[str]]]) -> None:
        self.beginResetModel()
        self._versions = list(versions)
        self._rows = rows
        self._diff = [len(set(values)) > 1 for _f, values in rows]
        self.headers = tuple(
            f"v{v.version}" + (f"  ({', '.join(v.aliases)})" if v.aliases else "")
            for v in self._versions
        )
        self.endResetModel()

    def field_names(self) -> list[str]:
        return [f for f, _v in self._rows]

    def differs(self, field: str) -> bool:
        return self._diff[self.field_names().index(field)]

    def row_count(self) -> int:
        return len(self._rows)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            return super().headerData(section, orientation, role)
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._rows):
            return self._rows[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        field, values = self._rows[index.row()]
        value = values[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return value
        if role == DIFF_ROLE:
            return self._diff[index.row()]
        if role == Qt.ItemDataRole.ForegroundRole and value in (NOT_FETCHED, "—"):
            return QColor(self.tokens.muted)
        if role == Qt.ItemDataRole.FontRole and field in ("Source", "Run"):
            from PySide6.QtGui import QFontDatabase

            return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        return None

    def numeric_fields(self) -> list[str]:
        """Tags and metrics whose every known value is a number (git SHAs are not)."""
        out = []
        for field, values in self._rows:
            known = [v for v in values if v not in ("—", NOT_FETCHED)]
            if (
                field.startswith(("tag · ", "metric · "))
                and known
                and all(_float(v) is not None and "." in v for v in known)
            ):
                out.append(field)
        return out

    def series(self, field: str) -> tuple[list[float], list[float]]:
        values = self._rows[self.field_names().index(field)][1]
        xs, ys = [], []
        for v, raw in zip(self._versions, values, strict=True):
            y = _float(raw)
            if y is not None:
                xs.append(float(v.number))
                ys.append(y)
        return xs, ys


def _float(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class DiffDelegate(QStyledItemDelegate):
    """Tints the cells of fields whose values differ between the versions."""

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tint = QColor(tokens.accent)
        self.tint.setAlpha(34 if not tokens.dark else 60)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if index.data(DIFF_ROLE):
            painter.fillRect(option.rect.adjusted(0, 1, 0, -1), self.tint)
        super().paint(painter, option, index)


class CompareView(QWidget):
    sig_back_requested = Signal()
    #: the chart (pyqtgraph) is built and shows the chosen field
    sig_chart_ready = Signal()

    def __init__(
        self,
        browse: BrowseService,
        tasks: TaskRunner,
        tokens: Tokens,
        parent: QWidget | None = None,
        *,
        run_fetcher: Callable[[str, str], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self._browse, self._tasks, self.tokens = browse, tasks, tokens
        self._run_fetcher = run_fetcher
        self._versions: list[ModelVersion] = []
        self._runs: dict[str, tuple[dict[str, str], dict[str, float]]] = {}
        self.plot: Any = None
        self._curve: Any = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 8, 0, 0)
        lay.setSpacing(8)
        bar = QHBoxLayout()
        back = QPushButton("← Versions")
        back.setToolTip("Back to the versions (Esc)")
        back.clicked.connect(self.sig_back_requested.emit)
        bar.addWidget(back)
        self.title = named(QLabel(""), "sectionTitle")
        bar.addWidget(self.title, 1)
        bar.addWidget(named(QLabel("Chart"), "muted"))
        self.metric_box = QComboBox()
        self.metric_box.setAccessibleName("Field to chart")
        self.metric_box.setMinimumWidth(180)
        self.metric_box.currentTextChanged.connect(self._draw)
        bar.addWidget(self.metric_box)
        self.fetch = QPushButton("Fetch run data")
        self.fetch.setToolTip("Ask the registry for the params and metrics of these runs")
        self.fetch.clicked.connect(self.fetch_runs)
        bar.addWidget(self.fetch)
        lay.addLayout(bar)
        self.chart_host = QVBoxLayout()
        self.chart_host.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self.chart_host)
        self.status = named(QLabel(""), "muted")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

        self.model = CompareModel(tokens, self)
        self.table = QTableView()
        self.table.setAccessibleName("Compared versions")
        self.table.setModel(self.model)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.table.verticalHeader().setMinimumWidth(150)
        self.table.horizontalHeader().setDefaultSectionSize(170)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.verticalHeader().setHighlightSections(False)
        self.table.setItemDelegate(DiffDelegate(tokens, self.table))
        lay.addWidget(self.table, 1)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_versions(self, versions: list[ModelVersion]) -> None:
        self._versions = sorted(versions, key=lambda v: (v.number, v.version))
        source = self._versions[0].source if self._versions else ""
        run_ids = [v.run_id for v in self._versions if v.run_id]
        cached = self._browse.cached_runs(source, run_ids)  # the cache only, no network
        self._runs = {rid: (dict(r.params), dict(r.metrics)) for rid, r in cached.items()}
        name = self._versions[0].model_name if self._versions else ""
        self.title.setText(f"{name}: {len(self._versions)} versions")
        self._rebuild()
        QTimer.singleShot(0, self._ensure_chart)

    def _rebuild(self) -> None:
        self.model.set_rows(self._versions, compare_fields(self._versions, self._runs))
        missing = [v for v in self._versions if v.run_id and v.run_id not in self._runs]
        self.fetch.setVisible(bool(missing))
        self.fetch.setEnabled(self._run_fetcher is not None)
        if missing and self._run_fetcher is None:
            self.fetch.setToolTip("No registry connection is configured in this workspace")
        current = self.metric_box.currentText()
        fields = self.model.numeric_fields()
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        self.metric_box.addItems(fields)
        preferred = next((f for f in fields if f.startswith("metric · ")), None) or next(
            (f for f in fields if "score" in f), None
        )
        pick = current if current in fields else (preferred or (fields[0] if fields else ""))
        if pick:
            self.metric_box.setCurrentText(pick)
        self.metric_box.blockSignals(False)
        self.status.setText(
            f"{len(missing)} of {len(self._versions)} runs: params and metrics not fetched yet"
            if missing
            else ""
        )
        self.status.setVisible(bool(missing))
        self._draw()

    def _ensure_chart(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg  # lazily: ≈0.5 s to import, never at start-up

        t = self.tokens
        plot = pg.PlotWidget(background=t.surface)
        plot.setFixedHeight(150)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(x=False, y=True, alpha=0.15)
        for axis in ("left", "bottom"):
            ax = plot.getAxis(axis)
            ax.setPen(pg.mkPen(t.border))
            ax.setTextPen(pg.mkPen(t.muted))
            ax.setStyle(tickFont=QFont(self.font().family(), 8))
        plot.getAxis("bottom").setLabel("version", color=t.muted)
        self._curve = plot.plot(
            [],
            [],
            pen=pg.mkPen(t.accent, width=2),
            symbol="o",
            symbolSize=7,
            symbolBrush=t.accent,
            symbolPen=pg.mkPen(t.surface, width=1.5),
        )
        self.plot = plot
        self.chart_host.addWidget(plot)
        self._draw()
        self.sig_chart_ready.emit()

    def _draw(self, *_args: object) -> None:
        if self._curve is None:
            return
        field = self.metric_box.currentText()
        xs, ys = self.model.series(field) if field else ([], [])
        self._curve.setData(xs, ys)
        if xs:
            self.plot.getAxis("bottom").setTicks([[(x, f"v{int(x)}") for x in xs]])
        self.plot.setTitle(field, color=self.tokens.muted, size="9pt")

    def fetch_runs(self) -> None:
        fetcher = self._run_fetcher
        if fetcher is None:
            return
        source = self._versions[0].source
        missing = [v.run_id for v in self._versions if v.run_id and v.run_id not in self._runs]
        self.fetch.setEnabled(False)
        self.status.setText(f"Fetching {len(missing)} runs from {source}…")

        def work() -> tuple[dict[str, tuple[dict[str, str], dict[str, float]]], list[str]]:
            got: dict[str, tuple[dict[str, str], dict[str, float]]] = {}
            errors: list[str] = []
            for run_id in missing:
                try:
                    run = fetcher(source, run_id)
                except ModeldeckError as exc:  # a bug goes to the crash path, not the list
                    errors.append(f"{run_id[:8]}: {exc}")
                else:
                    got[run_id] = (dict(run.params), dict(run.metrics))
            return got, errors

        def done(
            result: tuple[dict[str, tuple[dict[str, str], dict[str, float]]], list[str]],
        ) -> None:
            got, errors = result
            self._runs.update(got)
            self._rebuild()
            self.fetch.setEnabled(True)
            if errors:
                self.status.setText(
                    f"Could not fetch {len(errors)} runs from {source} — "
                    f"{errors[0]}. The cached catalog is unchanged; try again when it is reachable."
                )
                self.status.show()

        self._tasks.run(work, name=f"fetch runs from {source}", on_done=done)
