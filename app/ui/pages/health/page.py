"""Health page: the fleet, worst first, and one deployment's charts (``model_view``).

The fleet table is one ``QAbstractTableModel`` over ``DeploymentHealth`` rows;
sparklines are painted by a ``QStyledItemDelegate`` from ``QPainterPath``s built
(and decimated) once per poll, in unit coordinates, so a repaint only scales them.
pyqtgraph is imported only when a deployment's charts are first opened.

``HealthController`` polls on an interval through the ``TaskRunner`` (a tick is
skipped while the last poll still runs) and raises a desktop notification when
a deployment's status gets worse.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QPainter,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ModeldeckError
from app.domain.health import (
    WINDOWS,
    FleetReport,
    HealthStatus,
    format_duration,
)
from app.ui import icons
from app.ui.kit.segmented import segmented
from app.ui.kit.status import STATUS_LABEL, STATUS_ORDER, status_color
from app.ui.kit.styles import page_qss
from app.ui.kit.widgets import EmptyState, PageHeader, counted, named
from app.ui.pages.health.controller import HealthController
from app.ui.pages.health.delegates import FleetNameDelegate, HealthPillDelegate, SparklineDelegate
from app.ui.pages.health.fleet_model import ERR_COL, NAME_COL, P95_COL, STATUS_COL, FleetModel
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens, current_tokens

log = logging.getLogger(__name__)


class HealthPage(QWidget):
    """The fleet table, and a deployment's charts opened from it (same page, Esc to return)."""

    sig_open_requested = Signal(str, str)  # target, app

    def __init__(
        self,
        service: Any,
        tasks: TaskRunner,
        tokens: Tokens | None = None,
        parent: QWidget | None = None,
        *,
        poll_seconds: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.service = service
        self.tasks = tasks
        self.tokens = tokens or current_tokens()
        self.setStyleSheet(page_qss(self.tokens))
        self.report: FleetReport | None = None
        self.detail: Any = None  # ModelHealthView, built on first open

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack)

        fleet = QWidget()
        lay = QVBoxLayout(fleet)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = PageHeader("Health", "Waiting for the first poll…")
        self.header.subtitle.setMinimumWidth(760)
        win_box, self.window_group = segmented(list(WINDOWS))
        self.window_group.button(0).setChecked(True)
        self.window_group.idClicked.connect(self._window_changed)
        self.header.action_bar.addWidget(win_box)
        self.refresh_button = QPushButton(icons.icon("refresh", color=self.tokens.text), "")
        self.refresh_button.setToolTip("Poll the metrics sources now (F5)")
        self.refresh_button.setAccessibleName("Refresh health")
        self.refresh_button.clicked.connect(self.refresh)
        self.header.action_bar.addWidget(self.refresh_button)
        lay.addWidget(self.header)

        bar = self._filter_bar = QHBoxLayout()
        bar.setContentsMargins(24, 0, 24, 12)
        bar.setSpacing(8)
        self.chip_group = QButtonGroup(self)
        self.chip_group.setExclusive(True)
        self.chips: dict[str, QPushButton] = {}
        for key in ("all", *[s.value for s in STATUS_ORDER]):  # texts set by _set_chip
            chip = named(QPushButton(key.capitalize()), "chip")
            chip.setCheckable(True)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            if key != "all":
                chip.setIcon(_dot_icon(status_color(self.tokens, HealthStatus(key))))
                chip.setIconSize(QSize(8, 8))
            chip.setAccessibleName(f"Show {key}")
            self.chip_group.addButton(chip)
            self.chips[key] = chip
            chip.clicked.connect(self._apply_filter)
            bar.addWidget(chip)
            self._set_chip(key, "All" if key == "all" else STATUS_LABEL[HealthStatus(key)])
        self.chips["all"].setChecked(True)
        bar.addSpacing(8)
        self.target_box = QComboBox()
        self.target_box.setAccessibleName("Target")
        self.target_box.addItem("All targets", "")
        self.target_box.currentIndexChanged.connect(self._apply_filter)
        bar.addWidget(self.target_box)
        bar.addStretch(1)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search app, model, target or reason…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search deployments")
        self.search.setFixedWidth(320)
        self.search.addAction(
            icons.icon("magnify", color=self.tokens.muted),
            QLineEdit.ActionPosition.LeadingPosition,
        )
        self.search.textChanged.connect(self._apply_filter)
        bar.addWidget(self.search)
        lay.addLayout(bar)

        self.offline = named(QFrame(), "offline")
        ol = QHBoxLayout(self.offline)
        ol.setContentsMargins(12, 8, 12, 8)
        icon = QLabel()
        icon.setPixmap(icons.icon("cloud-off-outline", color=self.tokens.degraded).pixmap(18))
        ol.addWidget(icon)
        self.offline_text = named(QLabel(), "offlineText")
        self.offline_text.setWordWrap(True)
        ol.addWidget(self.offline_text, 1)
        wrap = QHBoxLayout()
        wrap.setContentsMargins(24, 0, 24, 12)
        wrap.addWidget(self.offline)
        lay.addLayout(wrap)
        self.offline.hide()

        self.model = FleetModel(self.tokens, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Deployment health")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setMouseTracking(True)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.table.verticalHeader()
        vh.hide()
        vh.setDefaultSectionSize(40)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh = self.table.horizontalHeader()
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setStretchLastSection(True)
        hh.setHighlightSections(False)
        for col, width in enumerate((128, 250, 110, 190, 190, 96, 86)):
            self.table.setColumnWidth(col, width)
        self.table.setItemDelegateForColumn(STATUS_COL, HealthPillDelegate(self.tokens, self.table))
        self.table.setItemDelegateForColumn(NAME_COL, FleetNameDelegate(self.tokens, self.table))
        spark = SparklineDelegate(self.tokens, self.table)
        self.table.setItemDelegateForColumn(P95_COL, spark)
        self.table.setItemDelegateForColumn(ERR_COL, spark)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)

        self.body = QStackedWidget()
        tbl = QWidget()
        tl = QVBoxLayout(tbl)
        tl.setContentsMargins(24, 0, 24, 16)
        tl.addWidget(self.table)
        self.body.addWidget(tbl)
        self.empty = EmptyState(
            "heart-pulse",
            "No deployments to watch yet",
            "Deploy a model to a Ray Serve cluster (or sync one that already runs), add the "
            "Prometheus that scrapes it in Backends, and every deployment shows up here, "
            "worst first.",
        )
        self.body.addWidget(self.empty)
        self.no_match = EmptyState(
            "filter-remove-outline",
            "Nothing matches",
            "No deployment matches the status, target and search filters. Clear them to "
            "see the whole fleet.",
            [("Clear filters", self.clear_filters, True)],
        )
        self.body.addWidget(self.no_match)
        lay.addWidget(self.body, 1)
        self.stack.addWidget(fleet)
        self.fleet_widget = fleet

        self.controller = HealthController(
            service.fleet, service.known_statuses, tasks, self, interval_s=0
        )
        self.controller.sig_report.connect(self.show_report)
        self.controller.sig_failed.connect(self._poll_failed)
        self.controller.sig_running_changed.connect(self._running)
        if poll_seconds is None:
            try:
                poll_seconds = int(service.settings().poll_seconds)
            except ModeldeckError as exc:  # a broken [health] table must not stop the page
                log.warning("health settings: %s", exc)
                poll_seconds = 60
        self.poll_seconds = poll_seconds
        self._updated_at: float | None = None
        self._age_timer = QTimer(self)
        self._age_timer.timeout.connect(self._update_subtitle)
        self._age_timer.start(10_000)

    # ------------------------------------------------------------- polling
    def start(self) -> None:
        """First poll now, then every ``poll_seconds`` (0: only on demand)."""
        self.controller.set_interval(self.poll_seconds)
        self.refresh()

    def stop(self) -> None:
        self.controller.stop()
        self._age_timer.stop()

    def refresh(self) -> None:
        self.controller.poll_now()

    def _window_changed(self, idx: int) -> None:
        self.controller.window = list(WINDOWS)[idx]
        self.refresh()

    def _running(self, running: bool) -> None:
        self.refresh_button.setEnabled(not running)
        self._update_subtitle()

    def _poll_failed(self, message: str) -> None:
        self.offline_text.setText(f"Health poll failed: {message}")
        self.offline.show()

    # ------------------------------------------------------------- showing
    def show_report(self, report: FleetReport) -> None:
        self.report = report
        self._updated_at = time.time()
        self.model.set_report(report.deployments)
        targets = sorted({h.deployment.target for h in report.deployments})
        current = self.target_box.currentData()
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItem("All targets", "")
        for t in targets:
            self.target_box.addItem(t, t)
        i = self.target_box.findData(current)
        self.target_box.setCurrentIndex(max(0, i))
        self.target_box.blockSignals(False)
        counts = report.counts()
        self._set_chip("all", f"All  {len(report.deployments)}")
        for s in STATUS_ORDER:
            self._set_chip(s.value, f"{STATUS_LABEL[s]}  {counts[s]}")
        self._filter_bar.activate()  # place the resized chips now, not on the next event
        if report.errors:
            stale = [h for h in report.deployments if h.stale and h.signals]
            oldest = min((h.fetched_at for h in stale), default=None)
            cached = (
                f" Showing the windows cached {format_duration(report.at - oldest)} ago, "
                "marked stale; statuses are unknown until it answers."
                if oldest is not None
                else " Nothing is cached for this window yet; statuses are unknown."
            )
            self.offline_text.setText(
                "  ".join(f"{name}: {why}." for name, why in report.errors.items()) + cached
            )
            self.offline.show()
        else:
            self.offline.hide()
        self._apply_filter()
        self._update_subtitle()
        if self.detail is not None and self.stack.currentWidget() is self.detail:
            pass  # the open chart refreshes itself

    def _set_chip(self, key: str, text: str) -> None:
        chip = self.chips[key]
        chip.setText(text)
        bold = QFont(chip.font())
        bold.setWeight(QFont.Weight.DemiBold)
        icon = 20 if key != "all" else 0
        chip.setFixedWidth(QFontMetrics(bold).horizontalAdvance(text) + 34 + icon)

    def _update_subtitle(self) -> None:
        report = self.report
        if report is None:
            self.header.subtitle.setText(
                "Polling the metrics sources…" if self.controller.running else "Not polled yet"
            )
            return
        counts = report.counts()
        n = len(report.deployments)
        parts = [counted(n, "deployment")]
        parts += [f"{counts[s]} {s.value}" for s in STATUS_ORDER if counts[s]]
        age = "just now"
        if self._updated_at is not None:
            seconds = time.time() - self._updated_at
            age = "just now" if seconds < 15 else f"{format_duration(seconds)} ago"
        parts.append("polling…" if self.controller.running else f"updated {age}")
        self.header.subtitle.setText("  ·  ".join(parts))

    def _apply_filter(self) -> None:
        checked = next((k for k, b in self.chips.items() if b.isChecked()), "all")
        statuses = set() if checked == "all" else {HealthStatus(checked)}
        self.model.set_filter(
            statuses=statuses, target=self.target_box.currentData() or "", text=self.search.text()
        )
        if not self.model.all_rows:
            self.body.setCurrentWidget(self.empty)
        elif self.model.rowCount() == 0:
            self.body.setCurrentWidget(self.no_match)
        else:
            self.body.setCurrentIndex(0)

    def clear_filters(self) -> None:
        self.chips["all"].setChecked(True)
        self.target_box.setCurrentIndex(0)
        self.search.clear()
        self._apply_filter()

    # ------------------------------------------------------------- detail
    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            h = self.model.health_at(index.row())
            self.open_deployment(h.deployment.target, h.deployment.app)

    def open_deployment(self, target: str, app: str, window: str | None = None) -> Any:
        from app.ui.pages.health.model_view import ModelHealthView  # pyqtgraph loads here

        if self.detail is None:
            self.detail = ModelHealthView(self.service, self.tasks, self.tokens)
            self.detail.sig_back_requested.connect(self.show_fleet)
            self.stack.addWidget(self.detail)
        self.stack.setCurrentWidget(self.detail)
        self.detail.load(target, app, window or self.controller.window)
        self.sig_open_requested.emit(target, app)
        return self.detail

    def show_fleet(self) -> None:
        self.stack.setCurrentWidget(self.fleet_widget)
        self.table.setFocus()


def _dot_icon(color: QColor) -> QIcon:
    pm = QPixmap(16, 16)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    p.drawEllipse(2, 2, 12, 12)
    p.end()
    return QIcon(pm)
