"""The one place that runs service calls off the UI thread.

``TaskRunner.run(fn, *args, on_done=..., on_error=...)`` runs ``fn`` on a
``QThreadPool`` and delivers its result or its exception to the callbacks on
the UI thread, by queued signals. Cache writes go through a one-thread pool
(``exclusive=True``) so they are serialized, like Anki's collection access.
Every running task is kept referenced until it finishes; ``shutdown`` cancels
what has not started and waits a bounded time for the rest.

A task may report progress: if ``fn`` accepts a ``progress`` keyword, it is
given a callable that forwards ``(done, total, text)`` to ``on_progress`` on the
UI thread.
"""

from __future__ import annotations

import inspect
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Signals(QObject):
    sig_done = Signal(object)
    sig_failed = Signal(object)
    sig_progress = Signal(int, int, str)


@dataclass(eq=False)
class Task:
    """A handle on one background call: its name, and a cancel flag the function may poll."""

    name: str
    cancel_event: threading.Event = field(default_factory=threading.Event)
    running: bool = True
    progress: tuple[int, int, str] = (0, 0, "")

    def cancel(self) -> None:
        self.cancel_event.set()


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                 signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn, self._args, self._kwargs, self._signals = fn, args, kwargs, signals

    def run(self) -> None:
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - delivered to the UI thread, not swallowed
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self._signals.sig_failed.emit(exc)
        else:
            self._signals.sig_done.emit(result)


class _Relay(QObject):
    """Lives on the UI thread: the worker's signals reach these slots queued, so the
    callbacks always run on the UI thread (a plain lambda receiver would not)."""

    def __init__(
        self,
        runner: TaskRunner,
        task: Task,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        on_progress: Callable[[int, int, str], None] | None,
    ) -> None:
        super().__init__()
        self._runner, self._task = runner, task
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress

    @Slot(object)
    def done(self, result: Any) -> None:
        self._runner._finished(self._task)
        if self._on_done is not None:
            self._on_done(result)

    @Slot(object)
    def failed(self, exc: BaseException) -> None:
        self._runner._finished(self._task)
        if self._on_error is not None:
            self._on_error(exc)
        else:
            log.error("task %s failed: %s", self._task.name, getattr(exc, "__traceback_text__", exc))

    @Slot(int, int, str)
    def progressed(self, done: int, total: int, text: str) -> None:
        self._task.progress = (done, total, text)
        if self._on_progress is not None:
            self._on_progress(done, total, text)
        self._runner.sig_tasks_changed.emit()


class TaskRunner(QObject):
    """Runs callables on worker threads; results come back on the UI thread."""

    #: a task started or finished; the status bar lists running tasks
    sig_tasks_changed = Signal()

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)
        self._live: dict[Task, tuple[_Signals, _Relay]] = {}

    @property
    def tasks(self) -> list[Task]:
        return list(self._live)

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        name: str = "",
        exclusive: bool = False,
        **kwargs: Any,
    ) -> Task:
        task = Task(name or getattr(fn, "__name__", "task"))
        signals = _Signals()
        params = _parameters(fn)
        if "progress" in params:
            kwargs["progress"] = lambda done, total, text="": signals.sig_progress.emit(
                int(done), int(total), str(text)
            )
        if "cancel" in params:
            kwargs["cancel"] = task.cancel_event

        relay = _Relay(self, task, on_done, on_error, on_progress)
        signals.sig_done.connect(relay.done)
        signals.sig_failed.connect(relay.failed)
        signals.sig_progress.connect(relay.progressed)
        self._live[task] = (signals, relay)
        (self._writer if exclusive else self._pool).start(_Runnable(fn, args, kwargs, signals))
        self.sig_tasks_changed.emit()
        return task

    def _finished(self, task: Task) -> None:
        task.running = False
        self._live.pop(task, None)
        self.sig_tasks_changed.emit()

    @Slot()
    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel what has not started, ask running tasks to stop, wait at most ``timeout_ms``."""
        for task in self._live:
            task.cancel()
        self._pool.clear()
        self._writer.clear()
        ok = self._pool.waitForDone(timeout_ms)
        return self._writer.waitForDone(timeout_ms) and ok


def _parameters(fn: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()
