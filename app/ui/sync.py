"""Background registry syncs for the GUI: on start, on an interval, and on demand.

All the work happens in ``SyncService.sync`` on a worker thread (``TaskRunner``);
this controller only schedules it, forwards progress, and turns results into
status-bar text. A dead or slow registry never blocks the window: the sync's
requests have timeouts, and the user can cancel between pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from threading import Event
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.domain.catalog import SyncProgress, SyncResult
from app.services.context import AppContext
from app.ui.tasks import Task, TaskRunner

if TYPE_CHECKING:  # pydantic and tomlkit load with the settings, not at start-up
    from app.services.settings import SyncSettings

log = logging.getLogger(__name__)


def describe_result(r: SyncResult) -> str:
    """One line for the status bar about one registry's sync."""
    if r.cancelled:
        return f"{r.source}: sync cancelled"
    if not r.ok:
        return f"{r.source}: sync failed — {r.error}"
    changes = []
    for label, n in (
        ("added", r.models_added),
        ("updated", r.models_updated),
        ("removed", r.models_removed),
    ):
        if n:
            changes.append(f"{n:,} {label}")
    what = ", ".join(changes) if changes else "no changes"
    return f"{r.source}: {what} ({r.mode}, {r.duration_s:.1f} s)"


class SyncController(QObject):
    """Schedules syncs and reports them; one sync at a time."""

    #: a sync started (True) or ended (False)
    sig_running_changed = Signal(bool)
    #: a sync finished: the results, one per registry
    sig_finished = Signal(list)
    #: a line for the status bar
    sig_message = Signal(str)

    def __init__(
        self, context: AppContext, tasks: TaskRunner, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = context
        self._tasks = tasks
        self._task: Task | None = None
        self.settings: SyncSettings | None = None
        self.last_results: list[SyncResult] = []
        self._timer = QTimer(self)
        self._timer.timeout.connect(lambda: self.sync_now(quick=True))

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Read the [sync] settings off the UI thread, then sync on start if asked."""
        if self._ctx.demo:
            return  # the demo workspace never contacts a server
        self._tasks.run(
            self._ctx.settings.sync_settings, name="sync settings", on_done=self._apply_settings
        )

    def _apply_settings(self, settings: SyncSettings) -> None:
        self.settings = settings
        if settings.interval_minutes:
            self._timer.start(settings.interval_minutes * 60_000)
        else:
            self._timer.stop()
        if settings.on_start:
            self.sync_now()

    def sync_now(self, *, full: bool = False, quick: bool = False) -> bool:
        """Start a sync of every configured registry; False if one is already running."""
        if self._task is not None:
            self.sig_message.emit("A sync is already running")
            return False
        sync = self._ctx.sync

        def work(progress: Callable[[int, int, str], None], cancel: Event) -> list[SyncResult]:
            def report(p: SyncProgress) -> None:
                what = (
                    "removing deleted models"
                    if p.phase == "removing"
                    else (f"{p.models:,} models, {p.versions:,} versions")
                )
                progress(0, 0, f"Syncing {p.source}: {what}")

            if not sync.registries():
                return []
            return sync.sync(full=full, quick=quick, progress=report, cancel=cancel)

        self._task = self._tasks.run(
            work, name="Syncing registries", on_done=self._done, on_error=self._failed
        )
        self.sig_running_changed.emit(True)
        return True

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.sig_message.emit("Cancelling the sync after the current page…")

    def _done(self, results: list[SyncResult]) -> None:
        self._task = None
        self.last_results = results
        self.sig_running_changed.emit(False)
        if results:
            self.sig_message.emit(" · ".join(describe_result(r) for r in results))
        self.sig_finished.emit(results)

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        log.error("sync failed: %s", getattr(exc, "__traceback_text__", exc))
        self.sig_running_changed.emit(False)
        self.sig_message.emit(f"Sync failed: {exc}")
        self.sig_finished.emit([])

    def stop(self) -> None:
        self._timer.stop()
        self.cancel()
