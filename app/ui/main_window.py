"""The main window: navigation rail, pages, status bar."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.domain.models import CacheInfo, RegisteredModel
from app.services.context import AppContext
from app.ui import icons, theme
from app.ui.kit.widgets import named, relative_time
from app.ui.pages.catalog.page import CatalogPage
from app.ui.sync import SyncController
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:  # the pages themselves are imported when first shown
    from app.ui.pages.backends.page import BackendsPage
    from app.ui.pages.deployments.page import DeploymentsPage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionSpec:
    """One user action, declared once; menus, shortcuts and the palette are built from these."""

    id: str
    title: str
    shortcut: str | None
    handler: Callable[[], object]


class MainWindow(QMainWindow):
    sig_demo_requested = Signal()

    PAGES = (
        ("catalog", "Catalog", "view-list-outline"),
        ("health", "Health", "heart-pulse"),
        ("deployments", "Deploy", "rocket-launch-outline"),
        ("backends", "Backends", "server-network"),
        ("activity", "Activity", "history"),
    )

    def __init__(self, context: AppContext, tasks: TaskRunner | None = None) -> None:
        super().__init__()
        self.context = context
        self.tokens = theme.current_tokens()
        self.tasks = tasks or TaskRunner(self)
        self.setWindowTitle(f"{APP_NAME} — Demo workspace" if context.demo else APP_NAME)
        self.setWindowIcon(theme.app_icon())
        self.setObjectName("mainWindow")

        central = QWidget()
        outer = QHBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._build_rail())
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        self.banner = self._build_banner()
        right.addWidget(self.banner)
        self.stack = QStackedWidget()
        right.addWidget(self.stack, 1)
        outer.addLayout(right, 1)
        self.setCentralWidget(central)

        self.catalog_page = CatalogPage(
            context.catalog,
            self.tasks,
            self.tokens,
            settings=QSettings(
                str(context.workspace.config_dir / "catalog.ini"), QSettings.Format.IniFormat
            ),
            # run params/metrics on demand for version compare; the sync service (and
            # httpx behind it) is built on the first fetch, not at start-up
            run_fetcher=lambda *a, **k: context.sync.run_data(*a, **k),  # noqa: PLW0108 - stays lazy
            # health dots from the cache's last statuses (the service is built on a worker)
            health_statuses=lambda: context.health.known_statuses(),  # noqa: PLW0108 - stays lazy
            # registry writes and governance for the model page, built on first use
            registry=lambda: context.registry,
            governance=lambda: context.governance,
        )
        self.catalog_page.sig_add_registry_requested.connect(self._add_registry)
        self.catalog_page.sig_demo_requested.connect(self.sig_demo_requested.emit)
        self.catalog_page.sig_deploy_requested.connect(self.open_deploy_dialog)
        self.deploy_dialog: Any = None
        # the status bar's cache figures change with the cache, not with each keystroke
        self._status_total: int | None = None
        self.catalog_page.sig_count_changed.connect(self._on_count_changed)
        self.sync = SyncController(context, self.tasks, self)
        self.sync.sig_message.connect(self._show_sync_message)
        self.sync.sig_finished.connect(self._sync_finished)
        self.sync.sig_running_changed.connect(self._sync_running)
        # Pages other than the catalog are built the first time they are shown, so
        # start-up pays only for what is on screen (docs/performance.md, "Start-up").
        self._factories: dict[str, Callable[[], QWidget]] = {
            "catalog": lambda: self.catalog_page,
            "health": self._build_health,
            "deployments": self._build_deployments,
            "backends": self._build_backends,
            "activity": self._build_activity,
        }
        self._built: dict[str, QWidget] = {}
        #: one holder per page in the stack; the page goes in when first shown
        self.pages: dict[str, QWidget] = {}
        for key in self._factories:
            holder = QWidget()
            QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
            self.pages[key] = holder
            self.stack.addWidget(holder)
        self.page("catalog")

        self._build_status_bar()
        self.palette: Any = None  # CommandPalette, built on first Ctrl+K
        self.actions_table = self._declare_actions()
        for spec in self.actions_table:
            act = QAction(spec.title, self)
            if spec.shortcut:
                act.setShortcut(QKeySequence(spec.shortcut))
            act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            act.triggered.connect(lambda _checked=False, run=spec.handler: run())
            self.addAction(act)

        self.tasks.sig_tasks_changed.connect(self._show_tasks)
        self._settings = QSettings(
            str(context.workspace.config_dir / "window.ini"), QSettings.Format.IniFormat
        )
        self._restore_geometry()
        if context.cache.notice:
            self.show_banner(context.cache.notice)
        self.show_page(str(self._settings.value("page", "catalog")))
        self.catalog_page.refresh()

    # ----------------------------------------------------------------- frame
    def _build_rail(self) -> QWidget:
        rail = named(QWidget(), "rail")
        rail.setFixedWidth(84)
        lay = QVBoxLayout(rail)
        lay.setContentsMargins(0, 14, 0, 12)
        lay.setSpacing(2)
        logo = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        logo.setPixmap(theme.app_icon().pixmap(QSize(34, 34)))
        logo.setToolTip(APP_NAME)
        lay.addWidget(logo)
        lay.addSpacing(14)
        self.rail_group = QButtonGroup(self)
        self.rail_group.setExclusive(True)
        self.rail_buttons: dict[str, QToolButton] = {}
        for n, (key, label, icon) in enumerate(self.PAGES, start=1):
            b = named(QToolButton(), "railButton")
            b.setText(label)
            b.setIcon(icons.icon(icon, color=self.tokens.muted, color_on=self.tokens.accent))
            b.setIconSize(QSize(22, 22))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setCheckable(True)
            b.setFixedSize(72, 56)
            b.setToolTip(f"{label}  (Ctrl+{n})")
            b.setAccessibleName(label)
            b.clicked.connect(lambda _c=False, k=key: self.show_page(k))
            self.rail_group.addButton(b)
            self.rail_buttons[key] = b
            lay.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(1)
        return rail

    def _build_banner(self) -> QWidget:
        """A dismissable notice above the page (e.g. a cache file that was set aside)."""
        wrap = QWidget()
        wl = QVBoxLayout(wrap)
        wl.setContentsMargins(16, 12, 16, 0)
        banner = named(QFrame(), "banner")
        wl.addWidget(banner)
        lay = QHBoxLayout(banner)
        lay.setContentsMargins(12, 8, 8, 8)
        icon = QLabel()
        icon.setPixmap(icons.icon("information-outline", color=self.tokens.accent).pixmap(18))
        lay.addWidget(icon)
        self.banner_text = QLabel(wordWrap=True)
        self.banner_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.banner_text, 1)
        close = QPushButton("Dismiss")
        close.clicked.connect(wrap.hide)
        lay.addWidget(close)
        wrap.hide()
        return wrap

    def show_banner(self, text: str) -> None:
        self.banner_text.setText(text)
        self.banner.show()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.freshness = QLabel("Reading the cache…")
        self.freshness.setAccessibleName("Cache freshness")
        bar.addWidget(self.freshness, 1)
        self.task_label = QLabel()
        self.task_progress = QProgressBar()
        self.task_progress.setFixedWidth(120)
        self.task_progress.setTextVisible(False)
        self.task_label.hide()
        self.task_progress.hide()
        self.sync_message = QLabel()
        self.sync_message.setAccessibleName("Last sync")
        self.sync_message.hide()
        bar.addPermanentWidget(self.sync_message)
        self.offline_badge = named(QLabel(), "offlineBadge")
        self.offline_badge.hide()
        bar.addPermanentWidget(self.offline_badge)
        bar.addPermanentWidget(self.task_label)
        bar.addPermanentWidget(self.task_progress)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop the sync after the current page")
        self.cancel_button.clicked.connect(self.sync.cancel)
        self.cancel_button.hide()
        bar.addPermanentWidget(self.cancel_button)
        if self.context.demo:
            badge = named(QLabel("Demo workspace"), "badge")
            badge.setToolTip("Generated data: no server is contacted")
            bar.addPermanentWidget(badge)

    def _declare_actions(self) -> list[ActionSpec]:
        specs = [
            ActionSpec(f"page.{key}", f"Go to {label}", f"Ctrl+{n}", partial(self.show_page, key))
            for n, (key, label, _icon) in enumerate(self.PAGES, start=1)
        ]
        specs += [
            ActionSpec("catalog.search", "Search the catalog", "Ctrl+F", self._search),
            ActionSpec("view.refresh", "Reload from the cache", "F5", self._reload),
            ActionSpec("sync.now", "Sync registries now", "Ctrl+R", self.sync.sync_now),
            ActionSpec(
                "sync.full",
                "Full sync (also removes models deleted upstream)",
                "Ctrl+Shift+R",
                lambda: self.sync.sync_now(full=True),
            ),
            ActionSpec("palette.open", "Command palette", "Ctrl+K", self.open_palette),
            ActionSpec(
                "catalog.layout",
                "Model page: switch between beside the list and full page",
                None,
                self.catalog_page.toggle_layout,
            ),
            ActionSpec("app.quit", "Quit", "Ctrl+Q", self.close),
        ]
        return specs

    def open_palette(self) -> None:
        from app.ui.palette import CommandPalette, PaletteEntry

        if self.palette is None:
            page = self.catalog_page

            def actions() -> list[PaletteEntry]:
                return [
                    PaletteEntry(s.title, s.shortcut or "", s.handler)
                    for s in self.actions_table
                    if s.id != "palette.open"
                ]

            def models(text: str) -> list[PaletteEntry]:
                index = page._index
                if index is None:
                    return []
                return [
                    PaletteEntry(
                        f"Go to model {index.name[r]}",
                        index.source[r],
                        partial(self.open_model_named, index.source[r], index.name[r]),
                    )
                    for r in page.browse.find_names(index, text, limit=20)
                ]

            self.palette = CommandPalette(actions, models, self)
        self.palette.open()

    def open_model_named(self, source: str, name: str) -> None:
        self.show_page("catalog")
        self.catalog_page.open_model(source, name)

    # ------------------------------------------------------------- behaviour
    def page(self, key: str) -> QWidget:
        """The page widget for ``key``, built on first use."""
        built = self._built.get(key)
        if built is None:
            built = self._factories[key]()
            self._built[key] = built
            layout = self.pages[key].layout()
            assert layout is not None
            layout.addWidget(built)
        return built

    @property
    def deployments_page(self) -> DeploymentsPage:
        from app.ui.pages.deployments.page import DeploymentsPage

        page = self.page("deployments")
        assert isinstance(page, DeploymentsPage)
        return page

    @property
    def backends_page(self) -> BackendsPage:
        from app.ui.pages.backends.page import BackendsPage

        page = self.page("backends")
        assert isinstance(page, BackendsPage)
        return page

    def _build_deployments(self) -> QWidget:
        from app.ui.pages.deployments.page import DeploymentsPage

        page = DeploymentsPage(
            self.context.catalog, self.tasks, self.tokens, deploy=lambda: self.context.deploy
        )
        page.refresh()
        return page

    def _build_activity(self) -> QWidget:
        from app.ui.pages.activity.page import ActivityPage

        page = ActivityPage(self.context.audit, self.tasks, self.tokens)
        page.refresh()
        return page

    def open_deploy_dialog(self, detail: Any) -> Any:
        """The Deploy dialog for a model (``ModelDetail``), newest version first."""
        from app.ui.pages.deployments.deploy_dialog import DeployDialog

        versions = sorted(
            (v.version for v in detail.versions),
            key=lambda v: (not v.isdigit(), -int(v) if v.isdigit() else 0, v),
        )
        self.deploy_dialog = DeployDialog.ask(
            self.context.deploy, self.tasks, self.tokens, detail.model.name, versions, parent=self
        )
        self.deploy_dialog.sig_applied.connect(self._deployed)
        return self.deploy_dialog

    def _deployed(self, _outcome: Any) -> None:
        if "deployments" in self._built:
            self.deployments_page.refresh()
        from app.ui.pages.activity.page import ActivityPage

        activity = self._built.get("activity")
        if isinstance(activity, ActivityPage):
            activity.refresh()

    def _build_health(self) -> QWidget:
        from app.ui.pages.health.page import HealthPage

        page = HealthPage(self.context.health, self.tasks, self.tokens)
        page.controller.sig_report.connect(self.catalog_page.show_fleet_report)
        page.start()  # first poll now, then on the [health] poll_seconds interval
        return page

    def _build_backends(self) -> QWidget:
        from app.ui.pages.backends.page import BackendsPage

        page = BackendsPage(
            self.context.backends,
            self.context.doctor,
            self.tasks,
            self.tokens,
            notify=self.context.notify,
        )
        # a registry added or edited: fetch its catalog right away
        page.sig_backends_changed.connect(self.sync.sync_now)
        return page

    def show_page(self, key: str) -> None:
        if key not in self.pages:
            key = "catalog"
        self.page(key)
        self.stack.setCurrentWidget(self.pages[key])
        self.rail_buttons[key].setChecked(True)
        self._settings.setValue("page", key)

    @property
    def current_page(self) -> str:
        current = self.stack.currentWidget()
        return next(k for k, w in self.pages.items() if w is current)

    def _search(self) -> None:
        self.show_page("catalog")
        self.catalog_page.focus_search()

    def _reload(self) -> None:
        self.catalog_page.refresh()
        if "deployments" in self._built:
            self.deployments_page.refresh()

    def _on_count_changed(self, _shown: int, total: int) -> None:
        if total != self._status_total:
            self._status_total = total
            self.refresh_status()

    def refresh_status(self) -> None:
        self.tasks.run(
            self.context.catalog.info,
            name="cache info",
            on_done=self._show_freshness,
            on_error=self._show_cache_error,
        )

    def _show_freshness(self, info: CacheInfo) -> None:
        parts = [f"{info.models:,} models · {info.versions:,} versions"]
        tips = [f"Cache: {info.path}"]
        for s in info.sources:
            state = f"{s.name} synced {relative_time(s.last_sync_at)}"
            if s.last_error:
                state += " (last sync failed)"
            parts.append(state)
            tips.append(
                f"{s.name}: {s.models:,} models; last sync "
                f"{relative_time(s.last_sync_at)}; {s.last_error or 'no error'}"
            )
        if not info.sources:
            parts.append("no registry synced yet")
        failing = [s for s in info.sources if s.last_error]
        if failing:
            self.offline_badge.setText(
                "Offline: " + ", ".join(s.name for s in failing)
                if all(_looks_unreachable(s.last_error) for s in failing)
                else f"Sync problem: {', '.join(s.name for s in failing)}"
            )
            self.offline_badge.setToolTip(
                "The cached data stays usable.\n"
                + "\n".join(f"{s.name}: {s.last_error}" for s in failing)
            )
        self.offline_badge.setVisible(bool(failing))
        self.freshness.setText("  ·  ".join(parts))
        self.freshness.setToolTip("\n".join(tips))

    def _show_cache_error(self, exc: BaseException) -> None:
        self.freshness.setText(f"Cache unreadable: {exc}")

    def _show_tasks(self) -> None:
        running = self.tasks.tasks
        visible = [t for t in running if t.name not in ("cache info", "catalog search")]
        if not visible:
            self.task_label.hide()
            self.task_progress.hide()
            return
        task = visible[0]
        done, total, text = task.progress
        more = f" (+{len(visible) - 1} more)" if len(visible) > 1 else ""
        self.task_label.setText(f"{text or task.name}{more}")
        self.task_progress.setRange(0, total if total else 0)
        self.task_progress.setValue(done)
        self.task_label.show()
        self.task_progress.show()

    def _add_registry(self) -> None:
        self.show_page("backends")
        self.backends_page.add_backend()

    def _show_sync_message(self, text: str) -> None:
        self.sync_message.setText(text if len(text) < 110 else text[:107] + "…")
        self.sync_message.setToolTip(text)
        self.sync_message.show()

    def _sync_running(self, running: bool) -> None:
        self.cancel_button.setVisible(running)

    def _sync_finished(self, _results: list[object]) -> None:
        self.catalog_page.refresh()
        self.refresh_status()

    def open_model(self, model: RegisteredModel) -> None:
        self.open_model_named(model.source, model.name)

    # ---------------------------------------------------------- persistence
    def _restore_geometry(self) -> None:
        geometry = self._settings.value("geometry")
        if geometry is not None and self.restoreGeometry(geometry):
            return
        self.resize(1440, 900)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._settings.setValue("geometry", self.saveGeometry())
        self._settings.sync()
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.sync.stop()
        health = self._built.get("health")
        if health is not None and hasattr(health, "stop"):
            health.stop()
        self.tasks.shutdown()


def _looks_unreachable(error: str | None) -> bool:
    text = (error or "").lower()
    return any(w in text for w in ("refused", "timed out", "resolve", "cannot connect", "tls"))
