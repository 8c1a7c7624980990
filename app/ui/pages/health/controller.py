"""Background polls of the fleet through the ``TaskRunner`` (a tick is skipped while
the last poll still runs), and a desktop notification when a status gets worse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import (
    QObject,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QSystemTrayIcon,
)

from app.domain.health import (
    FleetReport,
    HealthStatus,
    StatusChange,
    changes,
)
from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class HealthController(QObject):
    """Background polls of the fleet; alerts when a status gets worse."""

    sig_report = Signal(object)  # FleetReport
    sig_failed = Signal(str)
    sig_running_changed = Signal(bool)
    sig_worsened = Signal(list)  # list[StatusChange]

    def __init__(
        self,
        poll: Callable[..., FleetReport],
        known: Callable[[], dict[tuple[str, str], HealthStatus]],
        tasks: TaskRunner,
        parent: QObject | None = None,
        *,
        interval_s: int = 60,
    ) -> None:
        super().__init__(parent)
        self._poll, self._known, self._tasks = poll, known, tasks
        self.window = "1h"
        self.running = False
        self.skipped = 0
        self._before: dict[tuple[str, str], HealthStatus] | None = None
        self.last: FleetReport | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll_now)
        self.set_interval(interval_s)
        self.tray: QSystemTrayIcon | None = None

    def set_interval(self, seconds: int) -> None:
        self.timer.stop()
        if seconds > 0:
            self.timer.start(seconds * 1000)

    def stop(self) -> None:
        self.timer.stop()

    def poll_now(self) -> bool:
        """Start a poll unless one is running (then the tick is skipped). True if started."""
        if self.running:
            self.skipped += 1
            log.info("health: poll skipped, the last one still runs")
            return False
        self.running = True
        self.sig_running_changed.emit(True)
        known, poll, before = self._known, self._poll, self._before
        window = self.window

        def work() -> tuple[dict[tuple[str, str], HealthStatus], FleetReport]:
            prior = before if before is not None else known()
            return prior, poll(window=window)

        self._tasks.run(work, name="health poll", on_done=self._done, on_error=self._failed)
        return True

    def _done(self, result: tuple[dict[tuple[str, str], HealthStatus], FleetReport]) -> None:
        prior, report = result
        self.running = False
        self.sig_running_changed.emit(False)
        self.last = report
        worse = [c for c in changes(prior, report) if c.worse]
        self._before = {h.key: h.status for h in report.deployments}
        self.sig_report.emit(report)
        if worse:
            self.sig_worsened.emit(worse)
            self.notify(worse)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.sig_running_changed.emit(False)
        self.sig_failed.emit(str(exc))

    def notify(self, worse: Sequence[StatusChange]) -> bool:
        """A desktop notification; False when the platform has no system tray."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            log.info("health: no system tray; %d status change(s) not notified", len(worse))
            return False
        if self.tray is None:
            from app.ui.theme import app_icon

            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.show()
        first = worse[0]
        title = f"{first.app} is {first.after.value}" + (
            f" (+{len(worse) - 1} more)" if len(worse) > 1 else ""
        )
        icon = (
            QSystemTrayIcon.MessageIcon.Critical
            if first.after is HealthStatus.FAILING
            else QSystemTrayIcon.MessageIcon.Warning
        )
        self.tray.showMessage(title, first.why, icon, 10_000)
        return True
