"""QApplication set-up and the GUI entry point."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMainWindow

from app import APP_ID, APP_NAME, __version__
from app.services.context import AppContext
from app.ui import theme

log = logging.getLogger(__name__)


def _qt_messages_to_log(mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's own messages go to our log, not to the user's terminal."""
    if "propagateSizeHints" in message:  # the offscreen plugin's harmless complaint
        return
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
    }.get(mode, logging.ERROR)
    log.log(level, "Qt: %s", message)


def create_application(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName("Modeldeck")
    QApplication.setOrganizationDomain("modeldeck.io")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName(APP_ID)
    qInstallMessageHandler(_qt_messages_to_log)
    qapp = QApplication(argv)
    theme.apply(qapp)
    qapp.setWindowIcon(theme.app_icon())
    return qapp


def run(context: AppContext, argv: list[str]) -> int:
    from app.ui.crash import CrashHandler
    from app.ui.main_window import MainWindow

    qapp = create_application(argv)
    crashes = CrashHandler(context.workspace.log_dir / "modeldeck.log", qapp)
    crashes.install()
    window = MainWindow(context)
    window.tasks.sig_crashed.connect(crashes.task_crashed)
    window.sig_demo_requested.connect(lambda: _open_demo(window))
    window.show()
    window.sync.start()  # first sync after the window is up; never before the first paint
    try:
        code = qapp.exec()
    finally:
        window.shutdown()
        crashes.uninstall()
    return int(code)


def _open_demo(window: QMainWindow) -> None:
    """Start ``modeldeck demo`` as its own process: the demo never mixes with real data."""
    from PySide6.QtCore import QProcess

    QProcess.startDetached(sys.executable, ["-m", "app", "demo"])
    window.statusBar().showMessage("Opening the demo workspace in a new window…", 5000)
