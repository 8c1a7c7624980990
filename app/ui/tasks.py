"""The one place that runs service calls off the UI thread.

``TaskRunner.run(fn, *args, on_done=..., on_error=...)`` runs ``fn`` on a
``QThreadPool`` and delivers its result or its exception to the callbacks on
the UI thread, by queued signals. Cache writes go through a one-thread pool
(``exclusive=True``) so they are serialized, like Anki's collection access.
``shutdown`` cancels what has not started and waits a bounded time for the rest.

Errors: an expected failure (``ModeldeckError``) reaches ``on_error`` as it is.
Anything else is a bug: it is logged with its traceback, announced on
``sig_crashed`` (the app's crash dialog listens), and ``on_error`` receives an
``InternalError`` naming the task, so a page shows one readable line and resets.

If ``fn`` accepts a ``progress`` keyword it is given a callable
``progress(done, total, text="")`` that reaches ``on_progress`` on the UI
thread; if it accepts ``cancel`` it is given a ``threading.Event`` that
``Task.cancel()`` sets.

Lifetimes: the only QObject per task is its signals object, created, used and
destroyed on the worker thread; results arrive at slots of the long-lived
runner, which looks the callbacks up by task id. No per-task QObject is ever
freed on one thread while another emits through it.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from app.domain.errors import InternalError, ModeldeckError

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Task:
    """A handle on one background call: its name, progress, and a cancel flag."""

    id: int
    name: str
    cancel_event: threading.Event = field(default_factory=threading.Event)
    running: bool = True
    progress: tuple[int, int, str] = (0, 0, "")

    def cancel(self) -> None:
        self.cancel_event.set()


@dataclass
class _Callbacks:
    task: Task
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    on_progress: Callable[[int, int, str], None] | None


class _Signals(QObject):
    sig_done = Signal(int, object)
    sig_failed = Signal(int, object)
    sig_progress = Signal(int, int, int, str)


class _Runnable(QRunnable):
    def __init__(
        self,
        runner: TaskRunner,
        task_id: int,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._runner, self._id = runner, task_id
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._signals: _Signals | None = None

    def report(self, done: int, total: int, text: str = "") -> None:
        signals = self._signals
        if signals is not None:
            signals.sig_progress.emit(self._id, int(done), int(total), str(text))

    def run(self) -> None:
        signals = _Signals()
        try:
            signals.sig_done.connect(self._runner._on_done)
            signals.sig_failed.connect(self._runner._on_failed)
            signals.sig_progress.connect(self._runner._on_progress)
        except RuntimeError:  # the runner is gone (window closed): nobody to tell
            return
        self._signals = signals
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - delivered to on_error / the crash path
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            signals.sig_failed.emit(self._id, exc)
        else:
            signals.sig_done.emit(self._id, result)
        finally:
            self._signals = None


class TaskRunner(QObject):
    """Runs callables on worker threads; results come back on the UI thread."""

    #: a task started, progressed or finished; the status bar lists running tasks
    sig_tasks_changed = Signal()
    #: a task raised something that is not a ModeldeckError (a bug): task name, exception
    sig_crashed = Signal(str, object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)
        self._live: dict[int, _Callbacks] = {}
        self._ids = itertools.count(1)

    @property
    def tasks(self) -> list[Task]:
        return [c.task for c in self._live.values()]

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
        task = Task(next(self._ids), name or getattr(fn, "__name__", "task"))
        runnable = _Runnable(self, task.id, fn, args, kwargs)
        params = _parameters(fn)
        if "progress" in params:
            kwargs["progress"] = runnable.report
        if "cancel" in params:
            kwargs["cancel"] = task.cancel_event
        self._live[task.id] = _Callbacks(task, on_done, on_error, on_progress)
        (self._writer if exclusive else self._pool).start(runnable)
        self.sig_tasks_changed.emit()
        return task

    def _finish(self, task_id: int) -> _Callbacks | None:
        cb = self._live.pop(task_id, None)
        if cb is not None:
            cb.task.running = False
            self.sig_tasks_changed.emit()
        return cb

    @Slot(int, object)
    def _on_done(self, task_id: int, result: Any) -> None:
        cb = self._finish(task_id)
        if cb is not None and cb.on_done is not None:
            cb.on_done(result)

    @Slot(int, object)
    def _on_failed(self, task_id: int, exc: BaseException) -> None:
        cb = self._finish(task_id)
        if cb is None:
            return
        name = cb.task.name
        if isinstance(exc, ModeldeckError):
            if cb.on_error is not None:
                cb.on_error(exc)
            else:
                log.warning("task %s failed: %s", name, exc)
            return
        log.error(
            "task %s crashed: %s: %s\n%s",
            name,
            type(exc).__name__,
            exc,
            getattr(exc, "__traceback_text__", ""),
        )
        self.sig_crashed.emit(name, exc)
        if cb.on_error is not None:
            shown = InternalError(
                f"{name} failed unexpectedly ({type(exc).__name__}: {exc}); "
                "this is a bug — the details are in the crash report and the log"
            )
            shown.__cause__ = exc
            cb.on_error(shown)

    @Slot(int, int, int, str)
    def _on_progress(self, task_id: int, done: int, total: int, text: str) -> None:
        cb = self._live.get(task_id)
        if cb is None:
            return
        cb.task.progress = (done, total, text)
        if cb.on_progress is not None:
            cb.on_progress(done, total, text)
        self.sig_tasks_changed.emit()

    @Slot()
    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel what has not started, ask running tasks to stop, wait at most ``timeout_ms``."""
        for cb in self._live.values():
            cb.task.cancel()
        self._pool.clear()
        self._writer.clear()
        ok = self._pool.waitForDone(timeout_ms)
        return self._writer.waitForDone(timeout_ms) and ok


def _parameters(fn: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()
