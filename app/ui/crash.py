"""The one error path for bugs: log the traceback, show a crash dialog.

Expected failures (a ``ModeldeckError``: a dead backend, a bad setting) are a
message the page shows in place. Anything else is a bug: it must never look like
an expected error, and never vanish. :class:`CrashHandler` is installed as
``sys.excepthook`` and ``threading.excepthook`` when the app starts, and receives
the background tasks' unexpected failures from ``TaskRunner.sig_crashed``. Each
is logged with its traceback and shown in :class:`CrashDialog`, with "Copy
details" for a bug report (docs/architecture.md, "Errors").
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME, __version__

log = logging.getLogger(__name__)

#: at most this many reports are kept in one dialog (a bug in a paint loop repeats)
MAX_REPORTS = 20


def describe(exc: BaseException, where: str = "") -> str:
    """The details a bug report needs: versions, where, and the full traceback."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if exc.__traceback__ is None:  # raised on a worker: the runner kept its text
        text = getattr(exc, "__traceback_text__", "") or text
    head = (
        f"{APP_NAME} {__version__} · Python {platform.python_version()} · "
        f"PySide6 {pyside_version} · {platform.platform()}"
    )
    return f"{head}\n{('in ' + where + chr(10)) if where else ''}{text.rstrip()}\n"


class CrashDialog(QDialog):
    """Says a bug happened, that nothing was lost, and offers the details to copy."""

    def __init__(self, log_path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle(f"{APP_NAME} — unexpected error")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.resize(640, 420)
        self._log_path = log_path
        self._reports: list[str] = []

        self.summary = QLabel(self)
        self.summary.setObjectName("crashSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint = "Modeldeck keeps running, and the cache keeps its last good state. "
        hint += (
            f"The details are also in the log: {log_path}."
            if log_path is not None
            else "The details are also in the log."
        )
        self.hint = QLabel(hint, self)
        self.hint.setWordWrap(True)
        self.hint.setObjectName("crashHint")

        self.details = QPlainTextEdit(self)
        self.details.setObjectName("crashDetails")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setAccessibleName("Error details")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy details", self)
        self.copy_button.setObjectName("copyDetails")
        self.copy_button.clicked.connect(self.copy_details)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        if log_path is not None:
            open_log = QPushButton("Open log folder", self)
            open_log.clicked.connect(self._open_log_folder)
            buttons.addButton(open_log, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 12)
        lay.setSpacing(8)
        lay.addWidget(self.summary)
        lay.addWidget(self.hint)
        lay.addWidget(self.details, 1)
        lay.addWidget(buttons)

    @property
    def reports(self) -> list[str]:
        return list(self._reports)

    def add(self, exc: BaseException, where: str = "") -> None:
        if len(self._reports) >= MAX_REPORTS:
            return
        self._reports.append(describe(exc, where))
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        what = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
        count = len(self._reports)
        more = f" ({count} errors so far; all are in the details below)" if count > 1 else ""
        self.summary.setText(
            f"<b>Something went wrong inside {APP_NAME}{' (' + where + ')' if where else ''}."
            f"</b><br>{_escape(what)}{more}"
        )
        self.details.setPlainText("\n\n".join(self._reports))

    @Slot()
    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())
        self.copy_button.setText("Copied")

    @Slot()
    def _open_log_folder(self) -> None:
        if self._log_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._log_path.parent)))


class CrashHandler(QObject):
    """Receives every unexpected exception: from Qt callbacks (``sys.excepthook``),
    plain threads (``threading.excepthook``, marshalled to the UI thread) and
    background tasks (``TaskRunner.sig_crashed``)."""

    #: an unexpected exception and where it happened (any thread; queued to the UI thread)
    sig_crashed = Signal(object, str)

    def __init__(self, log_path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._log_path = log_path
        self._dialog: CrashDialog | None = None
        self._previous: tuple[object, object] | None = None
        self.sig_crashed.connect(self.show_crash, Qt.ConnectionType.QueuedConnection)

    @property
    def dialog(self) -> CrashDialog | None:
        return self._dialog

    def install(self) -> None:
        """Become ``sys.excepthook`` and ``threading.excepthook`` (undone by ``uninstall``)."""
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous  # type: ignore[assignment]
            self._previous = None

    def excepthook(
        self,
        kind: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):  # Ctrl+C in the terminal: quit, no dialog
            app = QGuiApplication.instance()
            if app is not None:
                app.quit()
            return
        exc.__traceback__ = tb
        log.error("unexpected error", exc_info=(kind, exc, tb))
        self.sig_crashed.emit(exc, "")

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        where = f"thread {args.thread.name}" if args.thread is not None else "a thread"
        log.error(
            "unexpected error in %s",
            where,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )
        self.sig_crashed.emit(args.exc_value, where)

    @Slot(object, str)
    def show_crash(self, exc: BaseException, where: str = "") -> None:
        """Show (or add to) the crash dialog. Already logged by whoever called."""
        if self._dialog is None:
            self._dialog = CrashDialog(self._log_path)
        self._dialog.add(exc, where)
        self._dialog.show()
        if QGuiApplication.platformName() != "offscreen":  # offscreen cannot raise (warns)
            self._dialog.raise_()

    @Slot(str, object)
    def task_crashed(self, task_name: str, exc: BaseException) -> None:
        """``TaskRunner.sig_crashed``: the runner has logged it already."""
        self.show_crash(exc, f"background task “{task_name}”")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
